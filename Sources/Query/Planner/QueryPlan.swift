/// What the executor runs: the bound query plus the planner's decisions (which units to
/// scan, which columns to read and in what order, the combined filter).
struct QueryPlan {
    var query: BoundQuery
    /// Access-control filter plus WHERE, constant-folded; evaluated inside the scan.
    var filter: BoundExpression?
    /// Units that may hold matching rows, in table order.
    var units: [any ScanUnit]
    var prunedUnits: [(name: String, reason: String)]
    var unitsTotal: Int
    /// Schema indices the filter needs; read first for each unit.
    var filterColumns: [Int]
    /// Other schema indices the query needs; read only when some row of the unit passes.
    var otherColumns: [Int]
    /// Filter columns nothing after the filter reads: the scan does not gather their
    /// passing rows.
    var filterOnlyColumns: Set<Int> = []
    /// Timestamp columns the query reads only as `date_trunc(part, column)`, with those parts.
    /// In a unit whose min and max truncate alike for every part (and which has no NULLs),
    /// the column is the constant min and is never read: time-sorted row groups usually
    /// lie within one month, and often within one week.
    var truncatedOnlyColumns: [Int: [DatePart]] = [:]
    /// Names of the units every row of which passes `filter` (`UnitPruner.isAlwaysTrue`):
    /// their scan evaluates no filter and reads no filter-only column.
    var filterTrueUnits: Set<String> = []
    /// Rows the scan may stop after (LIMIT + OFFSET of a plain, unordered, ungrouped query).
    var scanRowsMax: Int?
}
