/// Limits and knobs for one engine. Every limit produces a clear `QueryError`, never a crash.
public struct QueryOptions: Sendable {
    /// Wall-clock limit per query, checked between batches; nil = none.
    public var timeoutMs: Int?
    /// Budget for hash tables, DISTINCT sets, sort buffers and collected rows (estimated bytes).
    public var memoryBytesMax: Int
    /// Largest result a query may return.
    public var resultRowsMax: Int
    /// Worker threads for scanning; defaults to the number of active cores.
    public var threadsMax: Int
    /// Top-N queries read their non-key columns for the candidate rows only
    /// (`TopNRowNarrowing`); off only to compare answers in tests.
    public var lateMaterialization = true
    /// Units whose every row provably passes the filter (`QueryPlan.filterTrueUnits`) are
    /// scanned without it; off only to compare answers in tests.
    public var provenFilters = true
    /// `count(*)` alone counts the rows the warehouse log records per file (`Planner` step 5)
    /// when nothing else is needed; off only to compare answers in tests.
    public var rowCountsFromLog = true
    /// `count(*)` by one string column takes each unit's rows per dictionary entry from
    /// storage (`ScanUnit.countEntries`) instead of a code per row; off only to compare
    /// answers in tests.
    public var entryCountsFromStorage = true

    public init(timeoutMs: Int? = 30_000, memoryBytesMax: Int = 1 << 30, resultRowsMax: Int = 100_000,
                threadsMax: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.timeoutMs = timeoutMs
        self.memoryBytesMax = memoryBytesMax
        self.resultRowsMax = resultRowsMax
        self.threadsMax = max(1, threadsMax)
    }
}

/// Which rows a caller may see. The engine applies the scope's predicate below everything
/// else in the plan (before the user's WHERE, in pruning too), so rows outside the scope
/// are invisible to every clause and aggregate.
public struct AccessScope: Sendable, Hashable {
    /// When set, only rows with `project_id = projectID` exist for the query.
    public var projectID: String?

    public init(projectID: String? = nil) {
        self.projectID = projectID
    }

    /// Every row (admin access).
    public static let all = AccessScope()

    /// Only one project's rows.
    public static func project(_ id: String) -> AccessScope { AccessScope(projectID: id) }
}

import Foundation
