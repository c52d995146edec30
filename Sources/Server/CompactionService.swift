import ColumnStore
import Core
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs compaction inside `serve` so an accepted event shows up in SQL, charts and `sites`
/// within about one interval: every `intervalSeconds` it compacts the complete lines of open
/// hours too (`includeOpenHours`), with the tiered merge policy so frequent small runs do not
/// rewrite month files each time. Compaction blocks on file I/O, so it runs on its own
/// thread, never on the async pool that serves requests.
public final class CompactionService: Service, Sendable {
    public struct LastRun: Sendable {
        public var finishedAtMicros: Int64
        public var report: CompactionReport?
        public var error: String?
    }

    let dataDirectory: String
    let intervalSeconds: Double
    let rawRetentionDays: Int?
    let logger: Logger
    private struct State {
        var lastRun: LastRun?
        var onRun: (@Sendable (CompactionReport) -> Void)?
    }
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "trackhouse.compaction")
    /// Called after each successful run (e.g. to refresh rollups).
    public var onRun: (@Sendable (CompactionReport) -> Void)? {
        get { state.withLock { $0.onRun } }
        set { state.withLock { $0.onRun = newValue } }
    }

    public init(dataDirectory: String, intervalSeconds: Double, rawRetentionDays: Int? = nil, logger: Logger) {
        self.dataDirectory = dataDirectory
        self.intervalSeconds = intervalSeconds
        self.rawRetentionDays = rawRetentionDays
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
                options.rawRetentionDays = self.rawRetentionDays
                let run: LastRun
                do {
                    let report = try Compactor(dataDirectory: self.dataDirectory, options: options, logger: self.logger).run()
                    run = LastRun(finishedAtMicros: UTCTime.nowMicros(), report: report, error: nil)
                    if report.eventsIn > 0 {
                        self.logger.info("compacted", metadata: ["compaction.events_out": "\(report.eventsOut)",
                                                                 "compaction.seconds": "\(report.seconds)"])
                    }
                    self.onRun?(report)
                } catch let error as WarehouseError where error.code == .locked {
                    // Another process (a second server sharing the folder) is compacting: fine.
                    run = LastRun(finishedAtMicros: UTCTime.nowMicros(), report: nil, error: "skipped: \(error.message)")
                } catch {
                    self.logger.error("compaction failed", metadata: ["error": "\(error)"])
                    run = LastRun(finishedAtMicros: UTCTime.nowMicros(), report: nil, error: "\(error)")
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
