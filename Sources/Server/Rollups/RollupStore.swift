import ColumnStore
import Core
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Keeps every project's `ProjectRollup` in step with the warehouse commit log: the "hourly
/// batch job" of the original system, run after every commit instead of every hour.
///
/// Reads the warehouse only through ColumnStore's `WarehouseReader`.
///
/// Algorithm (`refresh`):
/// 1. Ask for the newest commit version; nothing to do when it is the version already applied.
/// 2. First time (or after anything unexpected): build from scratch — take a snapshot, read
///    every live events file row group by row group into fresh rollups, load each project's
///    `first_seen` from its sites file, then publish them all at once.
/// 3. Otherwise follow the typed changes after the applied version. A `compact` commit brings
///    only events no earlier commit had (compaction dedupes by id across the warehouse), so
///    its new events files are read (outside any lock) and applied under the project's write
///    lock, and its new sites files replace `first_seen`. A `merge` or `relayout` commit
///    rewrites events and sites that are already counted: nothing to do. A change that cannot
///    be read (the log moved past it, a file is gone) means build from scratch.
/// Each commit is applied whole before the next, so a chart never sees half a commit.
public final class RollupStore: Service, Sendable {
    public struct Status: Sendable {
        public var ready: Bool
        public var version: Int
        public var events: Int
        public var lastBuildSeconds: Double?
        public var error: String?
    }

    let warehouse: WarehouseReader
    let logger: Logger
    /// How often `run` looks for new commits when nobody calls `refreshSoon`.
    let pollSeconds: Double
    private struct State {
        var projects: [String: ProjectRollup] = [:]
        var appliedVersion = 0
        var ready = false
        var lastBuildSeconds: Double?
        var lastError: String?
        var buildCount = 0
    }
    private let state = Mutex(State())
    /// How many times the rollups were built from scratch (once, unless following failed).
    public var buildCount: Int {
        state.withLock { $0.buildCount }
    }
    /// Serializes refreshes (the poll loop, compaction's callback, tests).
    private let refreshLock = Mutex(())
    private let queue = DispatchQueue(label: "trackhouse.rollups")
    private let buildTimer = Metrics.Timer(label: "trackhouse_rollup_refresh_duration_seconds", dimensions: [("kind", "build")])
    private let followTimer = Metrics.Timer(label: "trackhouse_rollup_refresh_duration_seconds", dimensions: [("kind", "follow")])
    private let lagGauge = Gauge(label: "trackhouse_rollup_lag_versions")
    private let versionGauge = Gauge(label: "trackhouse_rollup_version")

    public init(warehouse: WarehouseReader, pollSeconds: Double = 1, logger: Logger) {
        self.warehouse = warehouse
        self.pollSeconds = pollSeconds
        self.logger = logger
    }

    public var status: Status {
        let (rollups, current) = state.withLock { state in
            (Array(state.projects.values),
             Status(ready: state.ready, version: state.appliedVersion, events: 0, lastBuildSeconds: state.lastBuildSeconds,
                    error: state.lastError))
        }
        var status = current
        // Each count under its project's lock: a refresh may be applying a commit to it.
        status.events = rollups.reduce(0) { total, rollup in total + rollup.lock.withReadLock { rollup.eventCount } }
        return status
    }

    /// What `ProjectRollup.checkInvariants` finds broken in any project (the tests call it
    /// after every refresh), each line prefixed with its project.
    func checkInvariants() -> [String] {
        let rollups = state.withLock { Array($0.projects.values) }
        return rollups.flatMap { rollup in
            rollup.lock.withReadLock { rollup.checkInvariants() }.map { "\(rollup.projectID): \($0)" }
        }
    }

    /// The commit the rollups reflect (keys the chart answer cache).
    var version: Int {
        state.withLock { $0.appliedVersion }
    }

    /// The project's rollup when it can answer: built, and the project is not marked
    /// unusable. A project with no events yet gets an empty rollup (all counts zero).
    func rollup(_ projectID: String) -> ProjectRollup? {
        let rollup = state.withLock { state -> ProjectRollup? in
            guard state.ready else { return nil }
            if let rollup = state.projects[projectID] { return rollup }
            let empty = ProjectRollup(projectID: projectID)
            state.projects[projectID] = empty
            return empty
        }
        // Under the rollup's read lock: a refresh may be applying a commit that marks it unusable.
        guard let rollup, rollup.lock.withReadLock({ rollup.unusableReason == nil }) else { return nil }
        return rollup
    }

    /// Sets the lag and version gauges (called when `/metrics` is scraped): commits in the
    /// log that the charts do not reflect yet.
    func recordLag() {
        let (applied, ready) = state.withLock { ($0.appliedVersion, $0.ready) }
        let newest = warehouse.newestVersion
        lagGauge.record(ready ? max(0, newest - applied) : newest)
        versionGauge.record(applied)
    }

    /// Brings the rollups up to the newest commit; returns when done.
    public func refresh() throws {
        try refreshLock.withLock { _ in try refreshSerialized() }
    }

    /// `refresh` with `refreshLock` held.
    private func refreshSerialized() throws {
        let newest = warehouse.newestVersion
        let (applied, isReady) = state.withLock { ($0.appliedVersion, $0.ready) }
        guard !isReady || newest != applied else { return }
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            if isReady && newest > applied {
                try follow(after: applied, through: newest)
                followTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
            } else {
                try build()
                buildTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
            }
            setError(nil)
        } catch RollupRefreshError.rebuild(let reason) {
            logger.info("rollups rebuilding", metadata: ["rollups.reason": "\(reason)"])
            do {
                try build()
                setError(nil)
            } catch {
                setError("\(error)")
                throw error
            }
        } catch {
            setError("\(error)")
            throw error
        }
    }

    /// Starts a refresh on the rollup thread (after a compaction) without waiting.
    public func refreshSoon() {
        queue.async { try? self.refresh() }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                queue.async {
                    do { try self.refresh() } catch { self.logger.error("rollup refresh failed", metadata: ["error": "\(error)"]) }
                    continuation.resume()
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(nanoseconds: UInt64(self.pollSeconds * 1e9)) }
        }
    }

    private func setError(_ error: String?) {
        state.withLock { $0.lastError = error }
    }

    // MARK: Building and following

    private enum RollupRefreshError: Error { case rebuild(String) }

    /// Projects whose build failed, with the error; filled by the build threads.
    private final class FailureBox: Sendable {
        private let failures = Mutex<[String: String]>([:])
        func record(_ projectID: String, _ error: any Error) { failures.withLock { $0[projectID] = "\(error)" } }
        var all: [String: String] { failures.withLock { $0 } }
    }

    private func build() throws {
        let started = DispatchTime.now().uptimeNanoseconds
        var attempt = 0
        while true {
            attempt += 1
            do {
                let snapshot = try warehouse.snapshot()
                var fresh: [String: ProjectRollup] = [:]
                for projectID in snapshot.projectIDs {
                    fresh[projectID] = ProjectRollup(projectID: projectID)
                }
                // Projects are independent: build them on every core (threads of our own, not
                // Dispatch's, which the HTTP handlers' executor shares).
                let projectIDs = fresh.keys.sorted()
                let failures = FailureBox()
                // The threads only read the dictionary, each rollup is built by the one thread
                // that took its position, and `forEach` returns after every thread has finished.
                let built = UncheckedSendableBox(fresh)
                ParallelFor.forEach(count: projectIDs.count, workersMax: ProcessInfo.processInfo.activeProcessorCount) { position in
                    let rollup = built.value[projectIDs[position]]!
                    do {
                        for file in snapshot.files(.events, projectID: rollup.projectID) {
                            try self.readBatches(try snapshot.open(file), file.path) { batch in rollup.apply(batch) }
                        }
                        for file in snapshot.files(.sites, projectID: rollup.projectID) {
                            rollup.firstSeenSorted = try self.firstSeen(try snapshot.open(file))
                        }
                        rollup.finish()
                    } catch {
                        failures.record(rollup.projectID, error)
                    }
                }
                let failed = failures.all
                if !failed.isEmpty && attempt < 3 {
                    // A merge may have replaced a file between listing and reading it: list again.
                    logger.debug("rollup build retried", metadata: ["rollups.failed_projects": "\(failed.count)"])
                    continue
                }
                // A project whose files cannot be read (a damaged segment) is left out: its
                // charts go to the scan, which reports the damage for that project alone; every
                // other project keeps its rollups.
                for projectID in failed.keys { fresh[projectID] = nil }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                let published = fresh
                self.state.withLock { store in
                    store.projects = published
                    store.appliedVersion = snapshot.version
                    store.ready = true
                    store.lastBuildSeconds = seconds
                    store.lastError = failed.isEmpty ? nil : "rollups of \(failed.count) project(s) could not be built: " + failed.keys.sorted().joined(separator: ", ")
                    store.buildCount += 1
                }
                for (projectID, error) in failed.sorted(by: { $0.key < $1.key }) {
                    logger.error("rollup of a project left out: a file could not be read", metadata: ["project": "\(projectID)", "error": "\(error)"])
                }
                logger.info("rollups built", metadata: ["rollups.version": "\(snapshot.version)", "rollups.seconds": "\(String(format: "%.2f", seconds))",
                                                        "rollups.events": "\(fresh.values.reduce(0) { $0 + $1.eventCount })"])
                return
            } catch let error where attempt < 3 {
                // A merge may have replaced a file between listing and reading it: list again.
                logger.debug("rollup build retried", metadata: ["error": "\(error)"])
            }
        }
    }

    private func follow(after applied: Int, through newest: Int) throws {
        let changes: [WarehouseChange]
        do { changes = try warehouse.changes(after: applied, through: newest) } catch {
            throw RollupRefreshError.rebuild("\(error)")
        }
        for change in changes {
            switch change.operation {
            case .merge, .relayout:
                break
            case .checkpoint:
                throw RollupRefreshError.rebuild("commit \(change.version) is a checkpoint")
            case .erase, .retention:
                // Rows left the project's events (and its sites): counts cannot be taken back
                // from the rollups' sketches, and the replaced files are already deleted.
                throw RollupRefreshError.rebuild("commit \(change.version) is an \(change.operation.rawValue)")
            case .compact:
                var batches: [(String, ProjectRollup.Batch)] = []
                var firstSeenByProject: [String: [Int64]] = [:]
                do {
                    for file in change.added where file.table == .events {
                        try readBatches(try change.open(file), file.path) { batches.append((file.projectID, $0)) }
                    }
                    for file in change.added where file.table == .sites {
                        firstSeenByProject[file.projectID] = try firstSeen(try change.open(file))
                    }
                } catch {
                    throw RollupRefreshError.rebuild("commit \(change.version): \(error)")
                }
                let projectIDs = Set(batches.map(\.0)).union(firstSeenByProject.keys)
                let touched = state.withLock { state in
                    var touched: [String: ProjectRollup] = [:]
                    for projectID in projectIDs where state.projects[projectID] == nil {
                        state.projects[projectID] = ProjectRollup(projectID: projectID)
                    }
                    for projectID in projectIDs { touched[projectID] = state.projects[projectID] }
                    return touched
                }
                for (projectID, rollup) in touched {
                    rollup.lock.withWriteLock {
                        for (owner, batch) in batches where owner == projectID { rollup.apply(batch) }
                        rollup.finish()
                        if let firstSeen = firstSeenByProject[projectID] { rollup.firstSeenSorted = firstSeen }
                    }
                }
            }
            state.withLock { $0.appliedVersion = change.version }
        }
    }

    // MARK: Reading files

    private func readBatches(_ reader: ParquetFileReader, _ relative: String, _ body: (ProjectRollup.Batch) throws -> Void) throws {
        func column(_ group: Int, _ name: String) throws -> ColumnData? {
            guard let index = reader.schema.index(of: name) else { return nil }
            return try reader.readColumn(rowGroup: group, column: index)
        }
        for group in 0..<reader.rowGroups.count {
            guard let receivedAt = try column(group, "received_at") else {
                throw RollupRefreshError.rebuild("\(relative) has no received_at column")
            }
            let batch = ProjectRollup.Batch(
                rowCount: reader.rowGroups[group].rowCount, receivedAt: receivedAt,
                eventID: try column(group, "event_id"), siteKey: try column(group, "site_key"),
                siteHash: try column(group, "site_hash"), previouslySkipped: try column(group, "previously_skipped"),
                dimensions: try RollupDimensions.names.map { try column(group, $0) })
            try body(batch)
        }
    }

    private func firstSeen(_ reader: ParquetFileReader) throws -> [Int64] {
        guard let index = reader.schema.index(of: "first_seen") else { return [] }
        var values: [Int64] = []
        for group in 0..<reader.rowGroups.count {
            let column = try reader.readColumn(rowGroup: group, column: index)
            values.append(contentsOf: column.int64Values.compactMap { $0 })
        }
        return values.sorted()
    }
}
