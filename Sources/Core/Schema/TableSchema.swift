/// The columns of a table, in order: the one definition of `events` and `sites` (CONTRACT
/// sections 4 and 5). Compaction writes its Parquet files in this order with these kinds, the
/// query engine binds names against it and the API lists it; `EventRow`'s index accessors
/// follow the same order (a test holds them together).
public struct TableSchema: Sendable {
    public struct Column: Sendable, Hashable {
        public var name: String
        public var kind: ColumnKind

        public init(_ name: String, _ kind: ColumnKind) {
            self.name = name
            self.kind = kind
        }
    }

    public var name: String
    public var columns: [Column]

    public init(name: String, columns: [Column]) {
        self.name = name
        self.columns = columns
    }

    /// The index of the column named `name` (case-insensitive, like SQL identifiers), or nil.
    public func columnIndex(named name: String) -> Int? {
        if let exact = columns.firstIndex(where: { $0.name == name }) { return exact }
        let lowered = name.lowercased()
        return columns.firstIndex(where: { $0.name == lowered })
    }
}

extension TableSchema {
    /// CONTRACT section 4: one row per accepted request of a known project.
    public static let events = TableSchema(name: "events", columns: eventColumns)

    /// CONTRACT section 5: the latest event per (project_id, site_key) plus four columns.
    public static let sites = TableSchema(name: "sites", columns: eventColumns + siteSummaryColumns)

    /// The columns `sites` adds after the `events` columns of the site's latest event.
    public static let siteSummaryColumns: [Column] = [
        Column("first_seen", .timestamp),
        Column("last_seen", .timestamp),
        Column("event_count", .int64),
        Column("status", .string),
    ]

    private static let eventColumns: [Column] = [
        Column("event_id", .string),
        Column("received_at", .timestamp),
        Column("project_id", .string),
        Column("event", .string),
        Column("site_key", .string),
        Column("site_hash", .string),
        Column("url", .string),
        Column("site_name", .string),
        Column("admin_email", .string),
        Column("first_name", .string),
        Column("last_name", .string),
        Column("ip_address", .string),
        Column("project_version", .string),
        Column("client_version", .string),
        Column("server_software", .string),
        Column("php_version", .string),
        Column("mysql_version", .string),
        Column("php_max_upload_size", .string),
        Column("php_default_timezone", .string),
        Column("php_soap", .bool),
        Column("php_fsockopen", .bool),
        Column("php_curl", .bool),
        Column("php_minor", .string),
        Column("mysql_minor", .string),
        Column("wp_minor", .string),
        Column("wp_version", .string),
        Column("wp_locale", .string),
        Column("wp_memory_limit", .string),
        Column("wp_debug_mode", .bool),
        Column("wp_multisite", .bool),
        Column("wp_theme_slug", .string),
        Column("wp_theme_name", .string),
        Column("wp_theme_version", .string),
        Column("wp_theme_uri", .string),
        Column("wp_theme_author", .string),
        Column("users_total", .int64),
        Column("users", .string),
        Column("active_plugins", .int64),
        Column("inactive_plugins", .int64),
        Column("is_local", .bool),
        Column("tracking_skipped", .bool),
        Column("previously_skipped", .bool),
        Column("reason_id", .string),
        Column("reason_info", .string),
        Column("plugins", .string),
        Column("extra", .string),
    ]
}
