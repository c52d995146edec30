import Foundation
import Ingest
import Logging

/// One live data file of the warehouse, as its commit recorded it.
public struct SegmentEntry: Sendable, Equatable {
    public enum Table: String, Sendable { case events, sites }
    /// Relative to the warehouse root, e.g. `events/project_id=acme/month=2026-11/part-….parquet`.
    public var path: String
    public var table: Table
    public var projectID: String
    /// `YYYY-MM` for events segments, nil for sites snapshots.
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

/// One numbered commit: the unit of atomicity (Delta-style). A commit file is created with a
/// put-if-absent link after its bytes are fsynced, so it either exists whole or not at all.
public struct WarehouseCommit: Sendable {
    public var version: Int
    public var timestampMicros: Int64
    public var operation: String
    public var add: [SegmentEntry] = []
    public var remove: [String] = []
    public var raw: [RawProgress] = []

    func encoded() -> [UInt8] {
        var object = JSONObject()
        object["version"] = .number(String(version))
        object["timestamp"] = .string(UTCTime.formatISO(micros: timestampMicros))
        object["operation"] = .string(operation)
        object["add"] = .array(add.map { entry in
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
        })
        object["remove"] = .array(remove.map { .string($0) })
        object["raw"] = .array(raw.map {
            .object(JSONObject([("key", .string($0.key)), ("bytes", .number(String($0.bytes))), ("complete", .bool($0.complete))]))
        })
        var bytes = JSONWriter.serialize(.object(object))
        bytes.append(0x0A)
        return bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> WarehouseCommit {
        func fail(_ message: String) -> WarehouseError {
            WarehouseError(.corruptLog, "\(path): \(message); the commit log is damaged — restore the file or remove the warehouse folder and compact again from raw")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, depthMax: 8) } catch { throw fail("not valid JSON (\(error))") }
        func int(_ v: JSONValue?) -> Int64? {
            if case .number(let text)? = v { return Int64(text) }
            return nil
        }
        guard let version = int(value["version"]), let operation = value["operation"]?.stringValue,
              let stamp = value["timestamp"]?.stringValue.flatMap(UTCTime.parseISO) else { throw fail("missing version, operation or timestamp") }
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
        return commit
    }
}

/// The warehouse's current state: the replay of every commit in version order.
public struct WarehouseState: Sendable {
    public var version = 0
    public var segments: [String: SegmentEntry] = [:]
    public var raw: [String: RawProgress] = [:]
    /// When each file a commit removed was removed (commit time): replaced files are kept
    /// under a hidden name for a while (`WarehouseLayout.replacedName`), and this says when
    /// they may go.
    public var removedAtMicros: [String: Int64] = [:]

    mutating func apply(_ commit: WarehouseCommit) {
        precondition(commit.version == version + 1, "commits apply in order")
        for path in commit.remove {
            segments[path] = nil
            removedAtMicros[path] = commit.timestampMicros
        }
        for entry in commit.add { segments[entry.path] = entry }
        for progress in commit.raw { raw[progress.key] = progress }
        version = commit.version
    }

    public func segments(table: SegmentEntry.Table, projectID: String? = nil) -> [SegmentEntry] {
        segments.values.filter { $0.table == table && (projectID == nil || $0.projectID == projectID) }
            .sorted { $0.path < $1.path }
    }
}

public struct WarehouseError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable { case corruptLog = "corrupt_log", concurrentCommit = "concurrent_commit", io, locked }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

/// Reads and appends the commit log `<warehouse>/_log/<version>.json`.
public enum WarehouseLog {
    static func fileName(version: Int) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".json"
    }

    /// Replays the log. Versions must be contiguous from 1; a gap is damage, not a crash
    /// artefact (commits are created whole), and is reported as such.
    public static func load(layout: WarehouseLayout) throws -> WarehouseState {
        var state = WarehouseState()
        let names = FileIO.list(layout.logDirectory).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        for name in names {
            guard let version = Int(name.dropLast(5)) else { continue }
            guard version == state.version + 1 else {
                throw WarehouseError(.corruptLog, "\(layout.logDirectory): commit \(state.version + 1) is missing before \(name)")
            }
            let path = layout.logDirectory + "/" + name
            let commit = try WarehouseCommit.decode(try FileIO.readFile(path), path: path)
            guard commit.version == version else {
                throw WarehouseError(.corruptLog, "\(path): holds version \(commit.version), expected \(version)")
            }
            state.apply(commit)
        }
        return state
    }

    /// The newest committed version (0 for an empty log), from the file names alone.
    public static func newestVersion(layout: WarehouseLayout) -> Int {
        FileIO.list(layout.logDirectory).reversed().lazy
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            .compactMap { Int($0.dropLast(5)) }.first ?? 0
    }

    /// One commit, for readers that follow the log incrementally (the rollups).
    public static func commit(version: Int, layout: WarehouseLayout) throws -> WarehouseCommit {
        let path = layout.logDirectory + "/" + fileName(version: version)
        let commit = try WarehouseCommit.decode(try FileIO.readFile(path), path: path)
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
}
