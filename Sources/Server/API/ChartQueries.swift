import Core
import Query

/// The dashboard's chart computations (CONTRACT §7 `stats`, `timeseries`, `breakdown`) behind
/// one interface, so a rollup-backed implementation can answer the same calls later and be
/// tested against `WarehouseChartQueries`, which computes everything from the raw tables.
///
/// Every call is for one project; implementations must not see other projects' rows.
public protocol ChartQueries: Sendable {
    func stats(projectID: String, range: TimeRange) throws -> ProjectStats
    func timeseries(projectID: String, request: TimeseriesRequest) throws -> [TimeSeries]
    func breakdown(projectID: String, request: BreakdownRequest) throws -> BreakdownResult
    /// `GET …/deactivations`: deactivations per reason_id in range and a lower bound on the
    /// `received_at` of the newest `newest` of them (so the page query reads only the row
    /// groups from there on). Nil when this implementation cannot say (then SQL counts).
    func deactivationSummary(projectID: String, range: TimeRange, newest: Int) -> DeactivationSummary?
    /// The warehouse version the answers reflect, which keys the server's answer cache; nil:
    /// unknown (answers are not cached).
    var answersVersion: Int? { get }
}

public struct DeactivationSummary: Sendable {
    public var reasons: [(reason: Value, count: Int64)]
    public var pageFrom: Int64
}

extension ChartQueries {
    public func deactivationSummary(projectID: String, range: TimeRange, newest: Int) -> DeactivationSummary? { nil }
    public var answersVersion: Int? { nil }
}

/// `GET …/stats`: the five headline numbers of a range.
public struct ProjectStats: Sendable, Equatable {
    /// Distinct site_key of `track` events in range.
    public var optInSites: Int64 = 0
    /// Sites whose all-time `first_seen` is in range.
    public var newSites: Int64 = 0
    /// `deactivate` events in range.
    public var deactivations: Int64 = 0
    /// Distinct non-NULL site_hash of `skip` events whose previously_skipped is not true.
    public var skipped: Int64 = 0
    /// Sites whose latest event before `to` is `track` and received within 14 days before `to`.
    public var activeSites: Int64 = 0

    public init() {}
}

/// What a time series counts per bucket (CONTRACT §7).
public enum TimeseriesMetric: String, Sendable, CaseIterable {
    case events, sites, newSites = "new_sites", deactivations, skips

    /// The table the metric is counted over, which is also the table whose columns a
    /// `breakdown` may name: `new_sites` buckets sites by `first_seen`, the others events by
    /// `received_at`.
    var table: TableSchema { self == .newSites ? .sites : .events }
    var timeColumn: String { self == .newSites ? "first_seen" : "received_at" }
}

public struct TimeseriesRequest: Sendable {
    public var metric: TimeseriesMetric
    public var interval: BucketInterval
    public var range: TimeRange
    /// A column of `metric.table`, or nil for one series with key null.
    public var breakdown: String?
    /// With a breakdown: how many keys get their own series before `__other__`.
    public var limit: Int

    public init(metric: TimeseriesMetric, interval: BucketInterval, range: TimeRange, breakdown: String? = nil, limit: Int = 10) {
        self.metric = metric
        self.interval = interval
        self.range = range
        self.breakdown = breakdown
        self.limit = limit
    }
}

/// One series of a time series answer.
public struct TimeSeries: Sendable, Equatable {
    public enum Key: Sendable, Equatable {
        /// No breakdown: the only series, rendered as `"key": null`.
        case none
        /// A breakdown value; `.null` is a value of its own.
        case value(Value)
        /// Every key past `limit`, rendered as `"__other__"`.
        case other
    }

    public var key: Key
    /// `(bucket start, count)` for every bucket of the range, in time order.
    public var points: [(start: Int64, count: Int64)]

    public init(key: Key, points: [(start: Int64, count: Int64)]) {
        self.key = key
        self.points = points
    }

    public static func == (a: TimeSeries, b: TimeSeries) -> Bool {
        a.key == b.key && a.points.elementsEqual(b.points, by: { $0.start == $1.start && $0.count == $1.count })
    }
}

public struct BreakdownRequest: Sendable {
    /// A column of `events`.
    public var dimension: String
    /// Each site's latest event strictly before this time counts.
    public var at: Int64
    /// Only sites whose latest event was received at or after `at - activeDays` count.
    public var activeDays: Int
    public var limit: Int

    public init(dimension: String, at: Int64, activeDays: Int = 14, limit: Int = 20) {
        self.dimension = dimension
        self.at = at
        self.activeDays = activeDays
        self.limit = limit
    }
}

/// `GET …/breakdown`: active sites by the value of one column of their latest event.
public struct BreakdownResult: Sendable, Equatable {
    public var total: Int64
    /// Sorted by sites descending, then value ascending (NULL last).
    public var values: [(value: Value, sites: Int64)]
    /// `total` minus the listed values' sites.
    public var other: Int64

    public init(total: Int64, values: [(value: Value, sites: Int64)], other: Int64) {
        self.total = total
        self.values = values
        self.other = other
    }

    public static func == (a: BreakdownResult, b: BreakdownResult) -> Bool {
        a.total == b.total && a.other == b.other
            && a.values.elementsEqual(b.values, by: { $0.value == $1.value && $0.sites == $1.sites })
    }
}
