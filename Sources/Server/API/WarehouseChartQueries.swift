import Query

/// `ChartQueries` computed from the committed warehouse, always through the engine under the
/// project's `AccessScope`: counts with SQL, "latest event per site" with `LatestEventScan`
/// (the engine's scoped scan). The reference the rollups are tested against.
public struct WarehouseChartQueries: ChartQueries {
    let engine: QueryEngine

    public init(engine: QueryEngine) {
        self.engine = engine
    }

    static let microsPerDay: Int64 = 86_400_000_000
    /// `active_sites` in `stats` looks back this many days before `to` (CONTRACT §7).
    static let activeSitesDays = 14

    public func stats(projectID: String, range: TimeRange) throws -> ProjectStats {
        var stats = ProjectStats()
        let counts = try single(projectID, """
            SELECT count(DISTINCT CASE WHEN event = 'track' THEN site_key END),
                   count(CASE WHEN event = 'deactivate' THEN 1 END),
                   count(DISTINCT CASE WHEN \(Self.countedSkip) THEN site_hash END)
            FROM events WHERE \(SQLText.inRange("received_at", range))
            """)
        stats.optInSites = counts[0]
        stats.deactivations = counts[1]
        stats.skipped = counts[2]
        stats.newSites = try single(projectID, "SELECT count(*) FROM sites WHERE \(SQLText.inRange("first_seen", range))")[0]
        let window = TimeRange(from: range.to - Int64(Self.activeSitesDays) * Self.microsPerDay, to: range.to)
        let latest = try LatestEventScan(engine: engine).latestPerSite(projectID: projectID, window: window)
        stats.activeSites = Int64(latest.values.filter { $0.event == "track" }.count)
        return stats
    }

    public func timeseries(projectID: String, request: TimeseriesRequest) throws -> [TimeSeries] {
        guard let starts = request.interval.starts(covering: request.range, limit: Int.max) else { return [] }
        let (table, aggregate, condition) = Self.counting(request.metric)
        let bucket = "date_trunc('\(request.interval.rawValue)', \(SQLText.identifier(request.metric.timeColumn)))"
        var sql = "SELECT \(bucket)"
        if let breakdown = request.breakdown { sql += ", \(SQLText.identifier(breakdown))" }
        sql += ", \(aggregate) FROM \(table) WHERE \(SQLText.inRange(request.metric.timeColumn, request.range))"
        if let condition { sql += " AND \(condition)" }
        sql += request.breakdown == nil ? " GROUP BY 1" : " GROUP BY 1, 2"
        let rows = try engine.execute(sql: sql, scope: .project(projectID)).rows
        let assembler = SeriesAssembler(bucketStarts: starts)
        if request.breakdown == nil {
            return assembler.single(rows.map { SeriesAssembler.Cell(bucket: Self.timestamp($0[0]), key: .null, count: Self.int($0[1])) })
        }
        let cells = rows.map { SeriesAssembler.Cell(bucket: Self.timestamp($0[0]), key: $0[1], count: Self.int($0[2])) }
        return assembler.brokenDown(cells, limit: request.limit)
    }

    public func breakdown(projectID: String, request: BreakdownRequest) throws -> BreakdownResult {
        let window = TimeRange(from: request.at - Int64(request.activeDays) * Self.microsPerDay, to: request.at)
        let latest = try LatestEventScan(engine: engine)
            .latestPerSite(projectID: projectID, window: window, column: request.dimension)
        var sitesByValue: [Value: Int64] = [:]
        var total: Int64 = 0
        for event in latest.values where event.event == "track" {
            sitesByValue[event.value, default: 0] += 1
            total += 1
        }
        let ordered = sitesByValue.sorted { a, b in a.value != b.value ? a.value > b.value : ValueOrder.ascending(a.key, b.key) }
        let listed = ordered.prefix(request.limit).map { (value: $0.key, sites: $0.value) }
        return BreakdownResult(total: total, values: listed, other: total - listed.reduce(0) { $0 + $1.sites })
    }

    /// A skip counts once per site_hash unless the site says it had skipped before.
    static let countedSkip = "event = 'skip' AND coalesce(previously_skipped, false) = false"

    /// The table, aggregate and row condition of a metric.
    static func counting(_ metric: TimeseriesMetric) -> (table: String, aggregate: String, condition: String?) {
        switch metric {
        case .events: return ("events", "count(*)", nil)
        case .sites: return ("events", "count(DISTINCT site_key)", "event = 'track'")
        case .newSites: return ("sites", "count(*)", nil)
        case .deactivations: return ("events", "count(*)", "event = 'deactivate'")
        case .skips: return ("events", "count(DISTINCT site_hash)", countedSkip)
        }
    }

    private func single(_ projectID: String, _ sql: String) throws -> [Int64] {
        guard let row = try engine.execute(sql: sql, scope: .project(projectID)).rows.first else {
            throw QueryError(.internal, "an aggregate without GROUP BY returned no row")
        }
        return row.map(Self.int)
    }

    private static func int(_ value: Value) -> Int64 {
        if case .int64(let n) = value { return n }
        return 0
    }

    private static func timestamp(_ value: Value) -> Int64 {
        if case .timestamp(let micros) = value { return micros }
        return Int64.min
    }
}
