import ColumnStore
import Core

// The boundary between the engine and storage. A table is a list of scan units (for Parquet:
// one row group of one file). The planner looks at partition values and statistics to skip
// units, then the scan reads only the columns it needs from the units it keeps.

/// Min/max/null statistics of one column in one scan unit. Any field may be nil when the
/// writer did not record it; `min`/`max` must bound every non-NULL value of the unit (a
/// truncated string max must be rounded up by the writer, never down).
public struct ColumnStatistics: Sendable {
    public var min: Value?
    public var max: Value?
    public var nullCount: Int?

    public init(min: Value? = nil, max: Value? = nil, nullCount: Int? = nil) {
        self.min = min
        self.max = max
        self.nullCount = nullCount
    }
}

/// One unit of scanning: a Parquet row group, or an in-memory batch in tests.
public protocol ScanUnit: Sendable {
    /// Human-readable identity for EXPLAIN and logs, e.g. "events/acme/2026-01/part-0.parquet#rg0".
    var name: String { get }
    var rowCount: Int { get }
    /// Values fixed for the whole unit by its location, e.g. `project_id` and, for events,
    /// `month` as "YYYY-MM" (UTC month of `received_at`).
    var partitionValues: [String: String] { get }
    /// Statistics of the named column, or nil when none were recorded.
    func statistics(column: String) -> ColumnStatistics?
    /// Reads the whole column of this unit; nil when the file has no such column (all NULL).
    func readColumn(name: String) throws -> ColumnData?
    /// Reads rows `rows` of the column (`rows.count` rows); nil as for `readColumn(name:)`.
    /// Storage that can decode part of a column (Parquet pages) does only that work.
    func readColumn(name: String, rows: Range<Int>) throws -> ColumnData?
    /// Rows per dictionary entry of a string column, counted from storage without a code per
    /// row (`count(*) … GROUP BY` that column); nil when the storage cannot say so for this
    /// unit (the default: the caller reads the column).
    func countEntries(column name: String) throws -> ParquetEntryCounts?
}

extension ScanUnit {
    public func countEntries(column name: String) throws -> ParquetEntryCounts? { nil }

    public func readColumn(name: String, rows: Range<Int>) throws -> ColumnData? {
        try readColumn(name: name).map { $0.slice(rows) }
    }
}

/// What a table offers the engine: its schema and its scan units.
public protocol ScanSource: Sendable {
    var schema: TableSchema { get }
    /// See the extension: row counts only, or nil.
    func rowCountUnits(projectID: String?) throws -> [any ScanUnit]?
    /// All units of the table at the moment of the call. Called once per query.
    func scanUnits() throws -> [any ScanUnit]
    /// The units of one project only (`nil`: all). A source that knows each file's project
    /// before opening it implements this so a scoped query never opens, nor fails on, another
    /// project's files.
    func scanUnits(projectID: String?) throws -> [any ScanUnit]
}

extension ScanSource {
    /// Units that carry only their row counts and partition values — no columns, no
    /// statistics — known without opening a file (the log records each file's rows): for
    /// queries that need nothing else (`count(*)`, under a filter on partition values at
    /// most). nil when the source cannot say (the default; `sites`, whose rows depend on
    /// which newer layer replaced them).
    public func rowCountUnits(projectID: String?) throws -> [any ScanUnit]? { nil }

    public func scanUnits(projectID: String?) throws -> [any ScanUnit] {
        guard let projectID else { return try scanUnits() }
        // A unit without the key may hold any project's rows: the scope's predicate filters them.
        return try scanUnits().filter { unit in unit.partitionValues["project_id"].map { $0 == projectID } ?? true }
    }
}

/// Resolves table names for the binder.
public protocol Catalog: Sendable {
    /// The table named `name` (lowercase), or nil if there is none.
    func table(named name: String) throws -> (any ScanSource)?
    /// Names of every table, for "did you mean" in errors.
    var tableNames: [String] { get }
}
