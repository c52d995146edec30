import Core
import Ingest

/// What `WorkloadGenerator` produces: how many projects, sites and weeks, from which seed.
public struct GeneratorOptions: Sendable {
    /// The data directory to fill: `projects.json` and `raw/…` are written inside it.
    public var outDirectory: String
    public var projects: Int
    public var sites: Int
    public var weeks: Int
    public var seed: UInt64
    /// Exclusive end of the generated receive times; the range is `weeks` weeks before it.
    public var endMicros: Int64

    /// 2026-12-01T00:00:00Z: a fixed default end, so the same options give the same bytes
    /// on any day.
    public static let defaultEndMicros: Int64 = 1_796_083_200_000_000

    public init(outDirectory: String, projects: Int = 8, sites: Int = 1_000, weeks: Int = 12, seed: UInt64 = 1,
                endMicros: Int64 = GeneratorOptions.defaultEndMicros) {
        self.outDirectory = outDirectory
        self.projects = projects
        self.sites = sites
        self.weeks = weeks
        self.seed = seed
        self.endMicros = endMicros
    }

    /// Now, truncated to the hour: for generating "live-looking" data up to the present.
    public static func nowTruncatedToHourMicros() -> Int64 {
        let hour: Int64 = 3_600_000_000
        return UTCTime.nowMicros() / hour * hour
    }

    public var startMicros: Int64 { endMicros - Int64(weeks) * GeneratorTime.week }
}

/// What a generator run wrote.
public struct GeneratorSummary: Sendable, Equatable {
    /// Distinct envelopes (duplicates not counted) by route.
    public var eventsByRoute: [Envelope.Route: Int] = [:]
    /// Distinct envelopes whose payload hash is missing or not in projects.json.
    public var unknownProjectEvents = 0
    /// Extra copies of envelope lines (same line, same id) written on top of the distinct events.
    public var duplicateLines = 0
    public var files = 0
    public var bytes: Int64 = 0
    public var projects = 0
    public var sites = 0
    public var startMicros: Int64 = 0
    public var endMicros: Int64 = 0

    public init() {}

    public var events: Int { eventsByRoute.values.reduce(0, +) }
    /// Lines on disk: distinct events plus duplicates.
    public var lines: Int { events + duplicateLines }
}

public struct GeneratorError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

enum GeneratorTime {
    static let second: Int64 = 1_000_000
    static let hour: Int64 = 3_600 * second
    static let day: Int64 = 24 * hour
    static let week: Int64 = 7 * day
}
