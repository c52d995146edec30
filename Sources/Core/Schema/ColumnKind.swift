/// The kind of a column's values: what a table schema declares, what ColumnStore's Parquet
/// writer and reader store and decode (`ColumnData`), and what the query engine types.
public enum ColumnKind: String, Sendable, Equatable, CaseIterable {
    /// UTF-8 text (Parquet BYTE_ARRAY, STRING).
    case string
    /// Signed 64-bit integer (Parquet INT64; INT32 is widened on read).
    case int64
    /// Microseconds since the Unix epoch, UTC (Parquet INT64 TIMESTAMP; millis/nanos normalized on read).
    case timestamp
    /// Boolean, stored one byte per value.
    case bool
    /// 64-bit float (Parquet DOUBLE; FLOAT is widened on read).
    case double
}
