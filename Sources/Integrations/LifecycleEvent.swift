import ColumnStore
import Core

/// One lifecycle event of a site (CONTRACT §8): what every integration of the project may
/// deliver, and the body a webhook receives.
public struct LifecycleEvent: Sendable, Equatable {
    public enum EventType: String, Sendable, CaseIterable {
        case activated = "site.activated"
        case deactivated = "site.deactivated"
        case skipped = "site.skipped"
    }

    /// The delivery id: the `event_id` of the event that caused it.
    public var id: String
    public var type: EventType
    public var projectID: String
    public var siteKey: String
    public var occurredAtMicros: Int64
    /// `{"id","type","project_id","occurred_at","site":{…},"reason_id","reason_info"}`.
    public var body: JSONObject

    public init(id: String, type: EventType, projectID: String, siteKey: String, occurredAtMicros: Int64, body: JSONObject) {
        self.id = id
        self.type = type
        self.projectID = projectID
        self.siteKey = siteKey
        self.occurredAtMicros = occurredAtMicros
        self.body = body
    }

    /// The site's `admin_email`, trimmed; nil when none.
    public var adminEmail: String? {
        Self.adminEmail(of: .object(body))
    }

    public static func adminEmail(of body: JSONValue) -> String? {
        guard let text = body["site"]?["admin_email"]?.stringValue else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The body from the event's `events` columns (name → JSON value, every column of
    /// `TableSchema.events`) and the site's summary at that event.
    static func body(id: String, type: EventType, projectID: String, occurredAtMicros: Int64,
                     eventColumns: [String: JSONValue], summary: SiteSummary) -> JSONObject {
        var site = JSONObject()
        for column in TableSchema.events.columns { site[column.name] = eventColumns[column.name] ?? .null }
        site["project_id"] = .string(projectID)
        // The sites row of the site at this event: its event columns plus the summary columns,
        // `status` by the same rule compaction uses for the `sites` table.
        let summaryValues: [JSONValue] = [
            .string(UTCTime.formatISO(micros: summary.firstSeenMicros)),
            .string(UTCTime.formatISO(micros: summary.lastSeenMicros)),
            .number(String(summary.eventCount)),
            .string(WarehouseSchema.status(event: summary.event)),
        ]
        for (column, value) in zip(TableSchema.siteSummaryColumns, summaryValues) { site[column.name] = value }
        return JSONObject([
            ("id", .string(id)),
            ("type", .string(type.rawValue)),
            ("project_id", .string(projectID)),
            ("occurred_at", .string(UTCTime.formatISO(micros: occurredAtMicros))),
            ("site", .object(site)),
            ("reason_id", eventColumns["reason_id"] ?? .null),
            ("reason_info", eventColumns["reason_info"] ?? .null),
        ])
    }
}

/// A site's `sites` summary at one of its events.
struct SiteSummary: Sendable {
    var event: String
    var firstSeenMicros: Int64
    var lastSeenMicros: Int64
    var eventCount: Int64
}
