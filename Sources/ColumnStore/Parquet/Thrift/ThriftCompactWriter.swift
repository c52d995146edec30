/// Thrift compact protocol encoder, only the parts Parquet metadata uses.
///
/// Field ids are written as deltas from the previous field of the *same* struct, so the
/// writer keeps a stack of last field ids, one per open struct.
struct ThriftCompactWriter {
    private(set) var bytes: [UInt8] = []
    private var lastFieldIds: [Int16] = [0]

    init() { bytes.reserveCapacity(256) }

    // MARK: Structs

    mutating func structBegin() { lastFieldIds.append(0) }

    mutating func structEnd() {
        bytes.append(0) // stop field
        lastFieldIds.removeLast()
    }

    /// Writes a nested struct field; `body` writes the struct's fields.
    mutating func fieldStruct(_ id: Int16, _ body: (inout ThriftCompactWriter) -> Void) {
        fieldHeader(id, .structure)
        structBegin()
        body(&self)
        structEnd()
    }

    // MARK: Scalar fields

    mutating func fieldBool(_ id: Int16, _ value: Bool) {
        fieldHeader(id, value ? .boolTrue : .boolFalse)
    }

    mutating func fieldI8(_ id: Int16, _ value: Int8) {
        fieldHeader(id, .i8)
        bytes.append(UInt8(bitPattern: value))
    }

    mutating func fieldI32(_ id: Int16, _ value: Int32) {
        fieldHeader(id, .i32)
        writeVarint(zigzag(Int64(value)))
    }

    mutating func fieldI64(_ id: Int16, _ value: Int64) {
        fieldHeader(id, .i64)
        writeVarint(zigzag(value))
    }

    mutating func fieldBinary(_ id: Int16, _ value: [UInt8]) {
        fieldHeader(id, .binary)
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func fieldString(_ id: Int16, _ value: String) {
        fieldBinary(id, Array(value.utf8))
    }

    // MARK: Lists

    mutating func fieldListI32(_ id: Int16, _ values: [Int32]) {
        fieldHeader(id, .list)
        listHeader(.i32, values.count)
        for value in values { writeVarint(zigzag(Int64(value))) }
    }

    mutating func fieldListString(_ id: Int16, _ values: [String]) {
        fieldHeader(id, .list)
        listHeader(.binary, values.count)
        for value in values {
            let utf8 = Array(value.utf8)
            writeVarint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// List of structs; `element` writes the fields of element `index`.
    mutating func fieldListStruct(_ id: Int16, count: Int, _ element: (inout ThriftCompactWriter, Int) -> Void) {
        fieldHeader(id, .list)
        listHeader(.structure, count)
        for index in 0..<count {
            structBegin()
            element(&self, index)
            structEnd()
        }
    }

    // MARK: Primitives

    private mutating func fieldHeader(_ id: Int16, _ type: ThriftType) {
        let last = lastFieldIds[lastFieldIds.count - 1]
        let delta = Int(id) - Int(last)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta << 4) | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeVarint(zigzag(Int64(id)))
        }
        lastFieldIds[lastFieldIds.count - 1] = id
    }

    private mutating func listHeader(_ elementType: ThriftType, _ count: Int) {
        if count < 15 {
            bytes.append(UInt8(count << 4) | elementType.rawValue)
        } else {
            bytes.append(0xF0 | elementType.rawValue)
            writeVarint(UInt64(count))
        }
    }

    private func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    private mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}

/// Compact protocol type nibbles.
enum ThriftType: UInt8 {
    case boolTrue = 1, boolFalse = 2, i8 = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
    case binary = 8, list = 9, set = 10, map = 11, structure = 12, uuid = 13
}
