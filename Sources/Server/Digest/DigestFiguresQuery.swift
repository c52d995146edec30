import Mail
import Query

/// A project's digest figures for one period, computed by the dashboard's own chart queries
/// (`ChartQueries`: `stats`, `breakdown`, and the deactivation reasons the `…/deactivations`
/// endpoint counts), so the mail and the dashboard never disagree. It lives in Server because
/// `ChartQueries` does; the Mail target below only renders the figures.
public struct DigestFiguresQuery: Sendable {
    let charts: any ChartQueries
    let engine: QueryEngine

    /// Versions listed by name in each share chart before the rest is "other".
    static let versionsListed = 8

    public init(charts: any ChartQueries, engine: QueryEngine) {
        self.charts = charts
        self.engine = engine
    }

    public func figures(projectID: String, projectName: String, period: DigestPeriod) throws -> DigestFigures {
        let range = TimeRange(from: period.start, to: period.end)
        var figures = DigestFigures(projectID: projectID, projectName: projectName, period: period)
        let stats = try charts.stats(projectID: projectID, range: range)
        figures.newSites = stats.newSites
        figures.deactivations = stats.deactivations
        figures.activeSites = stats.activeSites
        figures.reportingSites = stats.optInSites
        figures.reasons = try DeactivationReasons.counted(charts: charts, engine: engine, projectID: projectID, range: range)
            .map { DigestFigures.ReasonCount(reasonID: Self.text($0.reason), count: $0.count) }
        figures.phpVersions = try shares(projectID, dimension: "php_minor", at: period.end)
        figures.wordpressVersions = try shares(projectID, dimension: "wp_minor", at: period.end)
        return figures
    }

    /// Active sites at `at` by the value of `dimension` (`GET …/breakdown`'s rule).
    private func shares(_ projectID: String, dimension: String, at: Int64) throws -> DigestFigures.Shares {
        let result = try charts.breakdown(projectID: projectID, request: BreakdownRequest(
            dimension: dimension, at: at, activeDays: WarehouseChartQueries.activeSitesDays, limit: Self.versionsListed))
        return DigestFigures.Shares(
            total: result.total,
            values: result.values.map { DigestFigures.Shares.Share(value: Self.text($0.value), sites: $0.sites) },
            other: result.other)
    }

    static func text(_ value: Value) -> String? {
        switch value {
        case .null: return nil
        case .string(let text): return text
        case .int64(let n): return String(n)
        case .double(let x): return String(x)
        case .bool(let b): return b ? "true" : "false"
        case .timestamp(let micros): return String(micros)
        }
    }
}
