import Core
import Foundation
import Synchronization

/// `ChartQueries` answered from the rollups, falling back to `fallback` (the scan of the
/// warehouse) for what they cannot answer: rollups not built yet, a breakdown on a column
/// outside `RollupDimensions` (or one with more than 65k values), `new_sites` broken down
/// (by a column of `sites`), and "latest event" questions in a project with undecidable ties. Both
/// paths give identical answers; `RollupChartQueriesTests` holds them to it.
public struct RollupChartQueries: ChartQueries {
    let rollups: RollupStore
    let fallback: any ChartQueries
    let counters: Counters

    /// How many calls each path answered (for `/healthz` and the tests).
    public final class Counters: Sendable {
        private let counts = Mutex<(rollup: Int, scan: Int)>((0, 0))
        func count(rollup: Bool) {
            counts.withLock { counts in
                if rollup { counts.rollup += 1 } else { counts.scan += 1 }
            }
        }
        public var answered: (rollup: Int, scan: Int) {
            counts.withLock { $0 }
        }
    }

    /// Answers are not cached here: `ResponseCache` keeps rendered answers per rollup version
    /// (`APIRoutes.chartsVersion`), the one answer cache of the server.
    public init(rollups: RollupStore, fallback: any ChartQueries) {
        self.rollups = rollups
        self.fallback = fallback
        self.counters = Counters()
    }

    static let microsPerDay: Int64 = 86_400_000_000

    /// The commit the rollups reflect; when they are not built yet the scan answers from the
    /// newest commit, which is at least this one, so an answer is never older than its key.
    public var answersVersion: Int? { rollups.version }

    public func stats(projectID: String, range: TimeRange) throws -> ProjectStats {
        guard let rollup = rollups.rollup(projectID) else { return try scanned { try fallback.stats(projectID: projectID, range: range) } }
        let stats: ProjectStats? = rollup.lock.withReadLock {
            let windowStart = range.to - Int64(WarehouseChartQueries.activeSitesDays) * Self.microsPerDay
            guard !rollup.tiesAmbiguous, rollup.covers(from: min(range.from, windowStart)) else { return nil }
            var stats = ProjectStats()
            stats.optInSites = rollup.distinctCount(skips: false, from: range.from, to: range.to)
            stats.newSites = rollup.newSiteCount(from: range.from, to: range.to)
            stats.deactivations = rollup.deactivationCount(from: range.from, to: range.to)
            stats.skipped = rollup.distinctCount(skips: true, from: range.from, to: range.to)
            stats.activeSites = rollup.latestTrackSites(from: windowStart, to: range.to, dimension: nil).total
            return stats
        }
        guard let stats else { return try scanned { try fallback.stats(projectID: projectID, range: range) } }
        counters.count(rollup: true)
        return stats
    }

    public func timeseries(projectID: String, request: TimeseriesRequest) throws -> [TimeSeries] {
        let dimension = request.breakdown.map { RollupDimensions.indexOfName[$0] }
        let answerable = dimension == nil
            || (dimension! != nil && request.metric != .newSites)
        guard answerable, let rollup = rollups.rollup(projectID) else {
            return try scanned { try fallback.timeseries(projectID: projectID, request: request) }
        }
        guard let starts = request.interval.starts(covering: request.range, limit: Int.max) else { return [] }
        let (from, to) = (request.range.from, request.range.to)
        let series: [TimeSeries]? = rollup.lock.withReadLock {
            guard rollup.covers(from: from) else { return nil }
            let assembler = SeriesAssembler(bucketStarts: starts)
            guard let dimension = dimension.flatMap({ $0 }) else {
                let cells = starts.map { start -> SeriesAssembler.Cell in
                    let (low, high) = (max(from, start), min(to, request.interval.next(after: start)))
                    let count: Int64
                    switch request.metric {
                    case .events: count = rollup.eventCount(from: low, to: high)
                    case .deactivations: count = rollup.deactivationCount(from: low, to: high)
                    case .sites: count = rollup.distinctCount(skips: false, interval: request.interval, bucketStart: start, from: from, to: to)
                    case .skips: count = rollup.distinctCount(skips: true, interval: request.interval, bucketStart: start, from: from, to: to)
                    case .newSites: count = rollup.newSiteCount(from: low, to: high)
                    }
                    return SeriesAssembler.Cell(bucket: start, key: .null, count: count)
                }
                return assembler.single(cells)
            }
            guard !rollup.dimensions[dimension].overflowed else { return nil }
            let values = rollup.dimensions[dimension].values
            var cells: [SeriesAssembler.Cell] = []
            for start in starts {
                let (low, high) = (max(from, start), min(to, request.interval.next(after: start)))
                let perCode: [Int64]
                switch request.metric {
                case .events: perCode = rollup.dimensionCounts(dimension: dimension, deactivationsOnly: false, from: low, to: high)
                case .deactivations: perCode = rollup.dimensionCounts(dimension: dimension, deactivationsOnly: true, from: low, to: high)
                case .sites: perCode = rollup.distinctPerCode(skips: false, dimension: dimension, interval: request.interval, bucketStart: start, from: from, to: to)
                case .skips: perCode = rollup.distinctPerCode(skips: true, dimension: dimension, interval: request.interval, bucketStart: start, from: from, to: to)
                case .newSites: return nil
                }
                for (code, count) in perCode.enumerated() where count > 0 {
                    cells.append(SeriesAssembler.Cell(bucket: start, key: values[code], count: count))
                }
            }
            return assembler.brokenDown(cells, limit: request.limit)
        }
        guard let series else { return try scanned { try fallback.timeseries(projectID: projectID, request: request) } }
        counters.count(rollup: true)
        return series
    }

    public func breakdown(projectID: String, request: BreakdownRequest) throws -> BreakdownResult {
        guard let dimension = RollupDimensions.indexOfName[request.dimension], let rollup = rollups.rollup(projectID) else {
            return try scanned { try fallback.breakdown(projectID: projectID, request: request) }
        }
        let result: BreakdownResult? = rollup.lock.withReadLock {
            let windowStart = request.at - Int64(request.activeDays) * Self.microsPerDay
            guard !rollup.tiesAmbiguous, !rollup.dimensions[dimension].overflowed, rollup.covers(from: windowStart) else { return nil }
            let latest = rollup.latestTrackSites(from: windowStart, to: request.at, dimension: dimension)
            let values = rollup.dimensions[dimension].values
            // Values with sites, in the reference's order: sites descending, then value ascending.
            let ordered = latest.perCode.enumerated().filter { $0.element > 0 }
                .map { (value: values[$0.offset], sites: $0.element) }
                .sorted { a, b in a.sites != b.sites ? a.sites > b.sites : ValueOrder.ascending(a.value, b.value) }
            let listed = Array(ordered.prefix(request.limit))
            return BreakdownResult(total: latest.total, values: listed, other: latest.total - listed.reduce(0) { $0 + $1.sites })
        }
        guard let result else { return try scanned { try fallback.breakdown(projectID: projectID, request: request) } }
        counters.count(rollup: true)
        return result
    }

    public func deactivationSummary(projectID: String, range: TimeRange, newest: Int) -> DeactivationSummary? {
        guard let dimension = RollupDimensions.indexOfName["reason_id"], let rollup = rollups.rollup(projectID) else { return nil }
        return rollup.lock.withReadLock {
            guard !rollup.dimensions[dimension].overflowed, rollup.covers(from: range.from) else { return nil }
            let values = rollup.dimensions[dimension].values
            let counts = rollup.dimensionCounts(dimension: dimension, deactivationsOnly: true, from: range.from, to: range.to)
            let reasons = counts.enumerated().filter { $0.element > 0 }.map { (reason: values[$0.offset], count: $0.element) }
                .sorted { a, b in a.count != b.count ? a.count > b.count : ValueOrder.ascending(a.reason, b.reason) }
            let pageFrom = rollup.newestDeactivationTime(from: range.from, to: range.to, count: newest) ?? range.from
            counters.count(rollup: true)
            return DeactivationSummary(reasons: reasons, pageFrom: max(pageFrom, range.from))
        }
    }

    private func scanned<T>(_ body: () throws -> T) rethrows -> T {
        counters.count(rollup: false)
        return try body()
    }
}

extension APIRoutes {
    /// `/healthz`'s `rollups` object: whether they are built, the commit they reflect, and
    /// how many chart calls each path answered.
    func rollupsHealthJSON(_ store: RollupStore) -> JSONValue {
        let status = store.status
        var object = JSONObject()
        object["ready"] = .bool(status.ready)
        object["version"] = .number(String(status.version))
        object["events"] = .number(String(status.events))
        object["last_build_seconds"] = status.lastBuildSeconds.map { .number(String(format: "%.3f", $0)) } ?? .null
        object["error"] = status.error.map { .string($0) } ?? .null
        if let counters = (charts as? RollupChartQueries)?.counters {
            object["answered_from_rollups"] = .number(String(counters.answered.rollup))
            object["answered_by_scan"] = .number(String(counters.answered.scan))
        }
        return .object(object)
    }
}
