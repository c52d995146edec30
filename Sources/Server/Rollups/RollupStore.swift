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
///
/// With a `stateDirectory`, the rollups are saved there (`RollupStateFile`): after every build
/// from scratch and, while following, at most every `persistIntervalSeconds` (and when the
/// service stops). A start reads the file instead of step 2 when it is intact, of this format,
/// and its commit (version and timestamp) is still the log's; then step 3 follows the commits
/// after it. Anything else — no file, damaged, another format, a log that no longer holds its
/// commit or the commits after it — is step 2, never an answer from a wrong state.
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
    /// Where the state file lives (nil: not saved, every start builds).
    let statePath: String?
    /// While following, the state file is rewritten at most this often.
    let persistIntervalSeconds: Double
    /// Days each project keeps by default (`ProjectRollup`'s window): dashboards ask for up to
    /// 90 days, plus the 14 days of "active" before their end.
    public static let windowDaysDefault = 120
    /// Hours of entries each project keeps (`ProjectRollup`'s window).
    let windowHours: Int64
    private struct State {
        var projects: [String: ProjectRollup] = [:]
        var appliedVersion = 0
        var ready = false
        var lastBuildSeconds: Double?
        var lastError: String?
        var buildCount = 0
        /// Starts that read the state file instead of building.
        var restoreCount = 0
        /// The version the state file holds (0: none written or read yet) and when it was written.
        var persistedVersion = 0
        var persistedAtNanos: UInt64 = 0
        /// The last build left projects out (their files could not be read): not saved.
        var partial = false
    }
    private let state = Mutex(State())
    /// How many times the rollups were built from scratch (once, unless following failed).
    public var buildCount: Int {
        state.withLock { $0.buildCount }
    }
    /// How many times the rollups were read from the state file instead of built.
    public var restoreCount: Int {
        state.withLock { $0.restoreCount }
    }
    /// The folder of a data folder's state file (`serve` passes it as `stateDirectory`).
    public static func stateDirectory(dataDirectory: String) -> String {
        dataDirectory + "/rollups"
    }

    /// Removes a data folder's state file: an erase run while no server is up (`trackhouse
    /// privacy erase`) must not leave the subject's site keys in it until the next start.
    public static func removeStateFile(dataDirectory: String) {
        FileIO.remove(statePath(dataDirectory: dataDirectory))
    }

    /// A data folder's state file (in `stateDirectory(dataDirectory:)`).
    public static func statePath(dataDirectory: String) -> String {
        stateDirectory(dataDirectory: dataDirectory) + "/" + RollupStateFile.fileName
    }

    /// The version the state file holds (0: none).
    public var persistedVersion: Int {
        state.withLock { $0.persistedVersion }
    }
    /// Serializes refreshes (the poll loop, compaction's callback, tests).
    private let refreshLock = Mutex(())
    private let queue = DispatchQueue(label: "trackhouse.rollups")
    private let buildTimer = Metrics.Timer(label: "trackhouse_rollup_refresh_duration_seconds", dimensions: [("kind", "build")])
    private let followTimer = Metrics.Timer(label: "trackhouse_rollup_refresh_duration_seconds", dimensions: [("kind", "follow")])
    private let lagGauge = Gauge(label: "trackhouse_rollup_lag_versions")
    private let versionGauge = Gauge(label: "trackhouse_rollup_version")

    public init(warehouse: WarehouseReader, stateDirectory: String? = nil, persistIntervalSeconds: Double = 300,
                windowDays: Int = RollupStore.windowDaysDefault, pollSeconds: Double = 1, logger: Logger) {
        self.warehouse = warehouse
        self.windowHours = Int64(max(windowDays, 1)) * 24
        self.pollSeconds = pollSeconds
        self.statePath = stateDirectory.map { $0 + "/" + RollupStateFile.fileName }
        self.persistIntervalSeconds = persistIntervalSeconds
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
            let empty = ProjectRollup(projectID: projectID, windowHours: windowHours)
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
        var built = false
        do {
            var (from, ready) = (applied, isReady)
            if !ready, let restored = restore(newest: newest) { (from, ready) = (restored, true) }
            if ready && newest >= from {
                if newest > from { try follow(after: from, through: newest) }
                followTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
            } else {
                try build()
                built = true
                buildTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
            }
            setError(nil)
        } catch RollupRefreshError.rebuild(let reason) {
            logger.info("rollups rebuilding", metadata: ["rollups.reason": "\(reason)"])
            do {
                try build()
                built = true
                setError(nil)
            } catch {
                setError("\(error)")
                throw error
            }
        } catch {
            setError("\(error)")
            throw error
        }
        persist(force: built)
    }

    /// Writes the state file now if it is behind (the service calls this when it stops).
    public func persistNow() {
        refreshLock.withLock { _ in persist(force: true) }
    }

    // MARK: The state file

    /// Reads the state file into the store when it can stand for the log at its version;
    /// returns that version, nil (and nothing changed) otherwise. Caller holds `refreshLock`.
    private func restore(newest: Int) -> Int? {
        guard let statePath, FileIO.exists(statePath) else { return nil }
        let started = DispatchTime.now().uptimeNanoseconds
        let header: RollupStateFile.Header, projects: [ProjectRollup]
        do { (header, projects) = try RollupStateFile.read(path: statePath, windowHours: windowHours) } catch {
            logger.warning("rollup state file not used, building from the segments", metadata: ["rollups.path": "\(statePath)", "error": "\(error)"])
            return nil
        }
        guard header.logVersion <= newest, commitTimestamp(version: header.logVersion) == header.commitTimestampMicros else {
            logger.info("rollup state file is not of this log, building from the segments",
                        metadata: ["rollups.path": "\(statePath)", "rollups.version": "\(header.logVersion)"])
            return nil
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let published = Dictionary(uniqueKeysWithValues: projects.map { ($0.projectID, $0) })
        state.withLock { store in
            store.projects = published
            store.appliedVersion = header.logVersion
            store.ready = true
            store.lastBuildSeconds = seconds
            store.restoreCount += 1
            store.persistedVersion = header.logVersion
            store.persistedAtNanos = DispatchTime.now().uptimeNanoseconds
        }
        logger.info("rollups read from the state file", metadata: [
            "rollups.version": "\(header.logVersion)", "rollups.newest": "\(newest)", "rollups.seconds": "\(String(format: "%.2f", seconds))",
            "rollups.events": "\(projects.reduce(0) { $0 + $1.eventCount })"])
        return header.logVersion
    }

    /// The timestamp of commit `version`, nil when the log does not hold it any more.
    private func commitTimestamp(version: Int) -> Int64? {
        guard version > 0 else { return nil }
        return (try? warehouse.changes(after: version - 1, through: version))?.first?.timestampMicros
    }

    /// Writes the state file when it is behind the applied version and `force` or the
    /// interval has passed. Never while a project's build failed (the file would stand for
    /// charts it does not hold). A failed write is logged: the next start builds instead.
    /// Caller holds `refreshLock`.
    private func persist(force: Bool) {
        guard let statePath else { return }
        let (applied, ready, persisted, persistedAt, failed, projects) = state.withLock {
            ($0.appliedVersion, $0.ready, $0.persistedVersion, $0.persistedAtNanos, $0.partial,
             $0.projects.values.sorted { $0.projectID < $1.projectID })
        }
        let now = DispatchTime.now().uptimeNanoseconds
        guard ready, !failed, applied > 0, applied != persisted else { return }
        guard force || Double(now - persistedAt) / 1e9 >= persistIntervalSeconds else { return }
        guard let timestamp = commitTimestamp(version: applied) else { return }
        do {
            try RollupStateFile.write(path: statePath, header: .init(logVersion: applied, commitTimestampMicros: timestamp), projects: projects)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - now) / 1e9
            state.withLock {
                $0.persistedVersion = applied
                $0.persistedAtNanos = DispatchTime.now().uptimeNanoseconds
            }
            logger.debug("rollup state file written", metadata: ["rollups.version": "\(applied)", "rollups.seconds": "\(String(format: "%.2f", seconds))"])
        } catch {
            logger.warning("rollup state file not written", metadata: ["rollups.path": "\(statePath)", "error": "\(error)"])
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
        // The next start then follows from here rather than from the last periodic write.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.persistNow()
                continuation.resume()
            }
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
                    fresh[projectID] = ProjectRollup(projectID: projectID, windowHours: windowHours)
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
                        let files = snapshot.files(.events, projectID: rollup.projectID)
                        // Only what the window keeps: files and row groups wholly before it are
                        // not read (a build's cost and memory follow the window, not the history).
                        var keptFrom = Int64.min
                        if let oldest = files.map(\.receivedAtMin).min(), let newest = files.map(\.receivedAtMax).max(),
                           let start = rollup.startWindow(oldestMicros: oldest, newestMicros: newest) {
                            keptFrom = start
                        }
                        for file in files where file.receivedAtMax >= keptFrom {
                            try self.readBatches(try snapshot.open(file), file.path, from: keptFrom) { batch in rollup.apply(batch) }
                        }
                        rollup.firstSeenSorted = try self.firstSeen(snapshot, projectID: rollup.projectID)
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
                    store.partial = !failed.isEmpty
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
                    // A commit adds a sites delta (or a new base): the project's first_seen
                    // values are those of its merged sites, read from the newest snapshot.
                    let sitesProjects = Set(change.added.filter { $0.table == .sites || $0.table == .sitesDelta }.map(\.projectID))
                    if !sitesProjects.isEmpty {
                        let snapshot = try warehouse.snapshot()
                        for projectID in sitesProjects { firstSeenByProject[projectID] = try firstSeen(snapshot, projectID: projectID) }
                    }
                } catch {
                    throw RollupRefreshError.rebuild("commit \(change.version): \(error)")
                }
                let projectIDs = Set(batches.map(\.0)).union(firstSeenByProject.keys)
                let touched = state.withLock { state in
                    var touched: [String: ProjectRollup] = [:]
                    for projectID in projectIDs where state.projects[projectID] == nil {
                        state.projects[projectID] = ProjectRollup(projectID: projectID, windowHours: self.windowHours)
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

    /// The file's row groups as batches; with `from`, the groups whose `received_at`
    /// statistics say every row is older are skipped.
    private func readBatches(_ reader: ParquetFileReader, _ relative: String, from: Int64 = .min,
                             _ body: (ProjectRollup.Batch) throws -> Void) throws {
        func column(_ group: Int, _ name: String) throws -> ColumnData? {
            guard let index = reader.schema.index(of: name) else { return nil }
            return try reader.readColumn(rowGroup: group, column: index)
        }
        let receivedAtIndex = reader.schema.index(of: "received_at")
        for group in 0..<reader.rowGroups.count {
            if from > .min, let receivedAtIndex, case .int64(let newest)? = reader.rowGroups[group].columns[receivedAtIndex].max,
               newest < from {
                continue
            }
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

    /// The first_seen of every site of the project's merged sites (base and deltas), sorted.
    private func firstSeen(_ snapshot: WarehouseSnapshot, projectID: String) throws -> [Int64] {
        var values: [Int64] = []
        for selection in try snapshot.sitesRowGroups(projectID: projectID) where selection.rowCount > 0 {
            let reader = try snapshot.open(selection.file)
            guard let index = reader.schema.index(of: "first_seen") else { continue }
            var column = try reader.readColumn(rowGroup: selection.rowGroup, column: index)
            if let rows = selection.rows { column = column.gather(rows) }
            values.append(contentsOf: column.int64Values.compactMap { $0 })
        }
        return values.sorted()
    }
}
