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
///   "Exactly" is judged on the decimal text (`FieldCast.int64(jsonNumberLiteral:)`): `1e-999`
///   is not whole, `1e999` and `9223372036854775808` overflow (both NULL), `-0.0` is 0, `1e18`
///   is 10^18. A JSON `true`/`false` is not an int.
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
        var source = JSONPayloadSource(payload: envelope.payload)
        return normalize(source: &source, id: envelope.id, receivedAtMicros: envelope.receivedAtMicros,
                         route: envelope.route, siteHash: SiteIdentity.siteHash(userAgent: envelope.userAgent),
                         registry: registry)
    }

    /// The rules themselves, once for both payload sources (the JSON tree and the scanned
    /// line); `siteHash` is the User-Agent's, computed by the caller from its own form of it.
    @inline(__always)
    static func normalize<Source: PayloadSource>(source: inout Source, id: String, receivedAtMicros: Int64,
                                                  route: Envelope.Route, siteHash: String?,
                                                  registry: ProjectRegistry) -> NormalizeResult {
        guard let hash = source.text(.hash), let project = registry.project(hash: hash) else {
            return .unknownProject
        }
        source.castFailures = 0
        var row = EventRow(eventID: id, receivedAtMicros: receivedAtMicros, projectID: project.id, event: route.eventName)

        row.url = source.text(.url)
        row.siteKey = row.url.flatMap(SiteIdentity.siteKey(url:))
        row.siteHash = siteHash
        row.siteName = source.text(.site)
        row.adminEmail = source.text(.adminEmail)
        row.firstName = source.text(.firstName)
        row.lastName = source.text(.lastName)
        row.ipAddress = source.text(.ipAddress)
        // Clients before 1.1.12 sent the project version as `version`.
        row.projectVersion = source.text(.projectVersion) ?? source.text(.version)
        row.clientVersion = source.text(.client)

        source.openGroup(.server)
        row.serverSoftware = source.text(.serverSoftware)
        row.phpVersion = source.text(.serverPHPVersion)
        row.mysqlVersion = source.text(.serverMySQLVersion)
        row.phpMaxUploadSize = source.text(.serverPHPMaxUploadSize)
        row.phpDefaultTimezone = source.text(.serverPHPDefaultTimezone)
        row.phpSoap = source.bool(.serverPHPSoap)
        row.phpFsockopen = source.bool(.serverPHPFsockopen)
        row.phpCurl = source.bool(.serverPHPCurl)
        row.phpMinor = row.phpVersion.flatMap(FieldCast.minorVersion)
        row.mysqlMinor = row.mysqlVersion.flatMap(FieldCast.minorVersion)

        source.openGroup(.wp)
        row.wpVersion = source.text(.wpVersion)
        row.wpMinor = row.wpVersion.flatMap(FieldCast.minorVersion)
        row.wpLocale = source.text(.wpLocale)
        row.wpMemoryLimit = source.text(.wpMemoryLimit)
        row.wpDebugMode = source.bool(.wpDebugMode)
        row.wpMultisite = source.bool(.wpMultisite)
        // Clients before 1.1.12 sent the theme's stylesheet slug as top-level `theme`.
        row.wpThemeSlug = source.text(.wpThemeSlug) ?? source.text(.theme)
        row.wpThemeName = source.text(.wpThemeName)
        row.wpThemeVersion = source.text(.wpThemeVersion)
        row.wpThemeURI = source.text(.wpThemeURI)
        row.wpThemeAuthor = source.text(.wpThemeAuthor)

        (row.usersTotal, row.users) = source.users()
        row.activePlugins = source.int64(.activePlugins)
        row.inactivePlugins = source.int64(.inactivePlugins)
        row.isLocal = source.bool(.isLocal)
        row.trackingSkipped = source.bool(.trackingSkipped)
        row.previouslySkipped = source.bool(.previouslySkipped)

        if route == .deactivate, let reasonID = source.text(.reasonID),
           builtInReasonIDs.contains(reasonID) || project.deactivationReasons.contains(reasonID) {
            row.reasonID = reasonID
        }
        row.reasonInfo = source.text(.reasonInfo)
        row.plugins = source.plugins()
        row.extra = source.extra(declared: project.extraFields)
        return .event(row, castFailures: source.castFailures)
    }
}
