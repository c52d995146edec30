import Core

/// `<backup>/backup-manifest.json`: every file of a backup with its size and SHA-256, and the
/// warehouse version the backup holds. It is written last (atomically), so a folder without
/// it is an unfinished backup, and `verify --backup` checks every byte against it.
public struct BackupManifest: Sendable, Equatable {
    public static let fileName = "backup-manifest.json"
    /// Bumped when the layout of a backup changes; a reader refuses a newer one.
    public static let formatVersion = 1

    public struct File: Sendable, Equatable {
        /// Relative to the backup folder (and to the data folder it restores into).
        public var path: String
        public var bytes: Int64
        /// Lowercase hex.
        public var sha256: String
    }

    public var createdAtMicros: Int64
    /// The Trackhouse version that wrote it (informational).
    public var writtenBy: String
    /// The commit of `_log` the warehouse files are exactly the live files of.
    public var warehouseVersion: Int
    public var eventsRows: Int
    public var sitesRows: Int
    /// Sorted by path.
    public var files: [File]

    func encoded() -> [UInt8] {
        var object = JSONObject()
        object["format"] = .number(String(Self.formatVersion))
        object["created_at"] = .string(UTCTime.formatISO(micros: createdAtMicros))
        object["written_by"] = .string(writtenBy)
        object["warehouse_version"] = .number(String(warehouseVersion))
        object["events_rows"] = .number(String(eventsRows))
        object["sites_rows"] = .number(String(sitesRows))
        object["files"] = .array(files.map { file in
            .object(JSONObject([("path", .string(file.path)), ("bytes", .number(String(file.bytes))), ("sha256", .string(file.sha256))]))
        })
        var bytes = JSONWriter.serialize(.object(object))
        bytes.append(0x0A)
        return bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> BackupManifest {
        func fail(_ message: String) -> BackupError {
            BackupError(.badManifest, "\(path): \(message); the backup is incomplete or damaged — take a new one")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes, depthMax: 8) } catch { throw fail("not valid JSON (\(error))") }
        guard let format = int(value["format"]) else { throw fail("no format number") }
        guard format <= Self.formatVersion else {
            throw BackupError(.badManifest, "\(path): backup format \(format) was written by a newer Trackhouse; restore it with that version")
        }
        guard let created = value["created_at"]?.stringValue.flatMap(UTCTime.parseISO),
              let version = int(value["warehouse_version"]), let events = int(value["events_rows"]),
              let sites = int(value["sites_rows"]), case .array(let items)? = value["files"] else {
            throw fail("missing created_at, warehouse_version, events_rows, sites_rows or files")
        }
        var files: [File] = []
        for item in items {
            guard let relative = item["path"]?.stringValue, let size = int(item["bytes"]), let digest = item["sha256"]?.stringValue,
                  BackupPaths.isSafeRelative(relative), digest.utf8.count == 64 else { throw fail("bad file entry") }
            files.append(File(path: relative, bytes: Int64(size), sha256: digest))
        }
        return BackupManifest(createdAtMicros: created, writtenBy: value["written_by"]?.stringValue ?? "unknown",
                              warehouseVersion: version, eventsRows: events, sitesRows: sites, files: files)
    }

    private static func int(_ value: JSONValue?) -> Int? {
        if case .number(let text)? = value { return Int(text) }
        return nil
    }
}

public struct BackupError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case badManifest = "bad_manifest", targetNotEmpty = "target_not_empty", inconsistent, io
        case verifyFailed = "verify_failed", serverRunning = "server_running"
    }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

enum BackupPaths {
    /// A manifest path may not leave the folder it is restored into (a hostile manifest).
    static func isSafeRelative(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/") else { return false }
        return !path.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == ".." || $0 == "." || $0.isEmpty }
    }
}
