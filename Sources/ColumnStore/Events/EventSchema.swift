/// The physical type of an `events` / `sites` column (CONTRACT §4, §5).
public enum EventColumnKind: String, Sendable, Equatable {
    case string
    /// UTC microseconds since the Unix epoch.
    case timestamp
    case bool
    case int64
}

public struct EventColumn: Sendable, Equatable {
    public var name: String
    public var kind: EventColumnKind

    public init(_ name: String, _ kind: EventColumnKind) {
        self.name = name
        self.kind = kind
    }
}

/// The one shared definition of the `events` and `sites` columns, in CONTRACT order.
///
/// Compaction, the query engine and the API all take column names, order and kinds from here;
/// `EventRow`'s index accessors follow the same order (a test holds them together).
public enum EventSchema {
    public static let events: [EventColumn] = [
        EventColumn("event_id", .string),
        EventColumn("received_at", .timestamp),
        EventColumn("project_id", .string),
        EventColumn("event", .string),
        EventColumn("site_key", .string),
        EventColumn("site_hash", .string),
        EventColumn("url", .string),
        EventColumn("site_name", .string),
        EventColumn("admin_email", .string),
        EventColumn("first_name", .string),
        EventColumn("last_name", .string),
        EventColumn("ip_address", .string),
        EventColumn("project_version", .string),
        EventColumn("client_version", .string),
        EventColumn("server_software", .string),
        EventColumn("php_version", .string),
        EventColumn("mysql_version", .string),
        EventColumn("php_max_upload_size", .string),
        EventColumn("php_default_timezone", .string),
        EventColumn("php_soap", .bool),
        EventColumn("php_fsockopen", .bool),
        EventColumn("php_curl", .bool),
        EventColumn("php_minor", .string),
        EventColumn("mysql_minor", .string),
        EventColumn("wp_minor", .string),
        EventColumn("wp_version", .string),
        EventColumn("wp_locale", .string),
        EventColumn("wp_memory_limit", .string),
        EventColumn("wp_debug_mode", .bool),
        EventColumn("wp_multisite", .bool),
        EventColumn("wp_theme_slug", .string),
        EventColumn("wp_theme_name", .string),
        EventColumn("wp_theme_version", .string),
        EventColumn("wp_theme_uri", .string),
        EventColumn("wp_theme_author", .string),
        EventColumn("users_total", .int64),
        EventColumn("users", .string),
        EventColumn("active_plugins", .int64),
        EventColumn("inactive_plugins", .int64),
        EventColumn("is_local", .bool),
        EventColumn("tracking_skipped", .bool),
        EventColumn("previously_skipped", .bool),
        EventColumn("reason_id", .string),
        EventColumn("reason_info", .string),
        EventColumn("plugins", .string),
        EventColumn("extra", .string),
    ]

    /// Columns `sites` adds after the `events` columns of the site's latest event.
    public static let siteSummary: [EventColumn] = [
        EventColumn("first_seen", .timestamp),
        EventColumn("last_seen", .timestamp),
        EventColumn("event_count", .int64),
        EventColumn("status", .string),
    ]

    public static let sites: [EventColumn] = events + siteSummary

    /// Position of an `events` column by name; nil for names that are not columns.
    public static func eventColumnIndex(named name: String) -> Int? {
        eventIndexByName[name]
    }

    /// Position of a `sites` column by name; nil for names that are not columns.
    public static func siteColumnIndex(named name: String) -> Int? {
        siteIndexByName[name]
    }

    private static let eventIndexByName: [String: Int] =
        Dictionary(uniqueKeysWithValues: events.enumerated().map { ($0.element.name, $0.offset) })
    private static let siteIndexByName: [String: Int] =
        Dictionary(uniqueKeysWithValues: sites.enumerated().map { ($0.element.name, $0.offset) })
}
