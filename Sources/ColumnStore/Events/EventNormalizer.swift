import Ingest

/// What one raw envelope becomes.
public enum NormalizeResult: Sendable, Equatable {
    /// A row for `events`, with the number of fields that were present but did not cast
    /// (they are NULL in the row; the compaction report sums them).
    case event(EventRow, castFailures: Int)
    /// The payload `hash` is missing or matches no project: never enters `events`.
    case unknownProject
}

/// Turns raw envelopes into `events` rows, by every rule of CONTRACT §4.
///
/// Pure and total: any payload gives a row or `.unknownProject`, never an error, because a
/// bad field must never drop an event.
///
/// Where the contract is silent, these choices hold (worth a line in the README):
/// - Trimming removes Unicode White_Space (so a non-breaking space is trimmed too).
/// - The payload `hash` is trimmed before the case-insensitive lookup.
/// - Ints are decimal text `[+-]?[0-9]+` within Int64. A JSON-body number that is exactly a
///   whole number (`8.0`, `1e2`) counts as that int, because JSON encoders write whole floats
///   that way; the string `"8.0"` and the number `8.5` are not ints (NULL, one cast failure).
///   A JSON `true`/`false` is not an int.
/// - Bools accept JSON true/false and the number literals `1`/`0` besides the contract words.
/// - Leaves are read with `JSONValue.scalarText`: a JSON number keeps its literal text in a
///   string column (`"site": 123` → `"123"`).
/// - A scheme is `letter (letter | digit | + | - | .)* "://"`; a protocol-relative `//host`
///   keeps its slashes. Ports and paths stay in `site_key`.
/// - `site_hash` needs exactly 32 hex digits after the first `Appsero/` (case-insensitive).
/// - `reason_id` matches built-in and custom ids exactly (after trimming; `Other` is unknown).
///   `reason_info` is kept on any route (only deactivations send it).
/// - `users`, `plugins`, `extra`, `server`, `wp` holding a scalar or a non-empty array are
///   NULL with one cast failure; `""`, null and `[]` (PHP's empty array) are just absent.
///   A plugin entry that is not an object keeps its slug with null name and version.
/// - Float extras render as Swift's shortest round-trip decimal (`2.5`, `3.0`, `1e+16`).
/// - JSON-text columns sort keys (and plugin slugs) by UTF-8 bytes.
public enum EventNormalizer {
    /// The SDK's own deactivation reasons; a project may add its own in `deactivation_reasons`.
    public static let builtInReasonIDs: Set<String> = [
        "could-not-understand", "found-better-plugin", "not-have-that-feature", "is-not-working",
        "looking-for-other", "did-not-work-as-expected", "other", "none",
    ]

    public static func normalize(envelope: Envelope, registry: ProjectRegistry) -> NormalizeResult {
        let payload = envelope.payload
        var reader = PayloadFieldReader()
        guard let hash = reader.text(payload["hash"]), let project = registry.project(hash: hash) else {
            return .unknownProject
        }
        reader.castFailures = 0
        var row = EventRow(eventID: envelope.id, receivedAtMicros: envelope.receivedAtMicros,
                           projectID: project.id, event: envelope.route.eventName)

        row.url = reader.text(payload["url"])
        row.siteKey = row.url.flatMap(SiteIdentity.siteKey(url:))
        row.siteHash = SiteIdentity.siteHash(userAgent: envelope.userAgent)
        row.siteName = reader.text(payload["site"])
        row.adminEmail = reader.text(payload["admin_email"])
        row.firstName = reader.text(payload["first_name"])
        row.lastName = reader.text(payload["last_name"])
        row.ipAddress = reader.text(payload["ip_address"])
        // Clients before 1.1.12 sent the project version as `version`.
        row.projectVersion = reader.text(payload["project_version"]) ?? reader.text(payload["version"])
        row.clientVersion = reader.text(payload["client"])

        let server = mapField(payload["server"], reader: &reader)
        row.serverSoftware = reader.text(server?["software"])
        row.phpVersion = reader.text(server?["php_version"])
        row.mysqlVersion = reader.text(server?["mysql_version"])
        row.phpMaxUploadSize = reader.text(server?["php_max_upload_size"])
        row.phpDefaultTimezone = reader.text(server?["php_default_timezone"])
        row.phpSoap = reader.bool(server?["php_soap"])
        row.phpFsockopen = reader.bool(server?["php_fsockopen"])
        row.phpCurl = reader.bool(server?["php_curl"])
        row.phpMinor = row.phpVersion.flatMap(FieldCast.minorVersion)
        row.mysqlMinor = row.mysqlVersion.flatMap(FieldCast.minorVersion)

        let wp = mapField(payload["wp"], reader: &reader)
        row.wpVersion = reader.text(wp?["version"])
        row.wpMinor = row.wpVersion.flatMap(FieldCast.minorVersion)
        row.wpLocale = reader.text(wp?["locale"])
        row.wpMemoryLimit = reader.text(wp?["memory_limit"])
        row.wpDebugMode = reader.bool(wp?["debug_mode"])
        row.wpMultisite = reader.bool(wp?["multisite"])
        // Clients before 1.1.12 sent the theme's stylesheet slug as top-level `theme`.
        row.wpThemeSlug = reader.text(wp?["theme_slug"]) ?? reader.text(payload["theme"])
        row.wpThemeName = reader.text(wp?["theme_name"])
        row.wpThemeVersion = reader.text(wp?["theme_version"])
        row.wpThemeURI = reader.text(wp?["theme_uri"])
        row.wpThemeAuthor = reader.text(wp?["theme_author"])

        (row.usersTotal, row.users) = EventJSONColumns.users(payload["users"], reader: &reader)
        row.activePlugins = reader.int64(payload["active_plugins"])
        row.inactivePlugins = reader.int64(payload["inactive_plugins"])
        row.isLocal = reader.bool(payload["is_local"])
        row.trackingSkipped = reader.bool(payload["tracking_skipped"])
        row.previouslySkipped = reader.bool(payload["previously_skipped"])

        if envelope.route == .deactivate, let reasonID = reader.text(payload["reason_id"]),
           builtInReasonIDs.contains(reasonID) || project.deactivationReasons.contains(reasonID) {
            row.reasonID = reasonID
        }
        row.reasonInfo = reader.text(payload["reason_info"])
        row.plugins = EventJSONColumns.plugins(payload["plugins"], reader: &reader)
        row.extra = EventJSONColumns.extra(payload["extra"], declared: project.extraFields, reader: &reader)
        return .event(row, castFailures: reader.castFailures)
    }

    /// A nested group (`server`, `wp`) as an object; anything else there is NULL for all its
    /// columns (a non-empty scalar counts as one cast failure).
    private static func mapField(_ value: JSONValue?, reader: inout PayloadFieldReader) -> JSONObject? {
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
