/// A statistics bound decoded to the column's logical kind (timestamps in microseconds).
public enum ParquetValue: Equatable, Sendable, CustomStringConvertible {
    case int64(Int64)
    case double(Double)
    case bool(Bool)
    /// Raw string bytes (UTF-8 unless a writer truncated a bound mid-character).
    case bytes([UInt8])

    public var string: String? {
        if case .bytes(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    public var description: String {
        switch self {
        case .int64(let value): "\(value)"
        case .double(let value): "\(value)"
        case .bool(let value): "\(value)"
        case .bytes: "\"\(string!)\""
        }
    }
}

/// Footer facts about one column chunk, for pruning and inspection.
public struct ParquetColumnChunkInfo: Sendable {
    public var physicalType: ParquetPhysicalType
    public var codec: ParquetCodec
    public var encodings: [ParquetEncoding]
    /// Values including nulls (equals the row group's row count for flat columns).
    public var valueCount: Int
    /// Nil when the writer did not record it (do not assume 0).
    public var nullCount: Int?
    public var min: ParquetValue?
    public var max: ParquetValue?
    public var compressedByteCount: Int
    public var uncompressedByteCount: Int
    public var dataPageOffset: Int
    public var dictionaryPageOffset: Int?
    /// From encoding_stats: true when every data page is dictionary-encoded, nil if unknown.
    public var isFullyDictionaryEncoded: Bool?
}

/// Footer facts about one row group.
public struct ParquetRowGroupInfo: Sendable {
    public var rowCount: Int
    public var totalByteCount: Int
    public var columns: [ParquetColumnChunkInfo]
}

/// How a schema leaf is stored, beyond its engine-facing `ColumnKind`.
struct ParquetLeaf {
    var column: ParquetColumn
    var physicalType: ParquetPhysicalType
    /// Set for TIMESTAMP columns.
    var timeUnit: ParquetTimeUnit?
    var maxDefinitionLevel: Int { column.isOptional ? 1 : 0 }
}
