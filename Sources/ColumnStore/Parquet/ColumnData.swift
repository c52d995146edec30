import Core

/// Variable-length strings as one byte buffer plus `count + 1` offsets, so a column of
/// strings is two allocations rather than one object per value.
public struct StringColumn: Equatable, Sendable {
    /// `offsets[i]..<offsets[i+1]` is value `i` in `bytes`; `offsets[0] == 0`.
    public var offsets: [Int32]
    /// UTF-8 bytes of all values back to back.
    public var bytes: [UInt8]

    public init() {
        offsets = [0]
        bytes = []
    }

    public init(offsets: [Int32], bytes: [UInt8]) {
        precondition(!offsets.isEmpty && offsets[0] == 0, "StringColumn offsets must start with 0")
        self.offsets = offsets
        self.bytes = bytes
    }

    public init<S: Sequence>(_ values: S) where S.Element == String {
        self.init()
        for value in values { append(value) }
    }

    public var count: Int { offsets.count - 1 }

    /// Byte range of value `index` in `bytes`.
    @inlinable
    public func range(at index: Int) -> Range<Int> {
        Int(offsets[index])..<Int(offsets[index + 1])
    }

    /// Value `index` decoded as a Swift String (allocates; use `range(at:)` in hot loops).
    public subscript(index: Int) -> String {
        String(decoding: bytes[range(at: index)], as: UTF8.self)
    }

    public mutating func append(_ value: String) {
        var value = value
        value.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    public mutating func append(bytes value: UnsafeRawBufferPointer) {
        precondition(bytes.count + value.count <= Int(Int32.max), "StringColumn holds at most 2 GiB of bytes")
        bytes.append(contentsOf: value)
        offsets.append(Int32(truncatingIfNeeded: bytes.count))
    }

    /// Appends all values of `other` (its bytes in one copy, its offsets rebased).
    mutating func append(contentsOf other: StringColumn) {
        precondition(bytes.count + other.bytes.count <= Int(Int32.max), "StringColumn holds at most 2 GiB of bytes")
        let base = Int32(truncatingIfNeeded: bytes.count)
        bytes.append(contentsOf: other.bytes)
        // No reserveCapacity here: an exact reserve per call would defeat the array's
        // geometric growth (a chunk appends ~20,000 small batches).
        other.offsets.withUnsafeBufferPointer { source in
            for index in 1..<source.count { offsets.append(base &+ source[index]) }
        }
    }

    /// Appends the values at `rows` of a source given as its offsets and bytes, in that order
    /// (a gather). With `codes`, a row's value is `codes[row]` (a dictionary's), and a code
    /// past the source's values appends an empty value (a NULL row of an all-NULL column).
    /// Two passes — the sizes, then one copy per value into bytes appended once — so a value
    /// costs a copy, not an array growth check; the buffers grow geometrically across calls.
    mutating func appendGathered(offsets source: UnsafeBufferPointer<Int32>, bytes sourceBytes: UnsafeRawBufferPointer,
                                 rows: UnsafeBufferPointer<Int32>, codes: UnsafeBufferPointer<UInt32>? = nil) {
        guard !rows.isEmpty else { return }
        let entries = source.count - 1
        @inline(__always) func entry(_ row: Int32) -> Int { if let codes { Int(codes[Int(row)]) } else { Int(row) } }
        var total = 0
        for row in rows {
            let index = entry(row)
            if index < entries { total &+= Int(source[index &+ 1] &- source[index]) }
        }
        let start = bytes.count
        precondition(start + total <= Int(Int32.max), "StringColumn holds at most 2 GiB of bytes")
        if bytes.capacity < start + total { bytes.reserveCapacity(max(start + total, bytes.capacity * 2)) }
        let firstOffset = offsets.count
        if offsets.capacity < firstOffset + rows.count { offsets.reserveCapacity(max(firstOffset + rows.count, offsets.capacity * 2)) }
        bytes.append(contentsOf: repeatElement(0, count: total))
        offsets.append(contentsOf: repeatElement(0, count: rows.count))
        bytes.withUnsafeMutableBytes { target in
            offsets.withUnsafeMutableBufferPointer { targetOffsets in
                var at = start
                var slot = firstOffset
                for row in rows {
                    let index = entry(row)
                    if index < entries {
                        let from = Int(source[index]), length = Int(source[index &+ 1]) &- from
                        // In bounds: `total` summed these lengths and `target` was grown by it.
                        if length > 0 { (target.baseAddress! + at).copyMemory(from: sourceBytes.baseAddress! + from, byteCount: length) }
                        at &+= length
                    }
                    targetOffsets[slot] = Int32(truncatingIfNeeded: at)
                    slot &+= 1
                }
                precondition(at == start + total, "StringColumn gather wrote other than it sized")
            }
        }
    }

    /// Appends an empty value (placeholder for a null slot).
    public mutating func appendEmpty() {
        offsets.append(offsets[offsets.count - 1])
    }

    public mutating func reserveCapacity(values: Int, bytes byteCount: Int) {
        offsets.reserveCapacity(values + 1)
        bytes.reserveCapacity(byteCount)
    }
}

/// The value arrays of a column. Null slots hold a placeholder (0, false, empty string,
/// dictionary code 0) so every array is dense and index-aligned with rows.
public enum ColumnStorage: Equatable, Sendable {
    /// `.int64` and `.timestamp` columns.
    case int64([Int64])
    case double([Double])
    /// One byte per value, 0 or 1.
    case bool([UInt8])
    case strings(StringColumn)
    /// String column as distinct values plus one code per row; lets the engine group and
    /// filter per dictionary entry. When storage is `.dictionary` and a row is valid its code
    /// is `< dictionary.count`; null rows hold code 0.
    case dictionary(dictionary: StringColumn, codes: [UInt32])
}

/// One column of a row group: the writer's input and the reader's output.
public struct ColumnData: Equatable, Sendable {
    public var kind: ColumnKind
    /// Number of rows (including nulls).
    public var count: Int
    /// Validity bitmap, bit `i % 8` of byte `i / 8` set = row `i` is not null (LSB first);
    /// `nil` means every row is valid.
    public var validity: [UInt8]?
    public var storage: ColumnStorage

    public init(kind: ColumnKind, count: Int, validity: [UInt8]?, storage: ColumnStorage) {
        self.kind = kind
        self.count = count
        self.validity = validity
        self.storage = storage
    }

    @inlinable
    public func isValid(_ row: Int) -> Bool {
        guard let validity else { return true }
        return validity[row >> 3] & (1 << UInt8(row & 7)) != 0
    }

    /// Number of null rows.
    public var nullCount: Int {
        guard let validity else { return 0 }
        var valid = 0
        let fullBytes = count >> 3
        for index in 0..<fullBytes { valid += validity[index].nonzeroBitCount }
        for row in (fullBytes << 3)..<count where isValid(row) { valid += 1 }
        return count - valid
    }
}
