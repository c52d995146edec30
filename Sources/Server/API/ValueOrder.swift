import Query

/// SQL ascending order of result values as the engine sorts them (DuckDB's): numbers by value,
/// strings bytewise (UTF-8), false before true, NULL last. Used where the API sorts values
/// itself (breakdown values, series keys) so ties resolve as an `ORDER BY … ASC` would.
enum ValueOrder {
    static func ascending(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.null, _): return false
        case (_, .null): return true
        case let (.int64(x), .int64(y)): return x < y
        case let (.timestamp(x), .timestamp(y)): return x < y
        case let (.double(x), .double(y)): return x < y
        case let (.bool(x), .bool(y)): return !x && y
        case let (.string(x), .string(y)): return x.utf8.lexicographicallyPrecedes(y.utf8)
        default: return rank(a) < rank(b) // mixed types do not occur within one column
        }
    }

    private static func rank(_ value: Value) -> Int {
        switch value {
        case .null: return 6
        case .bool: return 0
        case .int64: return 1
        case .double: return 2
        case .timestamp: return 3
        case .string: return 4
        }
    }
}
