// A copy of ColumnStore's decoded-column types, kept here until ColumnStore exports them.
// When ColumnStore ships `ColumnData`, delete this file and `import ColumnStore` instead:
// the names and shapes are meant to be identical.

/// The logical kind of a stored column.
public enum ColumnKind: Sendable {
    case string
    case int64
    /// Microseconds since the Unix epoch, UTC, stored as `.int64`.
    case timestamp
    case bool
    case double
}

/// Variable-length strings as one byte buffer plus `count + 1` offsets into it.
public struct StringColumn: Sendable {
    public var offsets: [Int32]
    public var bytes: [UInt8]

    public init(offsets: [Int32], bytes: [UInt8]) {
        self.offsets = offsets
        self.bytes = bytes
    }

    public var count: Int { offsets.count - 1 }
}

/// The physical values of a column. Every case holds one entry per row (`ColumnData.count`),
/// including rows that are NULL; the entry of a NULL row is unspecified.
public enum ColumnStorage: Sendable {
    case int64([Int64])
    case double([Double])
    /// One byte per row, 0 or 1.
    case bool([UInt8])
    case strings(StringColumn)
    /// Dictionary-encoded strings: `codes[row]` indexes `dictionary`.
    case dictionary(dictionary: StringColumn, codes: [UInt32])
}

/// One decoded column chunk (for example one Parquet column chunk of one row group).
public struct ColumnData: Sendable {
    public var kind: ColumnKind
    public var count: Int
    /// LSB-first validity bitmap, bit set = value present; nil = every row is valid.
    public var validity: [UInt8]?
    public var storage: ColumnStorage

    public init(kind: ColumnKind, count: Int, validity: [UInt8]?, storage: ColumnStorage) {
        self.kind = kind
        self.count = count
        self.validity = validity
        self.storage = storage
    }
}

extension StringColumn {
    /// Builds a column from Swift strings.
    public init(_ strings: [String]) {
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(strings.count + 1)
        var bytes: [UInt8] = []
        for string in strings {
            bytes.append(contentsOf: string.utf8)
            offsets.append(Int32(bytes.count))
        }
        self.init(offsets: offsets, bytes: bytes)
    }
}
