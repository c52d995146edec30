import ColumnStore
import Core
import Foundation
import Ingest
import Logging
import Metrics
import Synchronization

/// Delivers every integration's outbox (inside `serve`): follows the warehouse into the
/// outboxes (`LifecycleFollower`), then sends what is due.
///
/// - At least once: an entry is `delivered` only after a 2xx was read; a crash before its
///   record is written sends it again (receivers dedupe on `Trackhouse-Delivery`).
/// - Per site in lifecycle order: only the oldest undecided entry of a site is ever in
///   flight; the next waits until it is `delivered` or `dead`.
/// - At most `inFlightMax` requests per integration at once.
/// - Retries (408, 429, 5xx, network errors, timeouts): exponential backoff with jitter
///   (`backoffBaseSeconds` · 2^(attempt−1), capped at `backoffMaxSeconds`, times a random
///   factor in 0.5…1), or exactly the answer's `Retry-After`; `dead` once `retryWindowSeconds`
///   (24 h) have passed since the first attempt. Any other 4xx is `dead` at once.
public final class DeliveryWorker: Sendable {
    public struct Options: Sendable {
        public var pollIntervalSeconds = 1.0
        public var inFlightMax = 4
        public var backoffBaseSeconds = 2.0
        public var backoffMaxSeconds = 600.0
        public var retryWindowSeconds = 86_400.0
        public var http = DeliveryHTTP.Options()
        /// Outbox compaction (`OutboxLog.compact`): delivered and dead entries are kept this
        /// long after they were decided (the deliveries list shows them; dead ones can be
        /// retried), then dropped once at least `outboxCompactMinimumDropped` can go; checked
        /// every `outboxCompactIntervalSeconds`. An outbox therefore holds its pending entries,
        /// the last week's decided ones and fewer than that minimum more, however long it runs.
        public var outboxRetentionSeconds = 7 * 86_400.0
        public var outboxCompactIntervalSeconds = 600.0
        public var outboxCompactMinimumDropped = 1_000
        /// Now, in µs since 1970 (tests move it).
        public var clock: @Sendable () -> Int64 = { UTCTime.nowMicros() }
        /// The backoff's random factor (tests pin it).
        public var jitter: @Sendable () -> Double = { Double.random(in: 0.5...1.0) }
        /// The registry's integrations; default: `<data>/projects.json`, re-read when it changes.
        public var catalog: (@Sendable () -> IntegrationCatalog)?
        /// Runs after a follow, before a dispatch, at most once per poll interval, off the event
        /// loops: entries a kind makes itself (Server's digest scheduler) are added here.
        public var beforeDispatch: (@Sendable (IntegrationCatalog) -> Void)?
        public init() {}
    }

    public let dataDirectory: String
    public let outboxes: OutboxStore
    let follower: LifecycleFollower
    let warehouse: WarehouseReader
    let kinds: [any IntegrationKind.Type]
    let options: Options
    let logger: Logger
    let http: DeliveryHTTP
    private let followQueue = DispatchQueue(label: "trackhouse.integrations.follow")
    /// A failure that repeats every poll (a full disk, an unreadable outbox) is logged once per
    /// interval with a count, as ingest does.
    let failureLog = LogThrottle(intervalSeconds: 10)

    struct State {
        var inFlight: [String: Set<String>] = [:]
        var woken = false
        var catalog = IntegrationCatalog()
        var catalogStamp: [Int64] = []
        var followedVersion = -1
        var followedAtMicros: Int64 = 0
        var followedCatalog: [String] = []
        var compactedAtMicros: Int64 = 0
        var lastFollowError: String?
        /// Outcomes not yet in the outbox, per integration (written together by `flushCompleted`;
        /// their entries stay in flight until then, so a site's next delivery cannot start
        /// before its previous outcome is durable).
        var completed: [String: (log: OutboxLog, records: [(id: String, outcome: AttemptRecord)])] = [:]
        /// One kind value per integration, made when the integration is first delivered or its
        /// registry entry changed: a kind parses its fields once (`init(settings:)`), not per
        /// delivery.
        var kindsByIntegration: [String: (settings: IntegrationSettings, kind: any IntegrationKind)] = [:]
        /// The loop waiting for `wake()`, if it is.
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    public init(dataDirectory: String, warehouse: WarehouseReader, outboxes: OutboxStore? = nil,
                kinds: [any IntegrationKind.Type] = IntegrationKinds.all, options: Options = Options(),
                logger: Logger = Logger(label: "trackhouse.integrations")) {
        self.dataDirectory = dataDirectory
        self.warehouse = warehouse
        let store = outboxes ?? OutboxStore(dataDirectory: dataDirectory)
        self.outboxes = store
        self.kinds = kinds
        self.options = options
        self.logger = logger
        self.follower = LifecycleFollower(warehouse: warehouse, outboxes: store, kinds: kinds, logger: logger)
        self.http = DeliveryHTTP(options: options.http)
    }

    /// Asks the loop to look again now (a compaction committed, a delivery finished).
    public func wake() {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                state.woken = false
                return waiter
            }
            state.woken = true
            return nil
        }?.resume()
    }

    /// The integrations as last loaded, and the registry entries that were refused.
    public var catalog: IntegrationCatalog { state.withLock { $0.catalog } }
    public var lastFollowError: String? { state.withLock { $0.lastFollowError } }

    /// Runs until the task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            var hookRanAt: Int64?
            while !Task.isCancelled {
                await follow()
                await compactOutboxesIfDue()
                // The hook (digests: a closed period at most daily) runs once per poll
                // interval, not at every wake: a wake comes with each finished delivery.
                let now = options.clock()
                if hookRanAt.map({ now - $0 >= Int64(options.pollIntervalSeconds * 1e6) }) ?? true {
                    hookRanAt = now
                    await runBeforeDispatch()
                }
                flushCompleted()
                dispatch(into: &group)
                await sleepUntilWokenOrDue()
            }
        }
        flushCompleted()
        await http.shutdown()
    }

    /// Follows the warehouse once, delivers everything due and waits for those attempts (tests).
    public func runOnce() async {
        await follow()
        await runBeforeDispatch()
        await withDiscardingTaskGroup { group in dispatch(into: &group) }
        flushCompleted()
    }

    /// Writes the outcomes gathered since the last call, one append per integration, then
    /// lets their sites go on. When the write fails (a full disk) the outcomes are kept and
    /// their entries stay in flight: nothing is sent again and no site moves on until the
    /// outcome is durable (the next pass tries again); only a crash before then repeats a
    /// delivery (at least once).
    func flushCompleted() {
        let batches = state.withLock { state in
            defer { state.completed = [:] }
            return state.completed
        }
        for (key, batch) in batches {
            do { try batch.log.record(batch.records) } catch {
                logFailure("integrations: writing the outbox failed", key: "record:\(key)", error: error, integration: key)
                state.withLock { state in
                    let newer = state.completed[key]?.records ?? []
                    state.completed[key] = (batch.log, batch.records + newer)
                }
                continue
            }
            state.withLock { state in
                for record in batch.records { state.inFlight[key]?.remove(record.id) }
            }
        }
    }

    /// Logs a failure once per `failureLog` interval per kind of failure, with how many were
    /// not logged since (`repeats`).
    func logFailure(_ message: Logger.Message, key: String, error: Any, integration: String? = nil) {
        let text = "\(error)"
        let (log, repeats) = failureLog.admit(key + "|" + text)
        guard log else { return }
        var metadata: Logger.Metadata = ["error": "\(text)", "repeats": "\(repeats)"]
        if let integration { metadata["integration"] = "\(integration)" }
        logger.error(message, metadata: metadata)
    }

    public func shutdown() async {
        await http.shutdown()
    }

    // MARK: Following

    func currentCatalog() -> IntegrationCatalog {
        if let provider = options.catalog { return provider() }
        let path = dataDirectory + "/projects.json"
        var info = stat()
        let stamp: [Int64] = stat(path, &info) == 0
            ? [Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec), Int64(info.st_ino)] : []
        if let cached = state.withLock({ $0.catalogStamp == stamp && !stamp.isEmpty ? $0.catalog : nil }) { return cached }
        let catalog = IntegrationCatalog.load(dataDirectory: dataDirectory, kinds: kinds)
        for error in catalog.errors {
            logger.warning("integration refused", metadata: ["error": "\(error)"])
        }
        state.withLock {
            $0.catalog = catalog
            $0.catalogStamp = stamp
        }
        return catalog
    }

    /// Runs the follower (file I/O, maybe a rescan) on its own thread when the warehouse or
    /// the registry changed, or every 30 s.
    func follow() async {
        let catalog = currentCatalog()
        let fingerprint = catalog.all.map { "\($0.qualifiedID)|\($0.kind)|\($0.sinceMicros)" }
        let newest = warehouse.newestVersion
        let now = options.clock()
        let due = state.withLock { state in
            state.followedVersion != newest || state.followedCatalog != fingerprint || now - state.followedAtMicros > 30_000_000
        }
        guard due, !catalog.byProject.isEmpty else { return }
        let follower = self.follower
        let error: String? = await withCheckedContinuation { continuation in
            followQueue.async {
                do {
                    try follower.step(catalog: catalog)
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: "\(error)")
                }
            }
        }
        if let error { logFailure("integrations: following the warehouse failed", key: "follow", error: error) }
        state.withLock { state in
            state.lastFollowError = error
            if error == nil {
                state.followedVersion = newest
                state.followedCatalog = fingerprint
                state.followedAtMicros = now
            }
        }
    }

    /// Compacts every configured integration's outbox (`OutboxLog.compact`) on the follow queue,
    /// under the project's lock (so never between a follower's append and its state save), once
    /// per `outboxCompactIntervalSeconds`.
    func compactOutboxesIfDue() async {
        let now = options.clock()
        let intervalMicros = Int64(options.outboxCompactIntervalSeconds * 1e6)
        let due = state.withLock { state in
            guard now - state.compactedAtMicros >= intervalMicros else { return false }
            state.compactedAtMicros = now
            return true
        }
        let catalog = currentCatalog()
        guard due, !catalog.byProject.isEmpty else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            followQueue.async {
                self.compactOutboxes(catalog: catalog, nowMicros: now)
                continuation.resume()
            }
        }
    }

    /// One compaction pass over the catalog's outboxes. Returns how many entries went.
    @discardableResult
    func compactOutboxes(catalog: IntegrationCatalog, nowMicros: Int64) -> Int {
        var dropped = 0
        for (projectID, integrations) in catalog.byProject {
            do {
                try LifecycleStateFile.withProjectLock(root: outboxes.root, projectID: projectID) {
                    for integration in integrations {
                        let log = outboxes.log(projectID: projectID, integrationID: integration.id)
                        let count = try log.compact(nowMicros: nowMicros, retentionSeconds: options.outboxRetentionSeconds,
                                                    minimumDropped: options.outboxCompactMinimumDropped)
                        if count > 0 {
                            logger.info("integrations: outbox compacted", metadata: [
                                "integration": "\(integration.qualifiedID)", "dropped": "\(count)"])
                        }
                        dropped += count
                    }
                }
            } catch {
                logFailure("integrations: compacting the outbox failed", key: "compact:\(projectID)", error: error)
            }
        }
        return dropped
    }

    /// `Options.beforeDispatch` on the follow queue (it may run SQL and write files).
    func runBeforeDispatch() async {
        guard let hook = options.beforeDispatch else { return }
        let catalog = currentCatalog()
        guard !catalog.byProject.isEmpty else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            followQueue.async {
                hook(catalog)
                continuation.resume()
            }
        }
    }

    // MARK: Delivering

    func dispatch(into group: inout DiscardingTaskGroup) {
        let catalog = state.withLock { $0.catalog }
        let now = options.clock()
        for integration in catalog.all {
            guard let kindType = kinds.first(where: { $0.name == integration.kind }) else { continue }
            let log = outboxes.log(projectID: integration.projectID, integrationID: integration.id)
            let inFlight = state.withLock { $0.inFlight[integration.qualifiedID] ?? [] }
            let scan: OutboxLog.DueScan
            do { scan = try log.scanDue(nowMicros: now, limit: options.inFlightMax - inFlight.count, inFlight: inFlight) } catch {
                logFailure("integrations: reading the outbox failed", key: "read:\(integration.qualifiedID)", error: error,
                           integration: integration.qualifiedID)
                continue
            }
            let picked = scan.due
            Gauge(label: "trackhouse_outbox_pending", dimensions: [("integration", integration.id)]).record(scan.pending)
            Gauge(label: "trackhouse_outbox_oldest_pending_age_seconds", dimensions: [("integration", integration.id)])
                .record(scan.oldestPendingAddedAtMicros.map { Double(max(0, now - $0)) / 1e6 } ?? 0)
            guard !picked.isEmpty else { continue }
            let kind = state.withLock { state -> any IntegrationKind in
                state.inFlight[integration.qualifiedID, default: []].formUnion(picked.map(\.id))
                if let made = state.kindsByIntegration[integration.qualifiedID], made.settings == integration { return made.kind }
                let kind = kindType.init(settings: integration)
                state.kindsByIntegration[integration.qualifiedID] = (integration, kind)
                return kind
            }
            for entry in picked {
                group.addTask {
                    if let record = await self.attempt(entry, integration: integration, kind: kind) {
                        self.state.withLock { state in
                            state.completed[integration.qualifiedID, default: (log, [])].records.append((entry.id, record))
                        }
                    } else {
                        self.state.withLock { state in _ = state.inFlight[integration.qualifiedID]?.remove(entry.id) }
                    }
                    self.wake()
                }
            }
        }
    }

    /// One attempt; the record to write (nil when cancelled: the entry stays as it was).
    func attempt(_ entry: OutboxLog.Entry, integration: IntegrationSettings, kind: any IntegrationKind) async -> AttemptRecord? {
        let delivery = Delivery(id: entry.id, type: entry.type, projectID: integration.projectID, siteKey: entry.siteKey,
                                body: entry.body ?? .null, attempt: entry.attempts + 1)
        let outcome = await kind.deliver(delivery, http: http)
        if Task.isCancelled { return nil }
        let now = options.clock()
        let record = Self.record(for: outcome, entry: entry, nowMicros: now, options: options)
        Counter(label: "trackhouse_deliveries_total",
                dimensions: [("integration", integration.id), ("outcome", record.kind == .attempt ? "retry" : record.kind.rawValue)]).increment()
        if record.kind != .delivered {
            logger.notice("integrations: delivery not done", metadata: [
                "integration": "\(integration.qualifiedID)", "delivery": "\(entry.id)", "outcome": "\(record.kind.rawValue)",
                "status": "\(record.status.map(String.init) ?? "-")", "error": "\(record.error ?? "")"])
        }
        return record
    }

    /// The log record for an outcome: the backoff and the 24 h window are decided here.
    static func record(for outcome: DeliveryOutcome, entry: OutboxLog.Entry, nowMicros now: Int64, options: Options) -> AttemptRecord {
        switch outcome {
        case .delivered(let status, let note):
            return AttemptRecord(kind: .delivered, atMicros: now, status: status, error: note)
        case .dead(let status, let error):
            return AttemptRecord(kind: .dead, atMicros: now, status: status, error: error)
        case .retry(let status, let error, let retryAfter):
            let first = entry.firstAttemptAtMicros ?? now
            let windowMicros = Int64(options.retryWindowSeconds * 1e6)
            if now - first >= windowMicros {
                return AttemptRecord(kind: .dead, atMicros: now, status: status,
                                     error: "gave up after \(Int(options.retryWindowSeconds)) s of retries; last: \(error)")
            }
            let attempt = entry.attempts + 1
            let exponential = min(options.backoffMaxSeconds, options.backoffBaseSeconds * pow(2, Double(min(attempt - 1, 40))))
            let delay = retryAfter ?? exponential * options.jitter()
            // The last try happens at the window's end rather than after it.
            let next = min(now + Int64(delay * 1e6), first + windowMicros)
            return AttemptRecord(kind: .attempt, atMicros: now, status: status, error: error, nextAttemptAtMicros: next)
        }
    }

    /// Sleeps `pollIntervalSeconds`, or until `wake()` (a finished delivery, a compaction):
    /// a slot freed by a delivery is refilled at once, not at the next poll.
    func sleepUntilWokenOrDue() async {
        let pollNs = UInt64(options.pollIntervalSeconds * 1e9)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(nanoseconds: pollNs) }
            group.addTask { await self.waitForWake() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForWake() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.woken || Task.isCancelled {
                        state.woken = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state -> CheckedContinuation<Void, Never>? in
                let waiter = state.waiter
                state.waiter = nil
                return waiter
            }?.resume()
        }
    }
}
