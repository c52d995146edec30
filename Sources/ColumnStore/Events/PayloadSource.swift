import Core
import Ingest

/// The payload fields the normalizer reads (CONTRACT §4): top level, then `server{…}`, then `wp{…}`.
enum PayloadField: Int, CaseIterable {
    case hash, url, site, adminEmail, firstName, lastName, ipAddress, projectVersion, version, client, theme,
         users, activePlugins, inactivePlugins, isLocal, trackingSkipped, previouslySkipped, reasonID, reasonInfo,
         plugins, extra, server, wp
    case serverSoftware, serverPHPVersion, serverMySQLVersion, serverPHPMaxUploadSize, serverPHPDefaultTimezone,
         serverPHPSoap, serverPHPFsockopen, serverPHPCurl
    case wpVersion, wpLocale, wpMemoryLimit, wpDebugMode, wpMultisite, wpThemeSlug, wpThemeName, wpThemeVersion,
         wpThemeURI, wpThemeAuthor

    enum Group { case top, server, wp }

    static let count = allCases.count
    static let serverFields = PayloadField.serverSoftware.rawValue...PayloadField.serverPHPCurl.rawValue
    static let wpFields = PayloadField.wpVersion.rawValue...PayloadField.wpThemeAuthor.rawValue
    static let topFields = 0...PayloadField.wp.rawValue

    var group: Group {
        if Self.serverFields.contains(rawValue) { return .server }
        if Self.wpFields.contains(rawValue) { return .wp }
        return .top
    }

    /// The JSON key inside its object, by raw value.
    static let keys: [String] = [
        "hash", "url", "site", "admin_email", "first_name", "last_name", "ip_address", "project_version", "version",
        "client", "theme", "users", "active_plugins", "inactive_plugins", "is_local", "tracking_skipped",
        "previously_skipped", "reason_id", "reason_info", "plugins", "extra", "server", "wp",
        "software", "php_version", "mysql_version", "php_max_upload_size", "php_default_timezone", "php_soap",
        "php_fsockopen", "php_curl",
        "version", "locale", "memory_limit", "debug_mode", "multisite", "theme_slug", "theme_name", "theme_version",
        "theme_uri", "theme_author",
    ]

    var key: String { Self.keys[rawValue] }
}

/// What `EventNormalizer` reads from a payload, field by field, with the CONTRACT §4 value
/// rules and the cast-failure count. Two implementations: `JSONPayloadSource` over the
/// parsed JSON tree (the general path, any valid line) and `ScannedPayloadSource` over byte
/// ranges of the raw line (the fast path). The normalizer body is written once, generic over
/// this protocol and specialized for each, so both paths apply the same rules in the same
/// order.
protocol PayloadSource {
    var castFailures: Int { get set }
    /// The leaf as trimmed text; nil when absent, null or empty (objects and arrays count a failure).
    mutating func text(_ field: PayloadField) -> String?
    mutating func bool(_ field: PayloadField) -> Bool?
    mutating func int64(_ field: PayloadField) -> Int64?
    /// Makes the fields of `server` or `wp` readable when that group is an object; anything
    /// else there leaves them absent (a non-empty scalar or array counts one failure).
    mutating func openGroup(_ field: PayloadField)
    mutating func users() -> (total: Int64?, roles: String?)
    mutating func plugins() -> String?
    mutating func extra(declared: [Project.ExtraField]) -> String?
}

/// The general path: a payload already parsed into a `JSONObject`.
struct JSONPayloadSource: PayloadSource {
    let payload: JSONObject
    var server: JSONObject?
    var wp: JSONObject?
    var reader = PayloadFieldReader()

    init(payload: JSONObject) { self.payload = payload }

    var castFailures: Int {
        get { reader.castFailures }
        set { reader.castFailures = newValue }
    }

    func value(_ field: PayloadField) -> JSONValue? {
        switch field.group {
        case .top: return payload[field.key]
        case .server: return server?[field.key]
        case .wp: return wp?[field.key]
        }
    }

    mutating func text(_ field: PayloadField) -> String? { reader.text(value(field)) }
    mutating func bool(_ field: PayloadField) -> Bool? { reader.bool(value(field)) }
    mutating func int64(_ field: PayloadField) -> Int64? { reader.int64(value(field)) }

    mutating func openGroup(_ field: PayloadField) {
        let object = Self.mapField(payload[field.key], reader: &reader)
        if field == .server { server = object } else { wp = object }
    }

    mutating func users() -> (total: Int64?, roles: String?) { EventJSONColumns.users(payload["users"], reader: &reader) }
    mutating func plugins() -> String? { EventJSONColumns.plugins(payload["plugins"], reader: &reader) }
    mutating func extra(declared: [Project.ExtraField]) -> String? {
        EventJSONColumns.extra(payload["extra"], declared: declared, reader: &reader)
    }

    /// A nested group (`server`, `wp`) as an object; anything else there is NULL for all its
    /// columns (a non-empty scalar counts as one cast failure).
    static func mapField(_ value: JSONValue?, reader: inout PayloadFieldReader) -> JSONObject? {
        guard let value else { return nil }
        if case .object(let object) = value { return object }
        if case .array(let elements) = value {
            if !elements.isEmpty { reader.castFailures += 1 }
        } else if reader.text(value) != nil {
            reader.castFailures += 1
        }
        return nil
    }
}
