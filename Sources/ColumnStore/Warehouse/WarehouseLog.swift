import Core
import Foundation
import Logging

/// One live data file of the warehouse, as its commit recorded it.
public struct SegmentEntry: Sendable, Equatable {
    /// `sites` is a project's base snapshot (every site), `sitesDelta` a file of the sites one
    /// commit touched, already merged with their earlier state: the table `sites` is the base
    /// overlaid by its deltas, newest first (`SitesLayers`).
    public enum Table: String, Sendable { case events, sites, sitesDelta = "sites_delta" }
    /// Relative to the warehouse root, e.g. `events/project=acme/month=2026-11/part-….parquet`.
    public var path: String
    public var table: Table
    public var projectID: String
    /// `YYYY-MM` for events segments, nil for sites files.
    public var month: String?
    public var rows: Int
    public var bytes: Int64
    public var receivedAtMin: Int64
    public var receivedAtMax: Int64
}

/// How far a raw file has been compacted: `bytes` of its (uncompressed) content, always at a
/// line boundary; `complete` once the file can no longer grow.
public struct RawProgress: Sendable, Equatable {
    public var key: String
    public var bytes: Int64
    public var complete: Bool
}

/// What a commit did to the tables. Readers that follow the log switch over it, so a new
/// operation is a new case that every follower must decide about (the compiler asks).
public enum WarehouseOperation: String, Sendable, CaseIterable {
    /// Events that no earlier commit had (compaction dedupes by id across the warehouse),
    /// from raw files, and the sites snapshots they changed.
    case compact
    /// Small events segments rewritten into bigger ones: the same rows.
    case merge
    /// Segments rewritten into the current folder layout: the same rows.
    case relayout
    /// A checkpoint file's whole state; never the operation of a numbered commit.
    case checkpoint
    /// A privacy erase (`Compactor+Erase.swift`): segments and a sites snapshot rewritten
    /// without one subject's rows (fewer rows, recomputed sites), and the new compaction
    /// offsets of raw files rewritten without its lines. The files it replaced are deleted
    /// at once: a follower must rebuild what it derived from the project.
    case erase
    /// History retention (`--retention-months`): whole month partitions of `events` removed,
    /// and sites snapshots rewritten without the sites not seen since. Replaced files are
    /// deleted at once; a follower must rebuild.
    case retention
}

/// One numbered commit: the unit of atomicity (Delta-style). A commit file is created with a
/// put-if-absent link after its bytes are fsynced, so it either exists whole or not at all.
public struct WarehouseCommit: Sendable {
    public var version: Int
    public var timestampMicros: Int64
    public var operation: WarehouseOperation
    public var add: [SegmentEntry] = []
    public var remove: [String] = []
    public var raw: [RawProgress] = []

    func encoded() -> [UInt8] {
        Self.line(jsonObject())
    }

    /// The commit's fields; a checkpoint adds its `removed` array to them.
    func jsonObject() -> JSONObject {
        var object = JSONObject()
        object["version"] = .number(String(version))
        object["timestamp"] = .string(UTCTime.formatISO(micros: timestampMicros))
        object["operation"] = .string(operation.rawValue)
        object["add"] = .array(add.map(Self.json))
        object["remove"] = .array(remove.map { .string($0) })
        object["raw"] = .array(raw.map(Self.json))
        return object
    }

    /// One JSON document and a newline: the bytes of a log file.
    static func line(_ object: JSONObject) -> [UInt8] {
        var bytes = JSONWriter.serialize(.object(object))
        bytes.append(0x0A)
        return bytes
    }

    static func json(_ entry: SegmentEntry) -> JSONValue {
        var item = JSONObject()
        item["path"] = .string(entry.path)
        item["table"] = .string(entry.table.rawValue)
        item["project_id"] = .string(entry.projectID)
        item["month"] = entry.month.map { .string($0) } ?? .null
        item["rows"] = .number(String(entry.rows))
        item["bytes"] = .number(String(entry.bytes))
        item["received_at_min"] = .number(String(entry.receivedAtMin))
        item["received_at_max"] = .number(String(entry.receivedAtMax))
        return .object(item)
    }

    static func json(_ progress: RawProgress) -> JSONValue {
        .object(JSONObject([("key", .string(progress.key)), ("bytes", .number(String(progress.bytes))), ("complete", .bool(progress.complete))]))
    }

    static func decode(_ bytes: [UInt8], path: String, parts: WarehouseLog.Parts = .all) throws -> WarehouseCommit {
        try decodeWithJSON(bytes, path: path, parts: parts).commit
    }

    /// The commit and its parsed JSON (a checkpoint reads its extra `removed` array from it).
    static func decodeWithJSON(_ bytes: [UInt8], path: String, parts: WarehouseLog.Parts = .all) throws -> (commit: WarehouseCommit, value: JSONValue) {
        func fail(_ message: String) -> WarehouseError {
            WarehouseError(.corruptLog, "\(path): \(message); the commit log is damaged — restore the file or remove the warehouse folder and compact again from raw")
        }
        var value: JSONValue
        do {
            if parts == .files {
                // The writer (`jsonObject`, `checkpoint`) puts the raw progress and the
                // removal times last: a files-only reader stops there and never reads them
                // (most of a commit's bytes: one entry per raw hour file). A file laid out
                // otherwise, whose `add` or `remove` came after them, is parsed again whole.
                let (leading, stopped) = try JSONParser.parseLeadingMembers(bytes, depthMax: 8, stoppingAt: ["raw", "removed"])
                value = leading
                if stopped && (leading["add"] == nil || leading["remove"] == nil) {
                    value = try JSONParser.parse(bytes, depthMax: 8, skipping: ["raw", "removed"])
                }
            } else {
                value = try JSONParser.parse(bytes, depthMax: 8)
            }
        } catch { throw fail("not valid JSON (\(error))") }
        guard let version = int(value["version"]), let operationName = value["operation"]?.stringValue,
              let stamp = value["timestamp"]?.stringValue.flatMap(UTCTime.parseISO) else { throw fail("missing version, operation or timestamp") }
        guard let operation = WarehouseOperation(rawValue: operationName) else {
            throw WarehouseError(.corruptLog, "\(path): unknown operation \"\(operationName)\"; it was written by a newer Trackhouse — upgrade this one")
        }
        var commit = WarehouseCommit(version: Int(version), timestampMicros: stamp, operation: operation)
        if case .array(let items)? = value["add"] {
            for item in items {
                guard let path = item["path"]?.stringValue, let table = item["table"]?.stringValue.flatMap(SegmentEntry.Table.init),
                      let project = item["project_id"]?.stringValue, let rows = int(item["rows"]), let size = int(item["bytes"]),
                      let low = int(item["received_at_min"]), let high = int(item["received_at_max"]) else { throw fail("bad add entry") }
                commit.add.append(SegmentEntry(path: path, table: table, projectID: project, month: item["month"]?.stringValue,
                                               rows: Int(rows), bytes: size, receivedAtMin: low, receivedAtMax: high))
            }
        }
        if case .array(let items)? = value["remove"] { commit.remove = items.compactMap(\.stringValue) }
        if case .array(let items)? = value["raw"] {
            for item in items {
                guard let key = item["key"]?.stringValue, let size = int(item["bytes"]) else { throw fail("bad raw entry") }
                commit.raw.append(RawProgress(key: key, bytes: size, complete: item["complete"] == .bool(true)))
            }
        }
        return (commit, value)
    }

    static func int(_ value: JSONValue?) -> Int64? {
        if case .number(let text)? = value { return Int64(text) }
        return nil
    }
}

/// The warehouse's current state: the replay of every commit in version order.
public struct WarehouseState: Sendable, Equatable {
    public var version = 0
    /// The timestamp of commit `version` (nil: not read): a state kept from an earlier load is
    /// continued by `WarehouseLog.load(continuing:)` only while the log's commit `version`
    /// still carries it (the same log, not one restored or rebuilt under the same versions).
    public var versionTimestampMicros: Int64?
    public var segments: [String: SegmentEntry] = [:]
    public var raw: [String: RawProgress] = [:]
    /// When each file a commit removed was removed (commit time): replaced files are kept
    /// under a hidden name for a while (`WarehouseLayout.replacedName`), and this says when
    /// they may go.
    public var removedAtMicros: [String: Int64] = [:]
    /// The checkpoint the state was loaded from, or last written (0: none): the compactor
    /// writes the next one `checkpointInterval` commits later.
    public var checkpointVersion = 0

    mutating func apply(_ commit: WarehouseCommit) {
        precondition(commit.version == version + 1, "commits apply in order")
        for path in commit.remove {
            segments[path] = nil
            removedAtMicros[path] = commit.timestampMicros
        }
        for entry in commit.add { segments[entry.path] = entry }
        for progress in commit.raw { raw[progress.key] = progress }
        version = commit.version
        versionTimestampMicros = commit.timestampMicros
    }

    public func segments(table: SegmentEntry.Table, projectID: String? = nil) -> [SegmentEntry] {
        segments.values.filter { $0.table == table && (projectID == nil || $0.projectID == projectID) }
            .sorted { $0.path < $1.path }
    }

    /// A project's `sites` files, oldest first: its base snapshot (if any), then its deltas in
    /// commit order (their names carry the zero-padded version). A site's row is the one of the
    /// newest file that holds it.
    public func sitesLayers(projectID: String) -> [SegmentEntry] {
        segments(table: .sites, projectID: projectID) + segments(table: .sitesDelta, projectID: projectID)
    }
}

public struct WarehouseError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable { case corruptLog = "corrupt_log", concurrentCommit = "concurrent_commit", io, locked
        /// A follower asked for commits the log no longer holds (a checkpoint superseded them).
        case behind }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

/// Reads and appends the commit log `<warehouse>/_log/<version>.json`, and its checkpoints.
///
/// Checkpoints (Delta Lake's idea): a compactor that is `checkpointInterval` commits past the
/// last checkpoint writes `<version>.checkpoint.json`, the whole state at that version, and
/// then deletes what no reader needs any more. Without them the log grows by a file per
/// compaction (every 15 s in `serve` while data arrives: ~6,000 a day) and every reader
/// lists and replays all of it.
/// 1. Load: take the newest checkpoint that is not newer than the newest commit and reads
///    cleanly, then replay the commits after it, which must be contiguous. A damaged
///    checkpoint falls back to the one before it; with none usable, replay from commit 1.
/// 2. Checkpoint at version V: write the state atomically (temp, fsync, rename, fsync folder).
/// 3. Then remove, for the previous checkpoint P: commits up to P and checkpoints before P.
///    So P plus the commits after it stay readable (step 1's fallback), the folder holds at
///    most about two intervals of commits, and a reader following the log commit by commit
///    (the rollups) that fell further behind than that rebuilds from a load.
public enum WarehouseLog {
    /// What a reader of the log needs: `all` (the compactor: files and raw progress), or
    /// `files` only (the query engine, the server): the raw progress, most of a commit's bytes
    /// (one entry per raw hour file), and a checkpoint's removal times, which the writer puts
    /// last, are then not read at all (the compactor, which reads everything, is the one that
    /// finds damage there).
    public enum Parts: Sendable { case all, files }

    static func fileName(version: Int) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".json"
    }

    static func checkpointName(version: Int) -> String {
        String(fileName(version: version).dropLast(5)) + ".checkpoint.json"
    }

    /// The log folder's commits and checkpoints by version, ascending; hidden files (temps
    /// of an interrupted write) and anything else are ignored.
    struct Listing {
        var commits: [Int] = []
        var checkpoints: [Int] = []
        var newestCommit: Int { commits.last ?? 0 }

        init(layout: WarehouseLayout) {
            for name in FileIO.list(layout.logDirectory) where !name.hasPrefix(".") {
                if name.hasSuffix(".checkpoint.json") {
                    if let version = Listing.version(name.dropLast(16)) { checkpoints.append(version) }
                } else if name.hasSuffix(".json"), let version = Listing.version(name.dropLast(5)) {
                    commits.append(version)
                }
            }
            commits.sort()
            checkpoints.sort()
        }

        private static func version(_ digits: Substring) -> Int? {
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Int(digits)
        }
    }

    /// The state at the newest commit (algorithm step 1). Versions after the checkpoint used
    /// must be contiguous: a gap is damage, not a crash artefact (commits are created whole),
    /// and is reported as such.
    public static func load(layout: WarehouseLayout, parts: Parts = .all) throws -> WarehouseState {
        let listing = Listing(layout: layout)
        var damaged: [String] = []
        var loaded: WarehouseState?
        for checkpoint in listing.checkpoints.reversed() where checkpoint <= listing.newestCommit {
            let state: WarehouseState
            do { state = try readCheckpoint(version: checkpoint, layout: layout, parts: parts) } catch {
                damaged.append("\(error)")
                continue
            }
            loaded = try replay(listing.commits, onto: state, layout: layout, parts: parts)
            break
        }
        var state: WarehouseState
        if let loaded { state = loaded } else {
            do {
                state = try replay(listing.commits, onto: WarehouseState(), layout: layout, parts: parts)
            } catch let error as WarehouseError where !damaged.isEmpty {
                throw WarehouseError(error.code, "\(error.message) (and no checkpoint is usable: \(damaged.joined(separator: "; ")))")
            }
        }
        // A checkpoint with no commit after it: the commit of its version is still in the log
        // (a checkpoint removes commits up to the one before it), and says when it was made.
        if state.versionTimestampMicros == nil, state.version > 0 {
            state.versionTimestampMicros = try? commit(version: state.version, layout: layout, parts: .files).timestampMicros
        }
        return state
    }

    /// The state at the newest commit from `previous`, a state this process loaded or
    /// committed earlier, replaying only the commits after it: the cost of a load then
    /// follows the commits since, not the state's size (a checkpoint holds every raw file's
    /// progress: years of hours). A whole `load` when `previous` is nil, when the log no
    /// longer holds every commit after it (a checkpoint by another process removed some),
    /// or when the log's commit `previous.version` is not the one `previous` was made from.
    public static func load(layout: WarehouseLayout, parts: Parts = .all, continuing previous: WarehouseState?) throws -> WarehouseState {
        guard let previous, previous.version > 0, let stamp = previous.versionTimestampMicros else {
            return try load(layout: layout, parts: parts)
        }
        let listing = Listing(layout: layout)
        let after = listing.commits.filter { $0 > previous.version }
        if listing.commits.contains(previous.version), after.first.map({ $0 == previous.version + 1 }) ?? true,
           (try? commit(version: previous.version, layout: layout, parts: .files).timestampMicros) == stamp,
           let state = try? replay(after, onto: previous, layout: layout, parts: parts) {
            return state
        }
        return try load(layout: layout, parts: parts)
    }

    private static func replay(_ commits: [Int], onto start: WarehouseState, layout: WarehouseLayout, parts: Parts) throws -> WarehouseState {
        var state = start
        for version in commits where version > start.version {
            guard version == state.version + 1 else {
                throw WarehouseError(.corruptLog, "\(layout.logDirectory): commit \(state.version + 1) is missing before \(fileName(version: version))")
            }
            state.apply(try commit(version: version, layout: layout, parts: parts))
        }
        return state
    }

    /// The newest committed version (0 for an empty log), from the file names alone.
    public static func newestVersion(layout: WarehouseLayout) -> Int {
        Listing(layout: layout).newestCommit
    }

    /// One file of `_log`: a commit or a checkpoint, by name (relative to the log folder).
    public struct LogFile: Sendable, Equatable {
        public var name: String
        public var version: Int
        public var isCheckpoint: Bool
    }

    /// The log's commits and checkpoints as they are on disk now, by version (checkpoints
    /// after the commit of the same version): what a copy of the log (a backup) takes. Hidden
    /// temps are left out.
    public static func files(layout: WarehouseLayout) -> [LogFile] {
        let listing = Listing(layout: layout)
        let commits = listing.commits.map { LogFile(name: fileName(version: $0), version: $0, isCheckpoint: false) }
        let checkpoints = listing.checkpoints.map { LogFile(name: checkpointName(version: $0), version: $0, isCheckpoint: true) }
        return (commits + checkpoints).sorted { ($0.version, $0.isCheckpoint ? 1 : 0) < ($1.version, $1.isCheckpoint ? 1 : 0) }
    }

    /// One commit, for readers that follow the log incrementally (the rollups).
    public static func commit(version: Int, layout: WarehouseLayout, parts: Parts = .all) throws -> WarehouseCommit {
        let path = layout.logDirectory + "/" + fileName(version: version)
        let commit = try WarehouseCommit.decode(try FileIO.readFile(path), path: path, parts: parts)
        guard commit.version == version else {
            throw WarehouseError(.corruptLog, "\(path): holds version \(commit.version), expected \(version)")
        }
        return commit
    }

    /// Writes commit `state.version + 1` with put-if-absent. Throws `concurrentCommit` if
    /// another process committed that version first.
    static func append(_ commit: WarehouseCommit, layout: WarehouseLayout) throws {
        let path = layout.logDirectory + "/" + fileName(version: commit.version)
        guard try FileIO.createExclusively(path, commit.encoded()) else {
            throw WarehouseError(.concurrentCommit, "\(path) already exists: another compaction committed first")
        }
    }

    // MARK: - Checkpoints

    /// Steps 2–3: writes the checkpoint of `state` and removes what it supersedes. Call with
    /// the compaction lock held. `removedKeptMicros`: removal times older than this are left
    /// out (they only decide when a hidden replaced copy may go; recovery removes a copy
    /// whose time is unknown).
    static func checkpoint(_ state: inout WarehouseState, layout: WarehouseLayout, nowMicros: Int64,
                           removedKeptMicros: Int64 = 7 * 86_400_000_000) throws {
        // Step 3 deletes commits up to the previous checkpoint: only a state at the newest
        // commit may be checkpointed, or commits it does not hold would go.
        let newest = newestVersion(layout: layout)
        guard state.version == newest else {
            throw WarehouseError(.concurrentCommit, "checkpoint of version \(state.version) refused: the log's newest commit is \(newest)")
        }
        var commit = WarehouseCommit(version: state.version, timestampMicros: nowMicros, operation: .checkpoint)
        commit.add = state.segments.values.sorted { $0.path < $1.path }
        commit.raw = state.raw.values.sorted { $0.key < $1.key }
        var object = commit.jsonObject()
        // Dropped from the state too: a state kept in memory across runs (`load(continuing:)`)
        // would otherwise gather every removal of a server's life.
        state.removedAtMicros = state.removedAtMicros.filter { $0.value >= nowMicros - removedKeptMicros }
        object["removed"] = .array(state.removedAtMicros
            .sorted { $0.key < $1.key }
            .map { .object(JSONObject([("path", .string($0.key)), ("at", .number(String($0.value)))])) })
        try FileIO.writeFileAtomically(layout.logDirectory + "/" + checkpointName(version: state.version), WarehouseCommit.line(object))
        state.checkpointVersion = state.version
        // Invariant: what was just written reads back as the same state.
        let check = try readCheckpoint(version: state.version, layout: layout)
        guard check.segments == state.segments, check.raw == state.raw else {
            throw WarehouseError(.io, "checkpoint \(state.version) did not read back as written; the disk may be failing")
        }
        removeSuperseded(layout: layout, newestCheckpoint: state.version)
    }

    /// Step 3, also run after a crash between steps 2 and 3 (the next checkpoint repeats it).
    static func removeSuperseded(layout: WarehouseLayout, newestCheckpoint: Int) {
        let listing = Listing(layout: layout)
        guard let previous = listing.checkpoints.last(where: { $0 < newestCheckpoint }) else { return }
        for version in listing.commits where version <= previous {
            FileIO.remove(layout.logDirectory + "/" + fileName(version: version))
        }
        for version in listing.checkpoints where version < previous {
            FileIO.remove(layout.logDirectory + "/" + checkpointName(version: version))
        }
        // Temps of an interrupted commit or checkpoint (the lock holder is the only writer).
        for name in FileIO.list(layout.logDirectory) where name.hasPrefix(".tmp-") {
            FileIO.remove(layout.logDirectory + "/" + name)
        }
        try? FileIO.fsyncDirectory(layout.logDirectory)
    }

    static func readCheckpoint(version: Int, layout: WarehouseLayout, parts: Parts = .all) throws -> WarehouseState {
        let path = layout.logDirectory + "/" + checkpointName(version: version)
        let (commit, value) = try WarehouseCommit.decodeWithJSON(try FileIO.readFile(path), path: path, parts: parts)
        guard commit.version == version, commit.operation == .checkpoint else {
            throw WarehouseError(.corruptLog, "\(path): holds \(commit.operation) \(commit.version), expected checkpoint \(version)")
        }
        var state = WarehouseState()
        state.version = version
        state.checkpointVersion = version
        for entry in commit.add { state.segments[entry.path] = entry }
        for progress in commit.raw { state.raw[progress.key] = progress }
        if case .array(let items)? = value["removed"] {
            for item in items {
                guard let removed = item["path"]?.stringValue, let at = WarehouseCommit.int(item["at"]) else {
                    throw WarehouseError(.corruptLog, "\(path): bad removed entry")
                }
                state.removedAtMicros[removed] = at
            }
        }
        return state
    }
}
