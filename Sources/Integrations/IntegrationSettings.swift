import Core
import Foundation
import Ingest

/// One entry of a project's `"integrations"` array in `<data>/projects.json` (CONTRACT §8).
///
/// Secrets are never in the registry: a `*_env` field names the environment variable that
/// holds one, read when a delivery is made (`secret(_:)`).
public struct IntegrationSettings: Sendable, Equatable {
    public var projectID: String
    public var id: String
    public var kind: String
    /// Events received before this instant never become deliveries of this integration.
    public var sinceMicros: Int64
    /// The entry's other string fields as written (`url`, `base_url`, `secret_env`, `list_id`, …).
    public var fields: [String: String]
    /// `tags` (Mailchimp): `activated` and `deactivated` tag names.
    public var tags: [String: String]
    /// The entry as written, for kinds that read structured fields of their own.
    public var raw: JSONObject

    public init(projectID: String, id: String, kind: String, sinceMicros: Int64, fields: [String: String] = [:],
                tags: [String: String] = [:], raw: JSONObject = JSONObject()) {
        self.projectID = projectID
        self.id = id
        self.kind = kind
        self.sinceMicros = sinceMicros
        self.fields = fields
        self.tags = tags
        self.raw = raw
    }

    /// `<project>/<integration>`: how logs, folders and errors name the integration.
    public var qualifiedID: String { projectID + "/" + id }

    public subscript(field: String) -> String? { fields[field] }

    /// The secret whose environment variable the field `envField` (e.g. `secret_env`) names.
    /// The error names the variable, never its value.
    /// `environment` nil reads the process's variable itself (`getenv`: building
    /// `ProcessInfo.environment`'s whole dictionary at each delivery cost more than the HMAC).
    public func secret(_ envField: String, environment: [String: String]? = nil) throws -> String {
        guard let name = fields[envField], !name.isEmpty else {
            throw DeliveryConfigurationError("integration \(qualifiedID): \"\(envField)\" is not set in the registry")
        }
        let found = environment.map { $0[name] } ?? getenv(name).map { String(cString: $0) }
        guard let value = found, !value.isEmpty else {
            throw DeliveryConfigurationError("integration \(qualifiedID): the environment variable \(name) (named by \(envField)) is not set; set it in serve's environment and restart")
        }
        return value
    }
}

/// A configuration problem found when a delivery is made (a secret missing from the environment).
public struct DeliveryConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A registry entry that was refused: which project, which entry, which field, and why. The
/// other integrations and projects keep working.
public struct IntegrationSettingsError: Error, CustomStringConvertible, Sendable, Equatable {
    public let projectID: String
    public let index: Int
    public let field: String
    public let message: String
    public var description: String {
        "project \(projectID): integrations[\(index)].\(field): \(message)"
    }
}

/// Every project's integrations as the registry declares them, plus the entries it refused.
public struct IntegrationCatalog: Sendable {
    public var byProject: [String: [IntegrationSettings]] = [:]
    public var errors: [IntegrationSettingsError] = []

    public init(byProject: [String: [IntegrationSettings]] = [:], errors: [IntegrationSettingsError] = []) {
        self.byProject = byProject
        self.errors = errors
    }

    public var all: [IntegrationSettings] {
        byProject.keys.sorted().flatMap { byProject[$0]! }
    }

    public func integration(projectID: String, id: String) -> IntegrationSettings? {
        byProject[projectID]?.first { $0.id == id }
    }

    /// Reads `<data>/projects.json`; a missing or unreadable file is an empty catalog with the error.
    public static func load(dataDirectory: String, kinds: [any IntegrationKind.Type] = IntegrationKinds.all) -> IntegrationCatalog {
        let path = dataDirectory + "/projects.json"
        guard FileIO.exists(path), let bytes = try? FileIO.readFile(path) else { return IntegrationCatalog() }
        return parse(registry: bytes, kinds: kinds)
    }

    /// The `integrations` of every project of a registry document. A malformed document
    /// yields no integrations (ingest reports the registry error itself).
    public static func parse(registry bytes: [UInt8], kinds: [any IntegrationKind.Type] = IntegrationKinds.all) -> IntegrationCatalog {
        guard let root = try? JSONParser.parse(bytes, depthMax: 64), case .array(let projects)? = root["projects"] else {
            return IntegrationCatalog()
        }
        var catalog = IntegrationCatalog()
        for project in projects {
            guard let projectID = project["id"]?.stringValue, ProjectRegistry.isValidProjectID(projectID) else { continue }
            guard let list = project["integrations"] else { continue }
            guard case .array(let entries) = list else {
                catalog.errors.append(.init(projectID: projectID, index: 0, field: "integrations", message: "must be an array"))
                continue
            }
            var seen = Set<String>()
            var parsed: [IntegrationSettings] = []
            for (index, entry) in entries.enumerated() {
                switch parseEntry(entry, projectID: projectID, index: index, kinds: kinds) {
                case .success(let settings):
                    guard seen.insert(settings.id).inserted else {
                        catalog.errors.append(.init(projectID: projectID, index: index, field: "id",
                                                    message: "duplicate id \"\(settings.id)\" (ids must be unique within a project)"))
                        continue
                    }
                    parsed.append(settings)
                case .failure(let error):
                    catalog.errors.append(error)
                }
            }
            if !parsed.isEmpty { catalog.byProject[projectID] = parsed }
        }
        return catalog
    }

    static func parseEntry(_ entry: JSONValue, projectID: String, index: Int,
                           kinds: [any IntegrationKind.Type]) -> Result<IntegrationSettings, IntegrationSettingsError> {
        func fail(_ field: String, _ message: String) -> Result<IntegrationSettings, IntegrationSettingsError> {
            .failure(.init(projectID: projectID, index: index, field: field, message: message))
        }
        guard case .object(let object) = entry else { return fail("", "must be an object") }
        guard let id = object["id"]?.stringValue else { return fail("id", "is required (a name like \"hooks\")") }
        guard ProjectRegistry.isValidProjectID(id) else { return fail("id", "\"\(id)\" must match \(ProjectRegistry.idPattern)") }
        guard let kindName = object["kind"]?.stringValue else { return fail("kind", "is required (one of \(kinds.map { $0.name }.joined(separator: ", ")))") }
        guard let kind = kinds.first(where: { $0.name == kindName }) else {
            return fail("kind", "unknown kind \"\(kindName)\" (known: \(kinds.map { $0.name }.joined(separator: ", ")))")
        }
        guard let sinceText = object["since"]?.stringValue else {
            return fail("since", "is required: an ISO-8601 UTC time such as \"2026-12-01T00:00:00Z\" (events received before it are not delivered)")
        }
        guard let since = UTCTime.parseISO(sinceText) else {
            return fail("since", "\"\(sinceText)\" is not an ISO-8601 time such as \"2026-12-01T00:00:00Z\"")
        }
        var fields: [String: String] = [:]
        var tags: [String: String] = [:]
        for (key, value) in object.pairs where !["id", "kind", "since"].contains(key) {
            switch value {
            case .string(let text): fields[key] = text
            case .number(let literal): fields[key] = literal
            case .object(let inner) where key == "tags":
                for (tagKey, tagValue) in inner.pairs {
                    guard let name = tagValue.stringValue else { return fail("tags.\(tagKey)", "must be a string") }
                    tags[tagKey] = name
                }
            default: break
            }
        }
        for field in kind.requiredFields where (fields[field] ?? "").isEmpty {
            return fail(field, "is required for kind \"\(kindName)\"")
        }
        for field in kind.urlFields {
            guard let text = fields[field] else { continue }
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
                  url.host != nil else {
                return fail(field, "\"\(text)\" is not an http(s) URL")
            }
        }
        let settings = IntegrationSettings(projectID: projectID, id: id, kind: kindName, sinceMicros: since,
                                           fields: fields, tags: tags, raw: object)
        if let problem = kind.validate(settings) { return fail(problem.field, problem.message) }
        return .success(settings)
    }
}
