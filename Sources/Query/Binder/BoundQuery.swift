import Core

/// The binder's output: a SELECT with every name resolved and every expression typed.
/// Expressions below the aggregate (`filter`, `groups`, aggregate arguments, and `projections`
/// when `isAggregate` is false) read the table's columns by schema index. `having` and the
/// `projections` of an aggregate query read the aggregate's output: group keys first, then
/// aggregate results, in order.
struct BoundQuery {
    var source: (any ScanSource)?
    var schema: TableSchema
    var filter: BoundExpression?
    var isAggregate: Bool
    var groups: [BoundExpression]
    var aggregates: [BoundAggregate]
    var having: BoundExpression?
    /// Visible columns first, then hidden ones that only ORDER BY uses.
    var projections: [BoundExpression]
    var visibleCount: Int
    var outputNames: [String]
    var distinct: Bool
    var orderBy: [SortKey]
    var limit: Int?
    var offset: Int

    var outputTypes: [LogicalType] { projections.prefix(visibleCount).map(\.type) }
}

/// One ORDER BY key: a position in the projection list.
struct SortKey: Sendable {
    var column: Int
    var descending: Bool
    var nullsFirst: Bool
}

enum AggregateKind: String, Sendable {
    case countStar = "count_star"
    case count, sum, avg, min, max
    case approxCountDistinct = "approx_count_distinct"
}

struct BoundAggregate {
    var kind: AggregateKind
    /// nil only for count(*).
    var argument: BoundExpression?
    var distinct: Bool
    var type: LogicalType

    var key: String { "\(kind.rawValue)(\(distinct ? "DISTINCT " : "")\(argument?.key ?? ""))" }
}
