import Core
import Foundation

/// An edit of the registry that was refused; the message says what is wrong and how to fix it.
public struct RegistryEditError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `<data>/projects.json` as the JSON object it is, for the commands that edit it.
///
/// Edits change only the keys they manage and keep every other key, at every level, in its
/// place (unknown top-level keys, a project's `integrations`, a token's extra fields): the
/// file is shared with code and people that may add fields this version does not know, so it
/// is never re-serialised from `ProjectRegistry`, which keeps only what ingest needs.
public struct RegistryDocument: Sendable {
    public private(set) var root: JSONObject

    public init(root: JSONObject = JSONObject([("projects", .array([])), ("admin_tokens", .array([]))])) {
        self.root = root
    }

    /// Parses and validates the registry (the same checks as `serve`); a missing file is an
    /// empty registry.
    public static func read(path: String) throws -> RegistryDocument {
        guard FileIO.exists(path) else { return RegistryDocument() }
        let bytes = try FileIO.readFile(path)
        _ = try ProjectRegistry.parse(bytes, path: path)
        guard case .object(let root) = try JSONParser.parse(bytes, depthMax: 64) else {
            throw RegistryError(path: path, message: "the top level must be an object with a \"projects\" array")
        }
        return RegistryDocument(root: root)
    }

    /// Reads, edits and writes the registry under an exclusive lock (`.projects.json.lock`
    /// next to it), so two commands editing at once cannot lose each other's change. The write
    /// is atomic (temp file, fsync, rename, fsync of the folder): a running server reloads
    /// either the old file or the new one, never a half. Nothing is written when `edit`
    /// throws or changes nothing, and never a registry that `serve` would refuse.
    public static func edit<Result>(path: String, _ edit: (inout RegistryDocument) throws -> Result) throws -> Result {
        let directory = FileIO.parentDirectory(path)
        try FileIO.makeDirectories(directory)
        return try FileIO.withExclusiveLock(directory + "/." + FileIO.lastComponent(path) + ".lock") {
            var document = try read(path: path)
            let before = document.root
            let result = try edit(&document)
            if document.root != before || !FileIO.exists(path) {
                let bytes = document.serialized()
                _ = try ProjectRegistry.parse(bytes, path: path)
                try FileIO.writeFileAtomically(path, bytes)
            }
            return result
        }
    }

    /// The registry as ingest and the API see it.
    public func registry(path: String = "projects.json") throws -> ProjectRegistry {
        try ProjectRegistry.parse(serialized(), path: path)
    }

    /// Pretty-printed (two-space indent), key order as read, numbers as their literal text.
    public func serialized() -> [UInt8] {
        var bytes: [UInt8] = []
        Self.appendPretty(.object(root), indent: 0, to: &bytes)
        bytes.append(0x0A)
        return bytes
    }

    // MARK: Projects

    public var projects: [JSONObject] {
        guard case .array(let list)? = root["projects"] else { return [] }
        return list.compactMap(\.objectValue)
    }

    public func project(id: String) -> JSONObject? {
        projects.first { $0["id"]?.stringValue == id }
    }

    public mutating func addProject(id: String, name: String, type: String, hash: String) throws {
        try Self.validateProjectID(id)
        if let existing = project(id: id) {
            throw RegistryEditError("a project with id \"\(id)\" already exists (name \"\(existing["name"]?.stringValue ?? id)\"): choose another --id, or change that one with `trackhouse project update \(id)`")
        }
        let name = try Self.validatedName(name)
        try Self.validateType(type)
        try Self.validateHash(hash)
        let lowered = hash.lowercased()
        if let owner = projects.first(where: { ($0["hash"]?.stringValue ?? "").lowercased() == lowered }) {
            throw RegistryEditError("the hash \(hash) is already the hash of project \"\(owner["id"]?.stringValue ?? "?")\": every project needs its own hash (omit --hash to generate one)")
        }
        let entry = JSONObject([
            ("id", .string(id)), ("name", .string(name)), ("type", .string(type)), ("hash", .string(lowered)),
            ("extra_fields", .array([])), ("deactivation_reasons", .array([])), ("tokens", .array([])),
        ])
        var list = projectList
        list.append(.object(entry))
        root["projects"] = .array(list)
    }

    /// The changes `project update` can make; nil or empty leaves that part as it is.
    public struct ProjectChanges: Sendable {
        public var name: String?
        public var type: String?
        public var addExtraFields: [(key: String, type: String)] = []
        public var removeExtraFields: [String] = []
        public var addReasons: [String] = []
        public var removeReasons: [String] = []
        public init() {}
        public var isEmpty: Bool {
            name == nil && type == nil && addExtraFields.isEmpty && removeExtraFields.isEmpty && addReasons.isEmpty && removeReasons.isEmpty
        }
    }

    public mutating func updateProject(id: String, _ changes: ProjectChanges) throws {
        var list = projectList
        guard let index = list.firstIndex(where: { $0["id"]?.stringValue == id }), var entry = list[index].objectValue else {
            throw unknownProject(id)
        }
        if let name = changes.name { entry["name"] = .string(try Self.validatedName(name)) }
        if let type = changes.type {
            try Self.validateType(type)
            entry["type"] = .string(type)
        }
        if !changes.addExtraFields.isEmpty || !changes.removeExtraFields.isEmpty {
            var fields: [JSONValue] = entry["extra_fields"].flatMap { if case .array(let a) = $0 { return a } else { return nil } } ?? []
            for key in changes.removeExtraFields {
                let before = fields.count
                fields.removeAll { $0["key"]?.stringValue == key }
                if fields.count == before {
                    throw RegistryEditError("project \"\(id)\" has no extra field \"\(key)\" (it has: \(Self.keys(fields)))")
                }
            }
            for field in changes.addExtraFields {
                guard !field.key.isEmpty, field.key.utf8.count <= 128 else {
                    throw RegistryEditError("an extra field key must be 1–128 characters, as the SDK sends it in extra[<key>]")
                }
                guard Project.ExtraField.FieldType(rawValue: field.type) != nil else {
                    throw RegistryEditError("extra field \"\(field.key)\": type \"\(field.type)\" is not one of string, int, float, bool (write KEY:TYPE, e.g. total_posts:int)")
                }
                let entryField = JSONValue.object(JSONObject([("key", .string(field.key)), ("type", .string(field.type))]))
                if let existing = fields.firstIndex(where: { $0["key"]?.stringValue == field.key }) {
                    fields[existing] = entryField
                } else {
                    fields.append(entryField)
                }
            }
            entry["extra_fields"] = .array(fields)
        }
        if !changes.addReasons.isEmpty || !changes.removeReasons.isEmpty {
            var reasons: [String] = entry["deactivation_reasons"].flatMap { if case .array(let a) = $0 { return a.compactMap(\.stringValue) } else { return nil } } ?? []
            for reason in changes.removeReasons {
                guard let position = reasons.firstIndex(of: reason) else {
                    throw RegistryEditError("project \"\(id)\" has no deactivation reason \"\(reason)\" (it has: \(reasons.isEmpty ? "none" : reasons.joined(separator: ", ")))")
                }
                reasons.remove(at: position)
            }
            for reason in changes.addReasons where !reasons.contains(reason) {
                guard !reason.isEmpty, !reason.contains(where: \.isWhitespace) else {
                    throw RegistryEditError("a deactivation reason is the reason_id slug the SDK sends (no spaces), e.g. too-expensive")
                }
                reasons.append(reason)
            }
            entry["deactivation_reasons"] = .array(reasons.map { .string($0) })
        }
        list[index] = .object(entry)
        root["projects"] = .array(list)
    }

    /// Removes a project with its tokens; returns what was removed.
    @discardableResult
    public mutating func removeProject(id: String) throws -> JSONObject {
        var list = projectList
        guard let index = list.firstIndex(where: { $0["id"]?.stringValue == id }), let entry = list[index].objectValue else {
            throw unknownProject(id)
        }
        list.remove(at: index)
        root["projects"] = .array(list)
        return entry
    }

    // MARK: Tokens

    /// One bearer token as listed: never the token, nor its whole digest.
    public struct TokenInfo: Sendable, Equatable {
        public enum Kind: String, Sendable { case admin, project }
        /// The first 12 hex digits of the token's SHA-256: stable, derived, so registries
        /// written before tokens had ids list the same ids.
        public var id: String
        public var kind: Kind
        public var projectID: String?
        public var scope: String
        /// ISO-8601, or nil for tokens created before creation times were recorded.
        public var createdAt: String?
    }

    public static let tokenIDLength = 12

    public static func tokenID(sha256: String) -> String {
        String(sha256.lowercased().prefix(tokenIDLength))
    }

    public var tokens: [TokenInfo] {
        var result: [TokenInfo] = []
        if case .array(let admin)? = root["admin_tokens"] {
            for token in admin {
                guard let digest = token["sha256"]?.stringValue else { continue }
                result.append(TokenInfo(id: Self.tokenID(sha256: digest), kind: .admin, projectID: nil,
                                        scope: token["scope"]?.stringValue ?? "read", createdAt: token["created_at"]?.stringValue))
            }
        }
        for project in projects {
            guard case .array(let list)? = project["tokens"] else { continue }
            for token in list {
                guard let digest = token["sha256"]?.stringValue else { continue }
                result.append(TokenInfo(id: Self.tokenID(sha256: digest), kind: .project, projectID: project["id"]?.stringValue,
                                        scope: token["scope"]?.stringValue ?? "read", createdAt: token["created_at"]?.stringValue))
            }
        }
        return result
    }

    /// Adds a token's digest: to `admin_tokens` when `projectID` is nil. Returns its id.
    @discardableResult
    public mutating func addToken(sha256: String, projectID: String?, createdAt: String, scope: String = "read") throws -> String {
        let id = Self.tokenID(sha256: sha256)
        guard !tokens.contains(where: { $0.id == id }) else {
            throw RegistryEditError("a token with id \(id) exists already; create another token")
        }
        let entry = JSONValue.object(JSONObject([
            ("sha256", .string(sha256.lowercased())), ("scope", .string(scope)), ("created_at", .string(createdAt)),
        ]))
        guard let projectID else {
            var admin: [JSONValue] = root["admin_tokens"].flatMap { if case .array(let a) = $0 { return a } else { return nil } } ?? []
            admin.append(entry)
            root["admin_tokens"] = .array(admin)
            return id
        }
        var list = projectList
        guard let index = list.firstIndex(where: { $0["id"]?.stringValue == projectID }), var project = list[index].objectValue else {
            throw unknownProject(projectID)
        }
        var projectTokens: [JSONValue] = project["tokens"].flatMap { if case .array(let a) = $0 { return a } else { return nil } } ?? []
        projectTokens.append(entry)
        project["tokens"] = .array(projectTokens)
        list[index] = .object(project)
        root["projects"] = .array(list)
        return id
    }

    /// Removes the token with this id (admin or project); returns what it was.
    @discardableResult
    public mutating func revokeToken(id rawID: String) throws -> TokenInfo {
        let id = rawID.lowercased()
        let matches = tokens.filter { $0.id == id }
        guard let info = matches.first else {
            let known = tokens.map(\.id)
            throw RegistryEditError("no token with id \"\(rawID)\" (known ids: \(known.isEmpty ? "none" : known.joined(separator: ", "))); `trackhouse token list` shows them")
        }
        guard matches.count == 1 else {
            throw RegistryEditError("\(matches.count) tokens share the id \(id); remove the one you mean from projects.json by hand")
        }
        let keep: (JSONValue) -> Bool = { token in
            token["sha256"]?.stringValue.map { Self.tokenID(sha256: $0) != id } ?? true
        }
        switch info.kind {
        case .admin:
            if case .array(let admin)? = root["admin_tokens"] { root["admin_tokens"] = .array(admin.filter(keep)) }
        case .project:
            var list = projectList
            for (index, value) in list.enumerated() {
                guard var project = value.objectValue, case .array(let projectTokens)? = project["tokens"] else { continue }
                let kept = projectTokens.filter(keep)
                if kept.count != projectTokens.count {
                    project["tokens"] = .array(kept)
                    list[index] = .object(project)
                }
            }
            root["projects"] = .array(list)
        }
        return info
    }

    // MARK: Validation

    public static func validateProjectID(_ id: String) throws {
        guard ProjectRegistry.isValidProjectID(id) else {
            var message = "the project id \"\(id)\" is not valid: use 1–64 characters of a-z 0-9 _ -, starting with a letter or digit (\(ProjectRegistry.idPattern))"
            let suggestion = suggestedID(for: id)
            if ProjectRegistry.isValidProjectID(suggestion) { message += ", e.g. --id \(suggestion)" }
            throw RegistryEditError(message)
        }
    }

    /// `Acme SEO!` → `acme-seo`: a valid id close to what was typed.
    public static func suggestedID(for text: String) -> String {
        var result = ""
        for scalar in text.lowercased().unicodeScalars {
            if (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") || scalar == "_" {
                result.unicodeScalars.append(scalar)
            } else if !result.isEmpty, !result.hasSuffix("-") {
                result += "-"
            }
        }
        while result.hasSuffix("-") { result.removeLast() }
        return String(result.prefix(64))
    }

    static func validatedName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw RegistryEditError("the project name is empty: give --name \"Acme SEO\"") }
        guard trimmed.count <= 200 else { throw RegistryEditError("the project name is \(trimmed.count) characters long; keep it under 200") }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw RegistryEditError("the project name contains control characters (tabs, line breaks); use plain text")
        }
        return trimmed
    }

    static func validateType(_ type: String) throws {
        guard type == "plugin" || type == "theme" else {
            throw RegistryEditError("the project type \"\(type)\" is not plugin or theme")
        }
    }

    /// The SDK sends the hash verbatim; Appsero's are UUIDs. Anything of 8–128 characters
    /// that survives form encoding unchanged is accepted, so hashes from Appsero's dashboard
    /// can be kept when a vendor moves.
    public static func validateHash(_ hash: String) throws {
        let bytes = Array(hash.utf8)
        let allowed = bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard (8...128).contains(bytes.count), allowed else {
            throw RegistryEditError("the hash \"\(hash)\" is not valid: use 8–128 characters of A-Z a-z 0-9 - _ . (the SDK's project key, e.g. a UUID such as a4a8da5b-b419-4656-98e9-4a42e9044891), or omit --hash to generate one")
        }
    }

    /// A new project key in the SDK's format: a random (version 4) UUID, lowercase.
    public static func generateHash() -> String {
        UUID().uuidString.lowercased()
    }

    // MARK: Helpers

    private var projectList: [JSONValue] {
        if case .array(let list)? = root["projects"] { return list }
        return []
    }

    private func unknownProject(_ id: String) -> RegistryEditError {
        let known = projects.compactMap { $0["id"]?.stringValue }
        return RegistryEditError("no project \"\(id)\" in the registry (known: \(known.isEmpty ? "none; add one with `trackhouse project add`" : known.joined(separator: ", ")))")
    }

    private static func keys(_ fields: [JSONValue]) -> String {
        let keys = fields.compactMap { $0["key"]?.stringValue }
        return keys.isEmpty ? "none" : keys.joined(separator: ", ")
    }

    private static func appendIndent(_ level: Int, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 2))
    }

    static func appendPretty(_ value: JSONValue, indent: Int, to bytes: inout [UInt8]) {
        switch value {
        case .array(let items):
            // Arrays of scalars stay on one line (deactivation reasons read as a list).
            if items.isEmpty || items.allSatisfy({ if case .array = $0 { return false }; if case .object = $0 { return false }; return true }) {
                JSONWriter.append(value, to: &bytes)
                return
            }
            bytes.append(contentsOf: Array("[\n".utf8))
            for (position, item) in items.enumerated() {
                appendIndent(indent + 1, to: &bytes)
                appendPretty(item, indent: indent + 1, to: &bytes)
                if position < items.count - 1 { bytes.append(UInt8(ascii: ",")) }
                bytes.append(0x0A)
            }
            appendIndent(indent, to: &bytes)
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            guard !object.isEmpty else { bytes.append(contentsOf: Array("{}".utf8)); return }
            bytes.append(contentsOf: Array("{\n".utf8))
            for (position, (key, item)) in object.pairs.enumerated() {
                appendIndent(indent + 1, to: &bytes)
                JSONWriter.appendString(key, to: &bytes)
                bytes.append(contentsOf: Array(": ".utf8))
                appendPretty(item, indent: indent + 1, to: &bytes)
                if position < object.count - 1 { bytes.append(UInt8(ascii: ",")) }
                bytes.append(0x0A)
            }
            appendIndent(indent, to: &bytes)
            bytes.append(UInt8(ascii: "}"))
        default:
            JSONWriter.append(value, to: &bytes)
        }
    }
}
