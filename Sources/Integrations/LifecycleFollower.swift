import ColumnStore
import Core
import Foundation
import Logging
import Synchronization

/// Turns committed events into lifecycle events (CONTRACT §8) in each integration's outbox.
///
/// The algorithm, per project that has at least one integration:
/// 1. Under the project's lock (`<data>/outbox/<project>/.lock`), load the project's lifecycle
///    state (`lifecycle.json`): the warehouse version it reflects, the integration ids it has
///    served, and per site_key the site's newest event (type, received_at, event_id), its
///    first_seen and its event count — over ALL history, so "no earlier event" is true history.
/// 2. Rescan when there is no state, when the registry names an integration the state has not
///    served (a new integration: its backlog from `since` on is built from history), or when
///    the log no longer holds the commits after the state's version (`behind`): the state is
///    rebuilt from every events file of the newest snapshot. Otherwise read only the commits
///    after the state's version: `compact` commits bring new events (compaction dedupes by
///    event_id across the warehouse, so a re-import or a rerun adds nothing); `merge` and
///    `relayout` rewrite rows already seen and are skipped.
/// 3. Sort the rows by (site_key bytes, received_at, event_id), as compaction orders a site's
///    events. Walk them against the state: a row not newer than the site's newest event is
///    late (an old file imported after newer ones): it counts toward first_seen and
///    event_count but makes no lifecycle event, since the site's lifecycle already moved past
///    it. Otherwise `track` → `site.activated` when the site had no event or its previous
///    one was `deactivate`/`skip`; `deactivate` → `site.deactivated`; `skip` → `site.skipped`.
///    Rows without a site_key belong to no site and make none. Rows older than every
///    integration's `since` are folded into the state as read (order does not matter for
///    them), so a rescan holds only the recent rows, not all of history.
/// 4. An event becomes an entry of each integration whose `since` is at or before its
///    received_at and whose kind accepts it; only those rows' full columns are read.
/// 5. Append each integration's new entries in (received_at, event_id) order (per site that is
///    lifecycle order) to its outbox, fsynced; the outbox ignores ids it already holds (and, on
///    a rescan, anything at or below its compaction floor: see `OutboxLog`, step 6). Then
///    write the state atomically with the new version. A crash between the two repeats step
///    2–5 from the old version: the same ids, ignored. The cursor therefore never runs ahead
///    of the entries it produced.
public final class LifecycleFollower: Sendable {
    let warehouse: WarehouseReader
    let outboxes: OutboxStore
    let kinds: [any IntegrationKind.Type]
    let logger: Logger
    /// The state as this follower last loaded or saved it, with the file's identity then: a
    /// step reuses it instead of parsing `lifecycle.json` again (one entry per site ever seen,
    /// so the parse grows with the project). Another writer (a privacy erase) renames a new
    /// file in, which changes the identity.
    private let cachedStates = Mutex<[String: (stamp: [Int64], state: LifecycleState)]>([:])

    public init(warehouse: WarehouseReader, outboxes: OutboxStore, kinds: [any IntegrationKind.Type] = IntegrationKinds.all,
                logger: Logger = Logger(label: "trackhouse.integrations")) {
        self.warehouse = warehouse
        self.outboxes = outboxes
        self.kinds = kinds
        self.logger = logger
    }

    /// `lifecycle.json` of the project, from the cache when the file is the one last seen.
    private func loadState(projectID: String) throws -> LifecycleState? {
        let stamp = LifecycleStateFile.stamp(root: outboxes.root, projectID: projectID)
        if let stamp, let cached = cachedStates.withLock({ $0[projectID] }), cached.stamp == stamp { return cached.state }
        let state = try LifecycleStateFile.load(root: outboxes.root, projectID: projectID)
        cachedStates.withLock { $0[projectID] = stamp.flatMap { stamp in state.map { (stamp, $0) } } }
        return state
    }

    /// One pass over every project with integrations. Returns the number of new outbox entries.
    @discardableResult
    public func step(catalog: IntegrationCatalog) throws -> Int {
        var added = 0
        for projectID in catalog.byProject.keys.sorted() {
            added += try step(projectID: projectID, integrations: catalog.byProject[projectID]!)
        }
        return added
    }

    func step(projectID: String, integrations: [IntegrationSettings]) throws -> Int {
        try LifecycleStateFile.withProjectLock(root: outboxes.root, projectID: projectID) {
            let stored = try loadState(projectID: projectID)
            let ids = Set(integrations.map(\.id))
            var state = stored ?? LifecycleState()
            var sources: [RowSource] = []
            var rescan = stored == nil || !ids.isSubset(of: state.integrationIDs)
            if !rescan {
                let newest = warehouse.newestVersion
                guard newest > state.version else { return 0 }
                do {
                    for change in try warehouse.changes(after: state.version, through: newest) {
                        switch change.operation {
                        case .compact:
                            for file in change.added where file.table == .events && file.projectID == projectID {
                                sources.append(RowSource(open: { try change.open(file) }))
                            }
                        case .merge, .relayout, .checkpoint:
                            continue
                        case .erase, .retention:
                            // Rows left, none arrived: nothing to announce. A privacy erase drops
                            // the subject's entries and sites from the outbox itself
                            // (`OutboxStore.dropEntries`, called by the erase).
                            continue
                        }
                    }
                    state.version = newest
                } catch let error as WarehouseError where error.code == .behind {
                    logger.info("integrations: commit log moved past the lifecycle state; rebuilding it from the warehouse",
                                metadata: ["project": "\(projectID)"])
                    rescan = true
                }
            }
            var events: [[LifecycleEvent]] = []
            if !rescan {
                let before = state
                do {
                    events = try lifecycleEvents(projectID: projectID, sources: sources, state: &state, integrations: integrations)
                } catch {
                    // A file a commit added is gone (retired long after a merge replaced it,
                    // while this follower was stopped): history is read from the snapshot.
                    logger.info("integrations: a committed file is not readable any more; rebuilding the lifecycle state from the warehouse",
                                metadata: ["project": "\(projectID)", "error": "\(warehouse.describe(error))"])
                    state = before
                    rescan = true
                }
            }
            if rescan {
                let snapshot = try warehouse.snapshot()
                state = LifecycleState()
                state.version = snapshot.version
                sources = snapshot.files(.events, projectID: projectID).map { file in RowSource(open: { try snapshot.open(file) }) }
                events = try lifecycleEvents(projectID: projectID, sources: sources, state: &state, integrations: integrations)
            }
            var added = 0
            for (index, integration) in integrations.enumerated() where !events[index].isEmpty {
                // A rescan replays history: what the outbox compacted away (at or below its
                // floor) was delivered or dead long ago and is not added again.
                added += try outboxes.log(projectID: projectID, integrationID: integration.id)
                    .add(events[index], belowFloor: rescan ? .skip : .add)
            }
            state.integrationIDs.formUnion(ids)
            try LifecycleStateFile.save(state, root: outboxes.root, projectID: projectID)
            let savedStamp = LifecycleStateFile.stamp(root: outboxes.root, projectID: projectID)
            cachedStates.withLock { $0[projectID] = savedStamp.map { ($0, state) } }
            if added > 0 {
                logger.debug("integrations: new deliveries", metadata: ["project": "\(projectID)", "entries": "\(added)"])
            }
            return added
        }
    }

    /// Steps 3 and 4: the lifecycle events of `sources`' rows per integration (same order as
    /// `integrations`), each list in (received_at, event_id) order; `state` moves past them.
    func lifecycleEvents(projectID: String, sources: [RowSource], state: inout LifecycleState,
                         integrations: [IntegrationSettings]) throws -> [[LifecycleEvent]] {
        var readers: [ParquetFileReader] = []
        var rows: [KeyRow] = []
        // Rows older than every integration's `since` never become events: they are folded
        // into the state as they are read (newest event wins, first_seen is the minimum, the
        // count grows), which gives the same state as walking them sorted, without holding
        // all of history in memory for a rescan. Every kept row is newer than all of them.
        let foldBefore = integrations.map(\.sinceMicros).min() ?? Int64.max
        for source in sources {
            let reader = try source.open()
            let file = Int32(readers.count)
            readers.append(reader)
            for group in reader.rowGroups.indices {
                let ids = try reader.readColumn(rowGroup: group, name: "event_id")
                let times = try reader.readColumn(rowGroup: group, name: "received_at")
                let names = try reader.readColumn(rowGroup: group, name: "event")
                let keys = try reader.readColumn(rowGroup: group, name: "site_key")
                let emails = try reader.readColumn(rowGroup: group, name: "admin_email")
                for row in 0..<reader.rowGroups[group].rowCount {
                    guard let key = keys.string(at: row), let id = ids.string(at: row), let time = times.int64(at: row),
                          let event = names.string(at: row) else { continue }
                    if time < foldBefore {
                        Self.fold(event: event, time: time, id: id, siteKey: key, into: &state)
                        continue
                    }
                    let email = emails.string(at: row)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                    rows.append(KeyRow(file: file, group: Int32(group), row: Int32(row), siteKey: key, time: time, id: id,
                                       event: event, hasEmail: !email.isEmpty))
                }
            }
        }
        rows.sort { a, b in
            if a.siteKey != b.siteKey { return a.siteKey.utf8.lexicographicallyPrecedes(b.siteKey.utf8) }
            if a.time != b.time { return a.time < b.time }
            return a.id < b.id
        }
        let accepting = integrations.map { integration in kinds.first { $0.name == integration.kind } }
        var emits: [Emit] = []
        for row in rows {
            let previous = state.sites[row.siteKey]
            if let previous, (row.time, row.id) <= (previous.time, previous.eventID) {
                if row.id != previous.eventID {
                    state.sites[row.siteKey]!.firstSeen = min(previous.firstSeen, row.time)
                    state.sites[row.siteKey]!.count += 1
                }
                continue
            }
            let type: LifecycleEvent.EventType?
            switch row.event {
            case "track": type = previous == nil || previous!.event != "track" ? .activated : nil
            case "deactivate": type = .deactivated
            case "skip": type = .skipped
            default: type = nil
            }
            let site = SiteState(event: row.event, time: row.time, eventID: row.id,
                                 firstSeen: min(previous?.firstSeen ?? row.time, row.time), count: (previous?.count ?? 0) + 1)
            state.sites[row.siteKey] = site
            guard let type else { continue }
            var targets: [Int] = []
            for (index, integration) in integrations.enumerated() where row.time >= integration.sinceMicros {
                if let kind = accepting[index], kind.accepts(type, hasAdminEmail: row.hasEmail) { targets.append(index) }
            }
            guard !targets.isEmpty else { continue }
            emits.append(Emit(row: row, type: type, summary: SiteSummary(event: row.event, firstSeenMicros: site.firstSeen,
                                                                          lastSeenMicros: row.time, eventCount: site.count),
                              targets: targets))
        }
        // Full columns only for the rows that became events, one row group read at a time.
        var result = [[LifecycleEvent]](repeating: [], count: integrations.count)
        let byGroup = Dictionary(grouping: emits.indices) { GroupKey(file: emits[$0].row.file, group: emits[$0].row.group) }
        var built = [LifecycleEvent?](repeating: nil, count: emits.count)
        for (key, indices) in byGroup {
            let reader = readers[Int(key.file)]
            let columns = try reader.readRowGroup(Int(key.group))
            let names = reader.schema.columns.map(\.name)
            for index in indices {
                let emit = emits[index]
                var values: [String: JSONValue] = [:]
                for (position, name) in names.enumerated() {
                    guard let column = TableSchema.events.columnIndex(named: name) else { continue }
                    values[name] = Self.json(columns[position], row: Int(emit.row.row), kind: TableSchema.events.columns[column].kind)
                }
                let body = LifecycleEvent.body(id: emit.row.id, type: emit.type, projectID: projectID, occurredAtMicros: emit.row.time,
                                               eventColumns: values, summary: emit.summary)
                built[index] = LifecycleEvent(id: emit.row.id, type: emit.type, projectID: projectID, siteKey: emit.row.siteKey,
                                              occurredAtMicros: emit.row.time, body: body)
            }
        }
        let order = emits.indices.sorted { a, b in
            (emits[a].row.time, emits[a].row.id) < (emits[b].row.time, emits[b].row.id)
        }
        for index in order {
            for target in emits[index].targets { result[target].append(built[index]!) }
        }
        return result
    }

    /// A row that makes no event, into its site's state (order-independent).
    static func fold(event: String, time: Int64, id: String, siteKey: String, into state: inout LifecycleState) {
        guard var site = state.sites[siteKey] else {
            state.sites[siteKey] = SiteState(event: event, time: time, eventID: id, firstSeen: time, count: 1)
            return
        }
        guard id != site.eventID else { return }
        site.count += 1
        site.firstSeen = min(site.firstSeen, time)
        if (time, id) > (site.time, site.eventID) {
            site.event = event
            site.time = time
            site.eventID = id
        }
        state.sites[siteKey] = site
    }

    static func json(_ column: ColumnData, row: Int, kind: ColumnKind) -> JSONValue {
        switch kind {
        case .string: return column.string(at: row).map { .string($0) } ?? .null
        case .timestamp: return column.int64(at: row).map { .string(UTCTime.formatISO(micros: $0)) } ?? .null
        case .int64: return column.int64(at: row).map { .number(String($0)) } ?? .null
        case .bool: return column.bool(at: row).map { .bool($0) } ?? .null
        case .double: return column.double(at: row).map { .number(String($0)) } ?? .null
        }
    }

    struct RowSource {
        let open: () throws -> ParquetFileReader
    }

    struct KeyRow {
        var file: Int32
        var group: Int32
        var row: Int32
        var siteKey: String
        var time: Int64
        var id: String
        var event: String
        var hasEmail: Bool
    }

    struct Emit {
        var row: KeyRow
        var type: LifecycleEvent.EventType
        var summary: SiteSummary
        var targets: [Int]
    }

    struct GroupKey: Hashable {
        var file: Int32
        var group: Int32
    }
}

/// Per site: its newest event and its summary (CONTRACT §5's first_seen and event_count).
struct SiteState: Sendable, Equatable {
    var event: String
    var time: Int64
    var eventID: String
    var firstSeen: Int64
    var count: Int64
}

struct LifecycleState: Sendable {
    var version = 0
    var integrationIDs = Set<String>()
    var sites: [String: SiteState] = [:]
}

/// `<data>/outbox/<project>/lifecycle.json`:
/// `{"version":V,"integrations":[ID…],"sites":{"<site_key>":["<event>",<received_at µs>,"<event_id>",<first_seen µs>,<count>]…}}`,
/// written atomically (temp, fsync, rename).
enum LifecycleStateFile {
    static func path(root: String, projectID: String) -> String { root + "/" + projectID + "/lifecycle.json" }

    /// The file's identity (inode, size, modification time); nil when it is missing.
    static func stamp(root: String, projectID: String) -> [Int64]? {
        var info = stat()
        guard stat(path(root: root, projectID: projectID), &info) == 0 else { return nil }
        return [Int64(info.st_ino), Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec)]
    }

    static func load(root: String, projectID: String) throws -> LifecycleState? {
        let path = path(root: root, projectID: projectID)
        guard FileIO.exists(path) else { return nil }
        guard let value = try? JSONParser.parse(try FileIO.readFile(path), depthMax: 8),
              case .number(let version)? = value["version"], let parsedVersion = Int(version) else {
            // A damaged state is rebuilt from the warehouse (the outbox ignores ids it holds).
            return nil
        }
        var state = LifecycleState()
        state.version = parsedVersion
        if case .array(let ids)? = value["integrations"] { state.integrationIDs = Set(ids.compactMap(\.stringValue)) }
        if case .object(let sites)? = value["sites"] {
            for (key, item) in sites.pairs {
                guard case .array(let fields) = item, fields.count == 5, let event = fields[0].stringValue,
                      case .number(let time) = fields[1], let eventID = fields[2].stringValue,
                      case .number(let first) = fields[3], case .number(let count) = fields[4],
                      let timeValue = Int64(time), let firstValue = Int64(first), let countValue = Int64(count) else { return nil }
                state.sites[key] = SiteState(event: event, time: timeValue, eventID: eventID, firstSeen: firstValue, count: countValue)
            }
        }
        return state
    }

    static func save(_ state: LifecycleState, root: String, projectID: String) throws {
        var sites = JSONObject()
        for key in state.sites.keys.sorted() {
            let site = state.sites[key]!
            sites[key] = .array([.string(site.event), .number(String(site.time)), .string(site.eventID),
                                 .number(String(site.firstSeen)), .number(String(site.count))])
        }
        let object = JSONObject([("version", .number(String(state.version))),
                                 ("integrations", .array(state.integrationIDs.sorted().map { .string($0) })),
                                 ("sites", .object(sites))])
        var bytes = JSONWriter.serialize(.object(object))
        bytes.append(0x0A)
        try FileIO.writeFileAtomically(path(root: root, projectID: projectID), bytes)
    }

    static func removeSites(root: String, projectID: String, siteKeys: Set<String>) throws {
        guard var state = try load(root: root, projectID: projectID) else { return }
        let before = state.sites.count
        for key in siteKeys { state.sites[key] = nil }
        if state.sites.count != before { try save(state, root: root, projectID: projectID) }
    }

    /// Runs `body` holding the project's lock file (the follower and privacy erases take it).
    static func withProjectLock<T>(root: String, projectID: String, _ body: () throws -> T) throws -> T {
        let folder = root + "/" + projectID
        try FileIO.makeDirectories(folder)
        return try FileIO.withExclusiveLock(folder + "/.lock", body)
    }
}
