/// One SQL value. Used for constants, statistics, partition values and results; the
/// execution engine itself works on `Vector`s, not on `Value`s.
public enum Value: Sendable, Hashable {
    case null
    case int64(Int64)
    case double(Double)
    case bool(Bool)
    case string(String)
    /// Microseconds since the Unix epoch, UTC.
    case timestamp(Int64)

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The type of the value; `.null` for NULL.
    public var type: LogicalType {
        switch self {
        case .null: return .null
        case .int64: return .bigint
        case .double: return .double
        case .bool: return .boolean
        case .string: return .varchar
        case .timestamp: return .timestamp
        }
    }
}

extension Value {
    /// SQL ordering between two non-NULL values of comparable types (numbers compare across
    /// BIGINT and DOUBLE; strings bytewise). Returns nil when the values are not comparable.
    func compare(to other: Value) -> Int? {
        switch (self, other) {
        case let (.int64(a), .int64(b)): return a < b ? -1 : (a == b ? 0 : 1)
        case let (.timestamp(a), .timestamp(b)): return a < b ? -1 : (a == b ? 0 : 1)
        case let (.double(a), .double(b)): return compareDoubles(a, b)
        case let (.int64(a), .double(b)): return compareDoubles(Double(a), b)
        case let (.double(a), .int64(b)): return compareDoubles(a, Double(b))
        case let (.bool(a), .bool(b)): return a == b ? 0 : (a ? 1 : -1)
        case let (.string(a), .string(b)): return compareBytes(a, b)
        default: return nil
        }
    }
}

/// DuckDB orders NaN above every other double and treats NaN as equal to NaN.
@inline(__always)
func compareDoubles(_ a: Double, _ b: Double) -> Int {
    if a < b { return -1 }
    if a > b { return 1 }
    if a == b { return 0 }
    if a.isNaN { return b.isNaN ? 0 : 1 }
    return -1
}

/// Bytewise (UTF-8) comparison, like DuckDB's VARCHAR comparison.
func compareBytes(_ a: String, _ b: String) -> Int {
    var a = a, b = b
    return a.withUTF8 { pa in
        b.withUTF8 { pb in compareByteBuffers(pa, pb) }
    }
}

@inline(__always)
func compareByteBuffers(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
    let common = min(a.count, b.count)
    if common > 0 {
        let result = memcmp(a.baseAddress!, b.baseAddress!, common)
        if result != 0 { return result < 0 ? -1 : 1 }
    }
    return a.count < b.count ? -1 : (a.count == b.count ? 0 : 1)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
