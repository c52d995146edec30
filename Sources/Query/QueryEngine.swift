import Core
import Dispatch
import Logging

/// The SQL engine: parse -> bind -> plan -> execute (see README.md in this folder).
///
///     let engine = QueryEngine(catalog: catalog, options: QueryOptions(), logger: logger)
///     let result = try engine.execute(sql: "SELECT event, count(*) FROM events GROUP BY 1")
///     print(result.render(.json))
///
/// Thread-safe: each call runs independently. Errors are `QueryError`s.
public final class QueryEngine: Sendable {
    public let catalog: any Catalog
    public let options: QueryOptions
    let logger: Logger

    public init(catalog: some Catalog, options: QueryOptions = QueryOptions(), logger: Logger) {
        self.catalog = catalog
        self.options = options
        self.logger = logger
        _ = QueryEngine.mallocTuned
    }

    /// Every scan unit decodes its columns into fresh arrays of a few MB and frees them again.
    /// With glibc's defaults such blocks come from mmap (or an arena that is trimmed and
    /// re-faulted), so a scan spent up to a third of its time in page faults and zeroing new
    /// pages. Serving blocks up to 64 MiB from the heap and keeping up to 256 MiB of freed
    /// heap reuses those pages instead. Process-wide, set once; the cost is that up to
    /// 256 MiB of freed memory may stay mapped (measured: `url LIKE` 1.05 s -> 0.70 s).
    private static let mallocTuned: Bool = {
        MallocTuning.set(.mmapThreshold, 64 << 20)
        MallocTuning.set(.trimThreshold, 256 << 20)
        return true
    }()

    /// Parses and binds `sql` without running it; errors in the SQL surface here.
    public func prepare(sql: String) throws -> PreparedQuery {
        let statement = try Parser.parse(sql)
        var binder = Binder(catalog: catalog)
        let bound = try binder.bind(statement.select)
        return PreparedQuery(sql: sql, statement: statement, bound: bound)
    }

    /// Runs one SELECT (or EXPLAIN SELECT) as seen by `scope`.
    public func execute(sql: String, scope: AccessScope = .all) throws -> QueryResult {
        try QueryMetrics.shared.measure { try run(try prepare(sql: sql), scope: scope) }
    }

    /// Runs a prepared query. The table's units are listed again, so new data is seen.
    public func execute(_ prepared: PreparedQuery, scope: AccessScope = .all) throws -> QueryResult {
        try QueryMetrics.shared.measure { try run(prepared, scope: scope) }
    }

    private func run(_ prepared: PreparedQuery, scope: AccessScope) throws -> QueryResult {
        let started = DispatchTime.now().uptimeNanoseconds
        // A count unit answers only with its filter proven true, so it needs proven filters.
        var plan = try Planner(scope: scope, rowCountsFromLog: options.rowCountsFromLog && options.provenFilters)
            .plan(prepared.bound)
        if !options.provenFilters { plan.filterTrueUnits = [] }
        if prepared.isExplain {
            let lines = ExplainRenderer(plan: plan).lines()
            return QueryResult(columns: [ResultColumn(name: "explain", type: .varchar)],
                               rows: lines.map { [.string($0)] })
        }
        let context = ExecutionContext(options: options)
        let rows: [OutputRow]
        do {
            rows = try QueryExecutor(plan: plan, options: options, context: context, logger: logger).run()
        } catch is CancellationError {
            throw QueryError(.internal, "query was cancelled without a recorded cause")
        }
        let visible = plan.query.visibleCount
        let columns = zip(plan.query.outputNames, plan.query.outputTypes).map { ResultColumn(name: $0.0, type: $0.1) }
        var stats = QueryStats()
        stats.elapsedMs = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        stats.unitsTotal = plan.unitsTotal
        stats.unitsPruned = plan.prunedUnits.count
        stats.unitsScanned = context.unitsScanned
        stats.unitsSkipped = context.unitsSkipped
        stats.rowsScanned = context.rowsScanned
        stats.columnsRead = context.columnsRead
        stats.unitsCountedByEntry = context.unitsCountedByEntry
        logger.debug("query finished", metadata: [
            "query.rows": "\(rows.count)", "query.elapsed_ms": "\(stats.elapsedMs)",
            "query.units_scanned": "\(stats.unitsScanned)", "query.units_pruned": "\(stats.unitsPruned)",
        ])
        return QueryResult(columns: columns,
                           rows: rows.map { $0.values.count == visible ? $0.values : Array($0.values.prefix(visible)) },
                           stats: stats)
    }
}

/// A parsed and bound query, reusable across executions.
public struct PreparedQuery: Sendable {
    public let sql: String
    let statement: Statement
    let bound: BoundQuery

    /// Whether the statement was `EXPLAIN SELECT ...`.
    public var isExplain: Bool { statement.explain }

    /// Names and types of the result columns.
    public var columns: [ResultColumn] {
        if isExplain { return [ResultColumn(name: "explain", type: .varchar)] }
        return zip(bound.outputNames, bound.outputTypes).map { ResultColumn(name: $0.0, type: $0.1) }
    }
}
