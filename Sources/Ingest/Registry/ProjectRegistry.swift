import Core
import Foundation
import Synchronization

/// One project of `<data>/projects.json` (CONTRACT §3).
public struct Project: Sendable, Equatable {
    public struct ExtraField: Sendable, Equatable {
        public enum FieldType: String, Sendable { case string, int, float, bool }
        public var key: String
        public var type: FieldType
        public init(key: String, type: FieldType) { self.key = key; self.type = type }
    }
    public struct Token: Sendable, Equatable {
        /// Lowercase hex SHA-256 of the bearer token; the token itself is never stored.
        public var sha256: String
        public var scope: String
        public init(sha256: String, scope: String) { self.sha256 = sha256; self.scope = scope }
    }

    public var id: String
    public var name: String
    public var type: String
    /// The SDK's project key, lowercased (hashes match case-insensitively).
    public var hash: String
    public var extraFields: [ExtraField]
    public var deactivationReasons: [String]
    public var tokens: [Token]

    public init(id: String, name: String, type: String = "plugin", hash: String,
                extraFields: [ExtraField] = [], deactivationReasons: [String] = [], tokens: [Token] = []) {
        self.id = id
        self.name = name
        self.type = type
        self.hash = hash.lowercased()
        self.extraFields = extraFields
        self.deactivationReasons = deactivationReasons
        self.tokens = tokens
    }
}

public struct RegistryError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

/// The parsed registry: projects by id and by lowercased hash, plus admin token hashes.
public struct ProjectRegistry: Sendable {
    public private(set) var projects: [Project]
    public private(set) var adminTokenHashes: [String]
    private var byHash: [String: Int]
    private var byID: [String: Int]

    public init(projects: [Project] = [], adminTokenHashes: [String] = []) {
        self.projects = projects
        self.adminTokenHashes = adminTokenHashes.map { $0.lowercased() }
        byHash = [:]
        byID = [:]
        for (index, project) in projects.enumerated() {
            byHash[project.hash] = index
            byID[project.id] = index
        }
    }

    public func project(hash: String) -> Project? {
        byHash[hash.lowercased()].map { projects[$0] }
    }

    public func project(id: String) -> Project? {
        byID[id].map { projects[$0] }
    }

    public static let idPattern = "^[a-z0-9][a-z0-9_-]{0,63}$"

    public static func isValidProjectID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        for (index, byte) in bytes.enumerated() {
            let isAlnum = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
            if index == 0 { if !isAlnum { return false } } else if !(isAlnum || byte == 0x5F || byte == 0x2D) { return false }
        }
        return true
    }

    /// Parses projects.json. Every problem names the project index and field.
    public static func parse(_ bytes: [UInt8], path: String) throws -> ProjectRegistry {
        let root: JSONValue
        do { root = try JSONParser.parse(bytes, depthMax: 16) } catch {
            throw RegistryError(path: path, message: "not valid JSON: \(error)")
        }
        guard case .object(let object) = root else {
            throw RegistryError(path: path, message: "the top level must be an object with a \"projects\" array")
        }
        var projects: [Project] = []
        if let list = object["projects"] {
            guard case .array(let entries) = list else {
                throw RegistryError(path: path, message: "\"projects\" must be an array")
            }
            var seenIDs = Set<String>()
            var seenHashes = Set<String>()
            for (index, entry) in entries.enumerated() {
                let project = try parseProject(entry, index: index, path: path)
                guard seenIDs.insert(project.id).inserted else {
                    throw RegistryError(path: path, message: "projects[\(index)]: duplicate id \"\(project.id)\"")
                }
                guard seenHashes.insert(project.hash).inserted else {
                    throw RegistryError(path: path, message: "projects[\(index)]: duplicate hash (another project has the same hash)")
                }
                projects.append(project)
            }
        }
        var admin: [String] = []
        if let list = object["admin_tokens"] {
            guard case .array(let entries) = list else {
                throw RegistryError(path: path, message: "\"admin_tokens\" must be an array")
            }
            for (index, entry) in entries.enumerated() {
                guard let sha = entry["sha256"]?.stringValue, isHexSHA256(sha) else {
                    throw RegistryError(path: path, message: "admin_tokens[\(index)].sha256 must be 64 hex digits")
                }
                admin.append(sha.lowercased())
            }
        }
        return ProjectRegistry(projects: projects, adminTokenHashes: admin)
    }

    static func isHexSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }
    }

    private static func parseProject(_ entry: JSONValue, index: Int, path: String) throws -> Project {
        let at = "projects[\(index)]"
        guard case .object = entry else { throw RegistryError(path: path, message: "\(at) must be an object") }
        guard let id = entry["id"]?.stringValue, isValidProjectID(id) else {
            throw RegistryError(path: path, message: "\(at).id must match \(idPattern)")
        }
        guard let hash = entry["hash"]?.stringValue, !hash.isEmpty else {
            throw RegistryError(path: path, message: "\(at) (\(id)): \"hash\" is required")
        }
        var extraFields: [Project.ExtraField] = []
        if case .array(let fields)? = entry["extra_fields"] {
            for (fieldIndex, field) in fields.enumerated() {
                guard let key = field["key"]?.stringValue, !key.isEmpty,
                      let typeName = field["type"]?.stringValue,
                      let type = Project.ExtraField.FieldType(rawValue: typeName) else {
                    throw RegistryError(path: path, message: "\(at).extra_fields[\(fieldIndex)] needs a key and a type string|int|float|bool")
                }
                extraFields.append(.init(key: key, type: type))
            }
        }
        var reasons: [String] = []
        if case .array(let list)? = entry["deactivation_reasons"] {
            reasons = list.compactMap(\.stringValue)
        }
        var tokens: [Project.Token] = []
        if case .array(let list)? = entry["tokens"] {
            for (tokenIndex, token) in list.enumerated() {
                guard let sha = token["sha256"]?.stringValue, isHexSHA256(sha) else {
                    throw RegistryError(path: path, message: "\(at).tokens[\(tokenIndex)].sha256 must be 64 hex digits")
                }
                tokens.append(.init(sha256: sha.lowercased(), scope: token["scope"]?.stringValue ?? "read"))
            }
        }
        return Project(id: id, name: entry["name"]?.stringValue ?? id, type: entry["type"]?.stringValue ?? "plugin",
                       hash: hash, extraFields: extraFields, deactivationReasons: reasons, tokens: tokens)
    }

    /// Serializes back to the CONTRACT §3 shape (used by `token create` and the generator).
    public func serialized() -> [UInt8] {
        var list: [JSONValue] = []
        for project in projects {
            var object = JSONObject()
            object["id"] = .string(project.id)
            object["name"] = .string(project.name)
            object["type"] = .string(project.type)
            object["hash"] = .string(project.hash)
            object["extra_fields"] = .array(project.extraFields.map {
                .object(JSONObject([("key", .string($0.key)), ("type", .string($0.type.rawValue))]))
            })
            object["deactivation_reasons"] = .array(project.deactivationReasons.map { .string($0) })
            object["tokens"] = .array(project.tokens.map {
                .object(JSONObject([("sha256", .string($0.sha256)), ("scope", .string($0.scope))]))
            })
            list.append(.object(object))
        }
        var root = JSONObject()
        root["projects"] = .array(list)
        root["admin_tokens"] = .array(adminTokenHashes.map { .object(JSONObject([("sha256", .string($0))])) })
        var bytes = JSONWriter.serialize(.object(root))
        bytes.append(0x0A)
        return bytes
    }

    public mutating func replaceProject(_ project: Project) {
        if let index = byID[project.id] { projects[index] = project } else {
            byID[project.id] = projects.count
            projects.append(project)
        }
        byHash = Dictionary(projects.enumerated().map { ($0.element.hash, $0.offset) }, uniquingKeysWith: { a, _ in a })
    }

    public mutating func addAdminTokenHash(_ sha256: String) {
        adminTokenHashes.append(sha256.lowercased())
    }
}

/// Loads `<data>/projects.json` and reloads it when the file changes (size or mtime).
///
/// A broken edit keeps the last good registry and reports the error, so a typo in the file
/// does not take ingest down.
public final class RegistryStore: Sendable {
    public let path: String
    private struct State {
        var current = ProjectRegistry()
        /// The inode is part of the stamp: every edit by `RegistryDocument.edit` renames a new
        /// file into place, and two edits of the same size within one tick of the kernel's
        /// coarse file clock (a few ms) would otherwise look unchanged.
        var stamp: (size: Int64, mtimeNs: Int64, inode: UInt64)?
        var checkedAtNs: UInt64 = 0
        var lastError: String?
        var recheckIntervalNs: UInt64 = 500_000_000
    }
    private let state = Mutex(State())

    public var lastError: String? { state.withLock { $0.lastError } }
    /// How often the file's stamp is re-checked on the request path.
    public var recheckIntervalNs: UInt64 {
        get { state.withLock { $0.recheckIntervalNs } }
        set { state.withLock { $0.recheckIntervalNs = newValue } }
    }

    public init(path: String) {
        self.path = path
        _ = try? reloadIfChanged(force: true)
    }

    /// The current registry, re-reading the file when its stamp changed since the last check.
    public var registry: ProjectRegistry {
        let now = DispatchTime.now().uptimeNanoseconds
        let due = state.withLock { state in
            let due = now &- state.checkedAtNs >= state.recheckIntervalNs
            if due { state.checkedAtNs = now }
            return due
        }
        if due { _ = try? reloadIfChanged(force: false) }
        return state.withLock { $0.current }
    }

    @discardableResult
    public func reloadIfChanged(force: Bool) throws -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else {
            state.withLock { state in
                if state.stamp != nil || force {
                    state.stamp = nil
                    state.current = ProjectRegistry()
                    state.lastError = "\(path) does not exist"
                }
            }
            return false
        }
        let newStamp = (size: Int64(info.st_size), mtimeNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                        inode: UInt64(info.st_ino))
        let unchanged = state.withLock { state in
            !force && state.stamp.map { $0.size == newStamp.size && $0.mtimeNs == newStamp.mtimeNs && $0.inode == newStamp.inode } ?? false
        }
        if unchanged { return false }
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        do {
            let parsed = try ProjectRegistry.parse([UInt8](data), path: path)
            state.withLock { state in
                state.current = parsed
                state.stamp = newStamp
                state.lastError = nil
            }
            return true
        } catch {
            state.withLock { state in
                state.stamp = newStamp
                state.lastError = "\(error)"
            }
            throw error
        }
    }
}
