import Core
import Foundation
import Synchronization

/// The durable outbox of one integration: `<data>/outbox/<project>/<integration>/log.ndjson`,
/// an append-only log of records (grammar in the target README), replayed into memory.
///
/// The algorithm that keeps kill -9 harmless:
/// 1. Every change is a record appended under the integration's lock file (`lock`, flock):
///    open `log.ndjson` with O_APPEND, cut a torn tail (bytes after the last LF: a writer died
///    mid-line, so that record was never acknowledged), write whole lines, fdatasync, unlock.
///    A record is acknowledged only after its fdatasync returns.
/// 2. Before writing, the appender reads what other processes appended since its last read
///    (from its remembered offset), so memory always mirrors the file in file order.
/// 3. `add` records are appended in lifecycle order per site and never reordered: a rewrite
///    (privacy erase, `compact`) copies the surviving lines in their order into a temp file,
///    fsyncs it and renames it over the log under the same lock; a reader that sees another
///    inode (or a shorter file) replays the new file from the start.
/// 4. Replay: an `add` whose id is already known is ignored (delivery ids are unique per
///    integration: a replayed commit adds nothing); a state record (`attempt`, `delivered`,
///    `dead`, `retry`) applies to the entry it names, in file order; a line that is not valid
///    JSON (damage) is skipped and counted, never fatal.
/// 5. An entry's state is a function of its records, so a crash between a delivery and its
///    `delivered` record only means one more delivery of the same id (at least once).
/// 6. Compaction (`compact`) keeps the file bounded: entries decided (delivered or dead) more
///    than the retention ago are dropped with all their records by the rewrite of step 3, and
///    the rewritten file starts with a `floor` record: the newest `occurred_at` of every entry
///    ever dropped. An id above the floor is still in the file when it was ever added; one at or
///    below it may have been dropped, so the re-adds that replay history (the follower's
///    rescan, the digest scheduler's closed periods) skip everything at or below the floor
///    (`add(entries:belowFloor:)`, `isForgotten`) instead of sending it a second time.
public final class OutboxLog: Sendable {
    public enum Status: String, Sendable, CaseIterable { case pending, delivered, dead }

    public struct Entry: Sendable {
        public var id: String
        public var siteKey: String
        public var type: String
        public var occurredAtMicros: Int64
        public var addedAtMicros: Int64
        /// The lifecycle event's JSON (the webhook body); nil once delivered (not kept in memory).
        public var body: JSONValue?
        public var status: Status = .pending
        public var attempts = 0
        public var lastStatus: Int?
        public var lastError: String?
        public var nextAttemptAtMicros: Int64?
        public var deliveredAtMicros: Int64?
        public var firstAttemptAtMicros: Int64?
        /// When it became delivered or dead (nil while pending): compaction's clock.
        public var decidedAtMicros: Int64?
        /// Position in the log (file order): per site, lower goes first.
        public var sequence: Int
    }

    public let projectID: String
    public let integrationID: String
    public let directory: String
    var logPath: String { directory + "/log.ndjson" }
    var lockPath: String { directory + "/lock" }

    struct State {
        var entries: [Entry] = []
        var indexByID: [String: Int] = [:]
        var offset: Int64 = 0
        var inode: UInt64?
        var damagedLines = 0
        /// The newest `occurred_at` of the entries compaction dropped (step 6); nil: none.
        var floorMicros: Int64?
        /// How many entries are pending, and no pending entry lies before `firstPending`
        /// (kept as records apply, so a dispatch never walks the decided part of the log).
        var pendingCount = 0
        var firstPending = 0
    }
    private let state = Mutex(State())

    init(projectID: String, integrationID: String, directory: String) {
        self.projectID = projectID
        self.integrationID = integrationID
        self.directory = directory
    }

    // MARK: Reading

    /// Picks up what other processes wrote since the last read (or everything after a rewrite).
    public func refresh() throws {
        try state.withLock { try readNew(&$0) }
    }

    /// A copy of every entry, in log order.
    public func entries() throws -> [Entry] {
        try state.withLock { state in
            try readNew(&state)
            return state.entries
        }
    }

    public func contains(_ id: String) -> Bool {
        state.withLock { $0.indexByID[id] != nil }
    }

    public var damagedLines: Int { state.withLock { $0.damagedLines } }

    /// The newest `occurred_at` of the entries compaction dropped, if it dropped any.
    public var floorMicros: Int64? { state.withLock { $0.floorMicros } }

    /// Whether an entry with this id and time is known (held) or may have been held and
    /// compacted away (at or below the floor): a replay of history must not add it again.
    public func isKnownOrForgotten(_ id: String, occurredAtMicros: Int64) -> Bool {
        state.withLock { state in
            state.indexByID[id] != nil || (state.floorMicros.map { occurredAtMicros <= $0 } ?? false)
        }
    }

    private func readNew(_ state: inout State) throws {
        var info = stat()
        guard stat(logPath, &info) == 0 else {
            if state.inode != nil { state = State() }
            return
        }
        if state.inode != UInt64(info.st_ino) || Int64(info.st_size) < state.offset {
            state = State()
            state.inode = UInt64(info.st_ino)
        }
        guard Int64(info.st_size) > state.offset else { return }
        let bytes = try FileIO.readFile(logPath, fromOffset: state.offset)
        guard let lastNewline = bytes.lastIndex(of: 0x0A) else { return }
        var start = 0
        while start <= lastNewline {
            let end = bytes[start...lastNewline].firstIndex(of: 0x0A)!
            if end > start { apply(Array(bytes[start..<end]), to: &state) }
            start = end + 1
        }
        state.offset += Int64(lastNewline + 1)
    }

    private func apply(_ line: [UInt8], to state: inout State) {
        guard let record = try? JSONParser.parse(line, depthMax: 32) else {
            state.damagedLines += 1
            return
        }
        apply(record: record, to: &state)
    }

    /// Applies one parsed record (read back from the file, or just written by this process).
    private func apply(record: JSONValue, to state: inout State) {
        guard let op = record["op"]?.stringValue, let id = record["id"]?.stringValue else {
            state.damagedLines += 1
            return
        }
        if op == "floor" {
            if let floor = record["occurred_at"]?.stringValue.flatMap(UTCTime.parseISO) {
                state.floorMicros = max(state.floorMicros ?? floor, floor)
            }
            return
        }
        let at = record["at"]?.stringValue.flatMap(UTCTime.parseISO) ?? 0
        if op == "add" {
            guard state.indexByID[id] == nil else { return }
            guard let site = record["site"]?.stringValue, let type = record["type"]?.stringValue else {
                state.damagedLines += 1
                return
            }
            let occurred = record["occurred_at"]?.stringValue.flatMap(UTCTime.parseISO) ?? at
            state.indexByID[id] = state.entries.count
            state.entries.append(Entry(id: id, siteKey: site, type: type, occurredAtMicros: occurred, addedAtMicros: at,
                                       body: record["body"], nextAttemptAtMicros: at, sequence: state.entries.count))
            state.pendingCount += 1
            return
        }
        guard let index = state.indexByID[id] else { return }
        var entry = state.entries[index]
        let wasPending = entry.status == .pending
        let status: Int? = record["status"].flatMap { if case .number(let n) = $0 { return Int(n) }; return nil }
        switch op {
        case "attempt":
            entry.attempts += 1
            entry.firstAttemptAtMicros = entry.firstAttemptAtMicros ?? at
            entry.lastStatus = status
            entry.lastError = record["error"]?.stringValue
            entry.nextAttemptAtMicros = record["next"]?.stringValue.flatMap(UTCTime.parseISO) ?? at
        case "delivered":
            entry.attempts += 1
            entry.firstAttemptAtMicros = entry.firstAttemptAtMicros ?? at
            entry.status = .delivered
            entry.lastStatus = status
            entry.lastError = record["error"]?.stringValue
            entry.deliveredAtMicros = at
            entry.decidedAtMicros = at
            entry.nextAttemptAtMicros = nil
            entry.body = nil
        case "dead":
            if record["attempted"] != .bool(false) { entry.attempts += 1 }
            entry.firstAttemptAtMicros = entry.firstAttemptAtMicros ?? at
            entry.status = .dead
            entry.decidedAtMicros = at
            entry.lastStatus = status
            entry.lastError = record["error"]?.stringValue
            entry.nextAttemptAtMicros = nil
        case "retry":
            guard entry.status == .dead else { return }
            entry.status = .pending
            entry.decidedAtMicros = nil
            entry.firstAttemptAtMicros = nil
            entry.nextAttemptAtMicros = at
        default:
            state.damagedLines += 1
            return
        }
        state.entries[index] = entry
        if wasPending && entry.status != .pending { state.pendingCount -= 1 }
        if !wasPending && entry.status == .pending {
            state.pendingCount += 1
            state.firstPending = min(state.firstPending, index)
        }
    }

    /// What a dispatch needs from the log, without copying it.
    public struct DueScan: Sendable {
        /// Entries to send now, in log order.
        public var due: [Entry] = []
        public var pending = 0
        public var oldestPendingAddedAtMicros: Int64?
    }

    /// The entries to send now: in log order, at most `limit`, only the oldest undecided entry
    /// of each site, not in `inFlight`, due at `nowMicros`. The walk starts at the first
    /// pending entry and stops at the `limit`th pick, so its cost follows what is sent, not
    /// the log's length (it was a copy and a walk of every entry per dispatch: with thousands
    /// pending and a dispatch per finished delivery, that was most of the worker's CPU).
    public func scanDue(nowMicros: Int64, limit: Int, inFlight: Set<String>) throws -> DueScan {
        try state.withLock { state in
            try readNew(&state)
            while state.firstPending < state.entries.count, state.entries[state.firstPending].status != .pending {
                state.firstPending += 1
            }
            var scan = DueScan(pending: state.pendingCount)
            if state.firstPending < state.entries.count { scan.oldestPendingAddedAtMicros = state.entries[state.firstPending].addedAtMicros }
            var sites = Set<String>()
            var index = state.firstPending
            while index < state.entries.count, scan.due.count < limit {
                let entry = state.entries[index]
                index += 1
                // Only a site's oldest undecided entry may go, and only when not in flight.
                guard entry.status == .pending, sites.insert(entry.siteKey).inserted else { continue }
                guard !inFlight.contains(entry.id), (entry.nextAttemptAtMicros ?? 0) <= nowMicros, entry.body != nil else { continue }
                scan.due.append(entry)
            }
            return scan
        }
    }

    // MARK: Writing

    /// Appends `add` records for the entries whose id the log does not hold yet (in the given
    /// order), durably. Returns how many were new.
    /// `belowFloor: .skip` (a replay of history) also skips entries at or below the floor.
    @discardableResult
    public func add(_ events: [LifecycleEvent], belowFloor: BelowFloor = .add, nowMicros: Int64 = UTCTime.nowMicros()) throws -> Int {
        try add(entries: events.map {
            NewEntry(id: $0.id, siteKey: $0.siteKey, type: $0.type.rawValue, occurredAtMicros: $0.occurredAtMicros, body: $0.body)
        }, belowFloor: belowFloor, nowMicros: nowMicros)
    }

    /// What `add` does with an unknown id at or below the floor (step 6): `.skip` for a replay
    /// of history (it may be an entry compaction dropped), `.add` for new events (a late
    /// import of old raw files still announces a site history has not seen).
    public enum BelowFloor: Sendable { case add, skip }

    /// An entry to add: a lifecycle event, or what a kind makes itself (a digest).
    public struct NewEntry: Sendable {
        public var id: String
        public var siteKey: String
        public var type: String
        public var occurredAtMicros: Int64
        public var body: JSONObject

        public init(id: String, siteKey: String, type: String, occurredAtMicros: Int64, body: JSONObject) {
            self.id = id
            self.siteKey = siteKey
            self.type = type
            self.occurredAtMicros = occurredAtMicros
            self.body = body
        }
    }

    /// As `add(_:)`, for any entries: those whose id the log holds are skipped.
    @discardableResult
    public func add(entries: [NewEntry], belowFloor: BelowFloor = .add, nowMicros: Int64 = UTCTime.nowMicros()) throws -> Int {
        try appendRecords { state in
            var seen = Set<String>()
            let floor = belowFloor == .skip ? state.floorMicros ?? Int64.min : Int64.min
            return entries.compactMap { entry -> JSONObject? in
                guard entry.occurredAtMicros > floor, state.indexByID[entry.id] == nil, seen.insert(entry.id).inserted else { return nil }
                return JSONObject([("op", .string("add")), ("id", .string(entry.id)), ("site", .string(entry.siteKey)),
                                   ("type", .string(entry.type)),
                                   ("occurred_at", .string(UTCTime.formatISO(micros: entry.occurredAtMicros))),
                                   ("at", .string(UTCTime.formatISO(micros: nowMicros))), ("body", .object(entry.body))])
            }
        }
    }

    /// The outcome of one attempt at `id`.
    public func record(_ id: String, outcome: AttemptRecord) throws {
        try record([(id, outcome)])
    }

    /// Outcomes of several attempts, in one append (one fdatasync: the worker's group commit).
    public func record(_ outcomes: [(id: String, outcome: AttemptRecord)]) throws {
        try appendRecords { state in
            outcomes.compactMap { item in
                guard let index = state.indexByID[item.id], state.entries[index].status == .pending else { return nil }
                return item.outcome.json(id: item.id)
            }
        }
    }

    /// Dead entries (all, or those named) back to pending, due now. Returns how many.
    @discardableResult
    public func retryDead(ids: Set<String>? = nil, nowMicros: Int64 = UTCTime.nowMicros()) throws -> Int {
        try appendRecords { state in
            state.entries.filter { $0.status == .dead && (ids == nil || ids!.contains($0.id)) }.map {
                JSONObject([("op", .string("retry")), ("id", .string($0.id)), ("at", .string(UTCTime.formatISO(micros: nowMicros)))])
            }
        }
    }

    @discardableResult
    /// Appends the records `make` returns (computed after reading what others appended), under
    /// the lock, durably; then applies them in memory. Returns how many records were written.
    private func appendRecords(_ make: (State) -> [JSONObject]) throws -> Int {
        try state.withLock { state in
            try FileIO.makeDirectories(directory)
            return try withFileLock {
                try readNew(&state)
                let records = make(state)
                guard !records.isEmpty else { return 0 }
                var bytes: [UInt8] = []
                for record in records {
                    JSONWriter.append(.object(record), to: &bytes)
                    bytes.append(0x0A)
                }
                let created = !FileIO.exists(logPath)
                let fd = open(logPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw FileIOError(operation: "open", path: logPath, errno: errno) }
                defer { close(fd) }
                // A torn tail (a writer killed mid-line) was never acknowledged: cut it so the
                // new records start on a line of their own.
                var info = stat()
                guard fstat(fd, &info) == 0 else { throw FileIOError(operation: "stat", path: logPath, errno: errno) }
                if Int64(info.st_size) > state.offset && state.inode == UInt64(info.st_ino) {
                    guard ftruncate(fd, off_t(state.offset)) == 0 else { throw FileIOError(operation: "truncate", path: logPath, errno: errno) }
                }
                try bytes.withUnsafeBytes { try FileIO.writeAll(fd: fd, $0, path: logPath) }
                try FileIO.fdatasyncFile(fd: fd, path: logPath)
                if created { try FileIO.fsyncDirectory(directory) }
                // Nobody else wrote (the lock is held): memory takes the records as they are,
                // without parsing back the bytes just written (that parse was a third of the
                // follower's time).
                // The file ended at `state.offset` before the write (a torn tail was cut to it),
                // or it is new and empty.
                if state.inode == UInt64(info.st_ino) || (state.inode == nil && info.st_size == 0 && state.offset == 0) {
                    state.inode = UInt64(info.st_ino)
                    for record in records { apply(record: .object(record), to: &state) }
                    state.offset += Int64(bytes.count)
                } else {
                    try readNew(&state)
                }
                return records.count
            }
        }
    }

    /// Rewrites the log keeping only the entries `keep` accepts (with all their records), in
    /// order: temp file, fsync, rename, fsync folder, under the lock. Returns how many entries went.
    @discardableResult
    public func rewrite(keeping keep: (Entry, JSONValue?) -> Bool) throws -> Int {
        try state.withLock { state in
            guard FileIO.exists(logPath) else { return 0 }
            return try withFileLock {
                try readNew(&state)
                return try rewriteLocked(&state, raisingFloor: false) { entry, body in keep(entry, body) }
            }
        }
    }

    /// Compaction (step 6): drops the entries decided (delivered or dead) at or before
    /// `nowMicros − retentionSeconds`, when there are at least `minimumDropped` of them, and
    /// raises the floor to the newest `occurred_at` among them. Pending entries, and decided
    /// ones younger than the retention (the deliveries list shows them; dead ones can be
    /// retried), stay with all their records, in order. Returns how many entries went.
    @discardableResult
    public func compact(nowMicros: Int64 = UTCTime.nowMicros(), retentionSeconds: Double, minimumDropped: Int = 1) throws -> Int {
        let cutoff = nowMicros - Int64(retentionSeconds * 1e6)
        func droppable(_ entry: Entry) -> Bool { entry.status != .pending && (entry.decidedAtMicros ?? Int64.max) <= cutoff }
        return try state.withLock { state in
            guard FileIO.exists(logPath) else { return 0 }
            // Counted before taking the file lock: most passes find too few and write nothing.
            try readNew(&state)
            guard state.entries.lazy.filter(droppable).count >= max(1, minimumDropped) else { return 0 }
            return try withFileLock {
                try readNew(&state)
                return try rewriteLocked(&state, raisingFloor: true) { entry, _ in !droppable(entry) }
            }
        }
    }

    /// The rewrite of step 3 (the caller holds both locks and has read the file): the lines of
    /// the entries `keep` accepts, in file order, behind a `floor` record (raised to the newest
    /// `occurred_at` dropped when `raisingFloor`); damaged lines and torn tails go.
    private func rewriteLocked(_ state: inout State, raisingFloor: Bool, keep: (Entry, JSONValue?) -> Bool) throws -> Int {
        let bytes = try FileIO.readFile(logPath)
        var kept: [UInt8] = []
        var floor = state.floorMicros
        var dropped = Set<String>()
        var decided: [String: Bool] = [:]
        var start = 0
        while let end = bytes[start...].firstIndex(of: 0x0A) {
            let line = bytes[start..<end]
            start = end + 1
            guard let record = try? JSONParser.parse(Array(line), depthMax: 32), let id = record["id"]?.stringValue,
                  record["op"]?.stringValue != "floor" else { continue }
            if decided[id] == nil, record["op"]?.stringValue == "add", let index = state.indexByID[id] {
                let entry = state.entries[index]
                let keepIt = keep(entry, record["body"])
                decided[id] = keepIt
                if !keepIt {
                    dropped.insert(id)
                    if raisingFloor { floor = max(floor ?? entry.occurredAtMicros, entry.occurredAtMicros) }
                }
            }
            guard decided[id] ?? true else { continue }
            kept.append(contentsOf: line)
            kept.append(0x0A)
        }
        guard !dropped.isEmpty else { return 0 }
        var output: [UInt8] = []
        if let floor {
            JSONWriter.append(.object(JSONObject([("op", .string("floor")), ("id", .string("")),
                                                  ("occurred_at", .string(UTCTime.formatISO(micros: floor)))])), to: &output)
            output.append(0x0A)
        }
        output.append(contentsOf: kept)
        let before = state.entries.count
        try FileIO.writeFileAtomically(logPath, output)
        state = State()
        try readNew(&state)
        // Invariants after the rewrite: exactly the dropped entries went, and the floor holds.
        precondition(state.entries.count == before - dropped.count, "outbox rewrite lost or kept entries it should not")
        precondition(state.floorMicros == floor, "outbox rewrite lost its floor")
        return dropped.count
    }

    private func withFileLock<T>(_ body: () throws -> T) throws -> T {
        try FileIO.withExclusiveLock(lockPath, body)
    }
}

/// What one attempt came to, as the log records it.
public struct AttemptRecord: Sendable {
    public enum Kind: String, Sendable { case attempt, delivered, dead }
    public var kind: Kind
    public var atMicros: Int64
    public var status: Int?
    public var error: String?
    public var nextAttemptAtMicros: Int64?

    public init(kind: Kind, atMicros: Int64, status: Int?, error: String?, nextAttemptAtMicros: Int64? = nil) {
        self.kind = kind
        self.atMicros = atMicros
        self.status = status
        self.error = error
        self.nextAttemptAtMicros = nextAttemptAtMicros
    }

    func json(id: String) -> JSONObject {
        var object = JSONObject([("op", .string(kind.rawValue)), ("id", .string(id)),
                                 ("at", .string(UTCTime.formatISO(micros: atMicros)))])
        object["status"] = status.map { .number(String($0)) } ?? .null
        if let error { object["error"] = .string(error) }
        if let next = nextAttemptAtMicros { object["next"] = .string(UTCTime.formatISO(micros: next)) }
        return object
    }
}

/// Every outbox of a data folder: `<data>/outbox/<project>/<integration>/`, one `OutboxLog`
/// object per integration per process (shared by the follower, the worker and the API).
public final class OutboxStore: Sendable {
    public let dataDirectory: String
    public var root: String { dataDirectory + "/outbox" }
    private let logs = Mutex<[String: OutboxLog]>([:])

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    public func log(projectID: String, integrationID: String) -> OutboxLog {
        let key = projectID + "/" + integrationID
        return logs.withLock { logs in
            if let log = logs[key] { return log }
            let log = OutboxLog(projectID: projectID, integrationID: integrationID, directory: root + "/" + key)
            logs[key] = log
            return log
        }
    }

    /// Projects with an outbox folder, sorted.
    public func projectIDs() -> [String] {
        FileIO.list(root).filter { FileIO.isDirectory(root + "/" + $0) && !$0.hasPrefix(".") }
    }

    /// The integrations of `projectID` with an outbox (including ones removed from the registry).
    public func integrationIDs(projectID: String) -> [String] {
        let folder = root + "/" + projectID
        return FileIO.list(folder).filter { FileIO.isDirectory(folder + "/" + $0) && !$0.hasPrefix(".") }
    }

    public func logs(projectID: String) -> [OutboxLog] {
        integrationIDs(projectID: projectID).map { log(projectID: projectID, integrationID: $0) }
    }

    /// Drops a subject's entries from every outbox of `projectID` (and its sites from the
    /// lifecycle state), for a privacy erase: entries of a site in `siteKeys`, or whose site's
    /// `admin_email` (trimmed, case-insensitive) is in `emails`, whatever their status. The
    /// files are rewritten atomically, so no copy of the email stays in the outbox. Returns
    /// how many entries were removed.
    @discardableResult
    public func dropEntries(projectID: String, siteKeys: Set<String> = [], emails: Set<String> = []) throws -> Int {
        let wantedEmails = Set(emails.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        var removed = 0
        try LifecycleStateFile.withProjectLock(root: root, projectID: projectID) {
            for log in logs(projectID: projectID) {
                removed += try log.rewrite { entry, body in
                    if siteKeys.contains(entry.siteKey) { return false }
                    if let email = body?["site"]?["admin_email"]?.stringValue,
                       wantedEmails.contains(email.trimmingCharacters(in: .whitespaces).lowercased()) { return false }
                    return true
                }
            }
            if !siteKeys.isEmpty { try LifecycleStateFile.removeSites(root: root, projectID: projectID, siteKeys: siteKeys) }
        }
        return removed
    }
}
