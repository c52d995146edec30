/// One row of `events` (CONTRACT §4): a typed field per column, NULL as nil.
///
/// Field order and names follow `TableSchema.events` (camelCase of the column name, units
/// last), so compaction can fill typed column builders without boxing values. Generic code
/// reaches the fields by column index through `EventRow+ColumnAccess.swift`.
public struct EventRow: Sendable, Equatable {
    public var eventID: String
    public var receivedAtMicros: Int64
    public var projectID: String
    /// `track`, `deactivate` or `skip`.
    public var event: String
    public var siteKey: String?
    public var siteHash: String?
    public var url: String?
    public var siteName: String?
    public var adminEmail: String?
    public var firstName: String?
    public var lastName: String?
    public var ipAddress: String?
    public var projectVersion: String?
    public var clientVersion: String?
    public var serverSoftware: String?
    public var phpVersion: String?
    public var mysqlVersion: String?
    public var phpMaxUploadSize: String?
    public var phpDefaultTimezone: String?
    public var phpSoap: Bool?
    public var phpFsockopen: Bool?
    public var phpCurl: Bool?
    public var phpMinor: String?
    public var mysqlMinor: String?
    public var wpMinor: String?
    public var wpVersion: String?
    public var wpLocale: String?
    public var wpMemoryLimit: String?
    public var wpDebugMode: Bool?
    public var wpMultisite: Bool?
    public var wpThemeSlug: String?
    public var wpThemeName: String?
    public var wpThemeVersion: String?
    public var wpThemeURI: String?
    public var wpThemeAuthor: String?
    public var usersTotal: Int64?
    /// Canonical compact JSON object of role counts, keys sorted.
    public var users: String?
    public var activePlugins: Int64?
    public var inactivePlugins: Int64?
    public var isLocal: Bool?
    public var trackingSkipped: Bool?
    public var previouslySkipped: Bool?
    public var reasonID: String?
    public var reasonInfo: String?
    /// Canonical compact JSON array of `{"slug","name","version"}`, sorted by slug.
    public var plugins: String?
    /// Canonical compact JSON object of the project's declared extra fields, keys sorted.
    public var extra: String?

    public init(eventID: String, receivedAtMicros: Int64, projectID: String, event: String) {
        self.eventID = eventID
        self.receivedAtMicros = receivedAtMicros
        self.projectID = projectID
        self.event = event
    }
}
