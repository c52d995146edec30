import Core

/// The SQL types the engine computes with. Names follow DuckDB so results look the same.
public enum LogicalType: Sendable, Hashable, CustomStringConvertible {
    case varchar
    case bigint
    case double
    case boolean
    /// Microseconds since the Unix epoch, UTC.
    case timestamp
    /// The type of a bare NULL literal before anything gives it a real type.
    case null

    /// The DuckDB spelling used in result metadata and error messages.
    public var name: String {
        switch self {
        case .varchar: return "VARCHAR"
        case .bigint: return "BIGINT"
        case .double: return "DOUBLE"
        case .boolean: return "BOOLEAN"
        case .timestamp: return "TIMESTAMP"
        case .null: return "NULL"
        }
    }

    public var description: String { name }

    var isNumeric: Bool { self == .bigint || self == .double }

    init(_ kind: ColumnKind) {
        switch kind {
        case .string: self = .varchar
        case .int64: self = .bigint
        case .timestamp: self = .timestamp
        case .bool: self = .boolean
        case .double: self = .double
        }
    }
}
