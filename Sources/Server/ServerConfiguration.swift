import Integrations
import Ingest

/// Everything `trackhouse serve` can be told; `main` parses flags into this and tests build it
/// directly.
public struct ServerConfiguration: Sendable {
    public enum Role: String, Sendable, CaseIterable {
        case ingest, query, all
    }

    public var dataDirectory: String
    public var host = "127.0.0.1"
    public var port = 8080
    public var role: Role = .all
    public var writerID: String
    public var ingest = IngestService.Options()
    /// The SDK routes (and the embedding program's `FrontDoorRoute`s) are answered on the
    /// connection's event loop (`IngestChannelHandler`); off, Hummingbird's router answers them
    /// on a task, the way every other route is. Same answers either way (`IngestFrontDoorTests`
    /// holds them to it); the event loop costs less CPU per request (BENCHMARKS.md, "Ingest").
    /// `serve` always takes the event loop; `trackhouse-bench serve --ingest-on-router`
    /// measures the other.
    public var ingestOnEventLoop = true
    public var sealEnabled = true
    /// Group commit tuning for the raw writer (`RawLogWriter.Options`); nil keeps its default.
    public var commitLanes: Int? = nil
    public var commitIntervalMicros: Int? = nil
    /// Seconds between in-process compactions (roles query and all); nil turns them off.
    public var compactionIntervalSeconds: Double? = 15
    /// In-process compaction also deletes compacted raw files whose hour ended more than this
    /// many days ago (`Compactor.Options.rawRetentionDays`); nil keeps them.
    public var rawRetentionDays: Int? = nil
    /// With in-process compaction: drop `events` months wholly older than this many months,
    /// their raw hours and the sites not seen since (`Compactor.Options.retentionMonths`).
    public var retentionMonths: Int? = nil
    /// Chart endpoints answer from in-memory rollups kept up to date after each commit
    /// (roles query and all); off, every chart request scans the warehouse.
    public var rollupsEnabled = true
    /// Days of history the rollups keep per project, back from the newest event: charts
    /// reaching further back are answered by scanning (exact, slower). Bounds their memory
    /// and state file whatever the history's length.
    public var rollupWindowDays = ProjectRollup.windowDaysDefault
    /// Rendered read answers kept per warehouse version (`ResponseCache`), in bytes; 0 turns
    /// the cache off (the API benchmark measures both).
    public var answerCacheBytesMax = 64 << 20
    /// A connection that sends nothing for this long is closed: idle keep-alive connections,
    /// a request head or body that stops arriving (slowloris). A request being answered (a
    /// durable append, a long query) is never cut. nil: never (Hummingbird's default).
    public var idleTimeoutSeconds: Double? = 60
    /// One log line per request (`trackhouse.access`, level info): method, route template,
    /// status, duration, bytes; never the query string or a header (`--access-log`).
    public var accessLog = false

    /// The integrations' delivery worker (backoff, clock, in-flight bound); nil: no deliveries.
    /// Tests pass short backoffs here; `serve` uses the defaults.
    public var deliveries: DeliveryWorker.Options? = DeliveryWorker.Options()
    /// How long after a period ends its digest is made (`email_digest`), so compaction has
    /// committed the period's last events first.
    public var digestSettleSeconds: Double = 300

    public init(dataDirectory: String, writerID: String? = nil) {
        self.dataDirectory = dataDirectory
        self.writerID = writerID ?? ServerConfiguration.defaultWriterID()
    }

    /// A writer id from the host name, restricted to `[a-z0-9_-]` so it is safe in file names.
    public static func defaultWriterID() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        let host = String(cString: buffer).lowercased()
        let cleaned = String(host.unicodeScalars.map { scalar -> Character in
            let c = Character(scalar)
            return (c.isLetter && c.isASCII) || (c.isNumber && c.isASCII) || c == "-" || c == "_" ? c : "_"
        }.prefix(32))
        return cleaned.isEmpty ? "writer" : cleaned
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
