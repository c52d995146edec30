/// Thrift compact protocol decoder for hostile input.
///
/// Every read is bounds-checked, every length is checked against the bytes left, nesting
/// is limited, and unknown fields of every type are skipped, so a damaged footer or page
/// header yields a `ParquetError(.badThrift)` instead of a crash or an endless loop.
struct ThriftCompactReader {
    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int
    private var depth = 0
    /// Deep enough for Parquet metadata (FileMetaData > RowGroup > ColumnChunk > ColumnMetaData > Statistics ...).
    static let depthMax = 32

    init(bytes: [UInt8], start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.position = max(0, min(start, bytes.count))
        self.end = max(self.position, min(end ?? bytes.count, bytes.count))
    }

    var bytesLeft: Int { end - position }

    static func error(_ message: String) -> ParquetError { ParquetError(.badThrift, message) }

    // MARK: Structs

    /// Reads one struct: calls `field` for each field header; `field` must consume the value
    /// (or call `skip`). Restores the delta base for field ids of the enclosing struct.
    mutating func readStruct(_ field: (inout ThriftCompactReader, Int16, ThriftType) throws -> Void) throws {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.depthMax { throw Self.error("nesting deeper than \(Self.depthMax)") }
        var lastId: Int16 = 0
        while true {
            let header = try readByte()
            if header == 0 { return }
            guard let type = ThriftType(rawValue: header & 0x0F) else {
                throw Self.error("unknown field type \(header & 0x0F) at byte \(position - 1)")
            }
            let delta = Int16(header >> 4)
            let id: Int16
            if delta != 0 {
                id = lastId &+ delta
            } else {
                let raw = try readZigzag()
                guard raw >= Int64(Int16.min), raw <= Int64(Int16.max) else { throw Self.error("field id \(raw) out of range") }
                id = Int16(raw)
            }
            lastId = id
            try field(&self, id, type)
        }
    }

    // MARK: Values

    mutating func readI32(_ type: ThriftType) throws -> Int32 {
        switch type {
        case .i8: return Int32(Int8(bitPattern: try readByte()))
        case .i16, .i32:
            let value = try readZigzag()
            guard let narrow = Int32(exactly: value) else { throw Self.error("i32 value \(value) out of range") }
            return narrow
        default: throw Self.error("expected i32, found type \(type)")
        }
    }

    mutating func readI64(_ type: ThriftType) throws -> Int64 {
        switch type {
        case .i8: return Int64(Int8(bitPattern: try readByte()))
        case .i16, .i32, .i64: return try readZigzag()
        default: throw Self.error("expected i64, found type \(type)")
        }
    }

    mutating func readBool(_ type: ThriftType) throws -> Bool {
        switch type {
        case .boolTrue: return true
        case .boolFalse: return false
        default: throw Self.error("expected bool, found type \(type)")
        }
    }

    mutating func readBinary(_ type: ThriftType) throws -> [UInt8] {
        guard type == .binary else { throw Self.error("expected binary, found type \(type)") }
        let count = try readLength()
        let value = Array(bytes[position..<position + count])
        position += count
        return value
    }

    mutating func readString(_ type: ThriftType) throws -> String {
        String(decoding: try readBinary(type), as: UTF8.self)
    }

    /// Reads a list header; the count is checked against the bytes left (every element
    /// takes at least one byte), so a corrupt count cannot drive a huge loop.
    mutating func readListHeader(_ type: ThriftType) throws -> (elementType: ThriftType, count: Int) {
        guard type == .list || type == .set else { throw Self.error("expected list, found type \(type)") }
        let header = try readByte()
        guard let elementType = ThriftType(rawValue: header & 0x0F) else {
            throw Self.error("unknown list element type \(header & 0x0F)")
        }
        var count = Int(header >> 4)
        if count == 15 { count = try readLength() }
        guard count <= bytesLeft else { throw Self.error("list of \(count) elements in \(bytesLeft) bytes") }
        return (elementType, count)
    }

    mutating func readListI32(_ type: ThriftType) throws -> [Int32] {
        let (elementType, count) = try readListHeader(type)
        var values: [Int32] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try readI32(elementType)) }
        return values
    }

    mutating func readListString(_ type: ThriftType) throws -> [String] {
        let (elementType, count) = try readListHeader(type)
        var values: [String] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try readString(elementType)) }
        return values
    }

    mutating func readListStruct<T>(_ type: ThriftType, _ element: (inout ThriftCompactReader) throws -> T) throws -> [T] {
        let (elementType, count) = try readListHeader(type)
        guard elementType == .structure else { throw Self.error("expected list of structs, found \(elementType)") }
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try element(&self)) }
        return values
    }

    // MARK: Skipping

    /// Skips a value of any type, recursing into containers with the same depth limit.
    mutating func skip(_ type: ThriftType) throws {
        switch type {
        case .boolTrue, .boolFalse: return
        case .i8: _ = try readByte()
        case .i16, .i32, .i64: _ = try readVarint()
        case .double: try advance(8)
        case .uuid: try advance(16)
        case .binary: try advance(try readLength())
        case .list, .set:
            let (elementType, count) = try readListHeader(type)
            try nested {
                for _ in 0..<count { try $0.skipElement(elementType) }
            }
        case .map:
            let count = try readLength()
            if count == 0 { return }
            let types = try readByte()
            guard let keyType = ThriftType(rawValue: types >> 4), let valueType = ThriftType(rawValue: types & 0x0F) else {
                throw Self.error("unknown map element types \(types)")
            }
            guard count <= bytesLeft else { throw Self.error("map of \(count) entries in \(bytesLeft) bytes") }
            try nested {
                for _ in 0..<count {
                    try $0.skipElement(keyType)
                    try $0.skipElement(valueType)
                }
            }
        case .structure:
            try readStruct { reader, _, fieldType in try reader.skip(fieldType) }
        }
    }

    /// Container elements: bools take one byte there (unlike struct fields).
    private mutating func skipElement(_ type: ThriftType) throws {
        if type == .boolTrue || type == .boolFalse { _ = try readByte() } else { try skip(type) }
    }

    private mutating func nested(_ body: (inout ThriftCompactReader) throws -> Void) throws {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.depthMax { throw Self.error("nesting deeper than \(Self.depthMax)") }
        try body(&self)
    }

    // MARK: Primitives

    private mutating func readByte() throws -> UInt8 {
        guard position < end else { throw Self.error("unexpected end of data at byte \(position)") }
        let byte = bytes[position]
        position += 1
        return byte
    }

    private mutating func advance(_ count: Int) throws {
        guard count >= 0, count <= bytesLeft else { throw Self.error("need \(count) bytes, \(bytesLeft) left") }
        position += count
    }

    private mutating func readLength() throws -> Int {
        let raw = try readVarint()
        guard raw <= UInt64(bytesLeft) else { throw Self.error("length \(raw) exceeds the \(bytesLeft) bytes left") }
        return Int(raw)
    }

    private mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 64 else { throw Self.error("varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private mutating func readZigzag() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }
}
