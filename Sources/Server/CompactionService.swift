import ColumnStore
import Core
import Foundation
import Ingest
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Runs compaction inside `serve` so an accepted event shows up in SQL, charts and `sites`
/// within about one interval: every `intervalSeconds` it compacts the complete lines of open
/// hours too (`includeOpenHours`), with the tiered merge policy so frequent small runs do not
/// rewrite month files each time. Compaction blocks on file I/O, so it runs on its own
/// thread, never on the async pool that serves requests.
///
/// A cycle continues the warehouse state the previous one ended with (only the commits since
/// are read) and lists only the raw hours from where the previous one found every file complete
/// (`Compactor.Options.rawListedFromHour`), so its cost follows the new events, not years of
/// raw folders. The whole tree is listed by the first cycle, after a failed one, at least
/// every `wholeListingIntervalSeconds` (raw retention, month retention and the checkpoint's
/// pruning run then), and when `trackhouse import` has added files (`raw/.imported` changed).
public final class CompactionService: Service, Sendable {
    public struct LastRun: Sendable {
        public var finishedAtMicros: Int64
        public var report: CompactionReport?
        public var error: String?
    }

    let dataDirectory: String
    let intervalSeconds: Double
    let rawRetentionDays: Int?
    let retentionMonths: Int?
    let logger: Logger
    private struct State {
        var lastRun: LastRun?
        var onRun: (@Sendable (CompactionReport) -> Void)?
        /// Where the next cycle's listing starts; nil lists the whole tree.
        var rawListedFromHour: Int64?
        var wholeListingAtMicros: Int64 = .min
        var importMarker: [UInt8]?
        /// The warehouse state the last cycle ended with: the next one reads only the commits
        /// after it, not the whole log (its checkpoint holds every raw file's progress).
        var warehouse: WarehouseState?
    }
    /// At most this long between two listings of the whole raw tree.
    let wholeListingIntervalSeconds: Int64 = 3_600
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "trackhouse.compaction")
    private let metrics = CompactionMetrics()
    /// Called after each successful run (e.g. to refresh rollups).
    public var onRun: (@Sendable (CompactionReport) -> Void)? {
        get { state.withLock { $0.onRun } }
        set { state.withLock { $0.onRun = newValue } }
    }

    public init(dataDirectory: String, intervalSeconds: Double, rawRetentionDays: Int? = nil, retentionMonths: Int? = nil,
                logger: Logger) {
        self.dataDirectory = dataDirectory
        self.intervalSeconds = intervalSeconds
        self.rawRetentionDays = rawRetentionDays
        self.retentionMonths = retentionMonths
        self.logger = logger
    }

    public var lastRun: LastRun? {
        state.withLock { $0.lastRun }
    }

    /// One compaction now (also used by tests); returns when it is done.
    public func runOnce() async -> LastRun {
        await withCheckedContinuation { continuation in
            queue.async {
                var options = Compactor.Options()
                options.includeOpenHours = true
                options.mergePolicy = .tiered
                // Deltas fold by size, count and age (a full snapshot at least every 10 min).
                options.sitesFold.foldAtEnd = false
                options.rawRetentionDays = self.rawRetentionDays
                options.retentionMonths = self.retentionMonths
                let startedMicros = UTCTime.nowMicros()
                let importMarker = try? FileIO.readFile(RawLayout(dataDirectory: self.dataDirectory).importMarkerPath)
                options.rawListedFromHour = self.state.withLock { state in
                    let whole = state.rawListedFromHour == nil || importMarker != state.importMarker
                        || startedMicros - state.wholeListingAtMicros >= self.wholeListingIntervalSeconds * 1_000_000
                    return whole ? nil : state.rawListedFromHour
                }
                let continuing = self.state.withLock { $0.warehouse }
                let run: LastRun
                do {
                    let compactor = Compactor(dataDirectory: self.dataDirectory, options: options, logger: self.logger, continuing: continuing)
                    let report = try compactor.run()
                    self.state.withLock { state in
                        state.warehouse = compactor.warehouseState
                        state.rawListedFromHour = report.rawSettledBeforeHour
                        if options.rawListedFromHour == nil {
                            state.wholeListingAtMicros = startedMicros
                            state.importMarker = importMarker
                        }
                    }
                    run = LastRun(finishedAtMicros: UTCTime.nowMicros(), report: report, error: nil)
                    self.metrics.record(report)
                    if report.eventsIn > 0 {
                        self.logger.info("compacted", metadata: ["compaction.events_out": "\(report.eventsOut)",
                                                                 "compaction.seconds": "\(report.seconds)"])
                    }
                    self.onRun?(report)
                } catch let error as WarehouseError where error.code == .locked {
                    // Another process commits meanwhile: its commits are followed, or (after its
                    // checkpoint) the log is loaded whole; the kept state stays valid.
                    // Another process (a second server sharing the folder) is compacting: fine.
                    run = LastRun(finishedAtMicros: UTCTime.nowMicros(), report: nil, error: "skipped: \(error.message)")
                    self.metrics.skipped.increment()
                } catch {
                    // A run that failed half way may have changed its state without committing.
                    self.state.withLock { state in
                        state.rawListedFromHour = nil
                        state.warehouse = nil
                    }
                    self.logger.error("compaction failed", metadata: ["error": "\(error)"])
                    run = LastRun(finishedAtMicros: UTCTime.nowMicros(), report: nil, error: "\(error)")
                    self.metrics.failed.increment()
                }
                self.state.withLock { $0.lastRun = run }
                continuation.resume(returning: run)
            }
        }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            _ = await runOnce()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(nanoseconds: UInt64(self.intervalSeconds * 1e9)) }
        }
    }

    /// For `/healthz`.
    public var healthJSON: JSONValue {
        guard let run = lastRun else { return .null }
        var object = JSONObject()
        object["finished_at"] = .string(UTCTime.formatISO(micros: run.finishedAtMicros))
        object["error"] = run.error.map { .string($0) } ?? .null
        if let report = run.report {
            object["events_in"] = .number(String(report.eventsIn))
            object["events_out"] = .number(String(report.eventsOut))
            object["duplicates_dropped"] = .number(String(report.duplicatesDropped))
            object["unknown_project_events"] = .number(String(report.unknownProjectEvents))
            object["seconds"] = .number(String(format: "%.3f", report.seconds))
            object["warehouse_version"] = .number(String(report.warehouseVersion))
        }
        return .object(object)
    }
}

/// What each in-process compaction run adds to `/metrics` (`MetricsCatalog` says what each is).
struct CompactionMetrics: Sendable {
    let succeeded = Counter(label: "trackhouse_compaction_runs_total", dimensions: [("result", "ok")])
    let skipped = Counter(label: "trackhouse_compaction_runs_total", dimensions: [("result", "skipped")])
    let failed = Counter(label: "trackhouse_compaction_runs_total", dimensions: [("result", "error")])
    let duration = Metrics.Timer(label: "trackhouse_compaction_duration_seconds")
    let events = Counter(label: "trackhouse_compaction_events_total")
    let duplicates = Counter(label: "trackhouse_compaction_duplicates_dropped_total")
    let unknownProject = Counter(label: "trackhouse_compaction_unknown_project_events_total")
    let rawBytesRead = Counter(label: "trackhouse_compaction_raw_bytes_read_total")
    let bytesWritten = Counter(label: "trackhouse_compaction_bytes_written_total")

    func record(_ report: CompactionReport) {
        succeeded.increment()
        duration.recordNanoseconds(Int64(report.seconds * 1e9))
        events.increment(by: report.eventsOut)
        duplicates.increment(by: report.duplicatesDropped)
        unknownProject.increment(by: report.unknownProjectEvents)
        rawBytesRead.increment(by: Int(report.rawBytesIn))
        bytesWritten.increment(by: Int(report.bytesOut))
    }
}
