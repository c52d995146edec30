import Core
import Crypto
import Foundation
import Ingest

/// Whom an access or erasure request is about (CONTRACT §9), normalised once: an email
/// (trimmed, lowercased; matches `admin_email` and old clients' `user_email`) or a site
/// (its `site_key`, so a URL given by the operator is reduced the way ingest reduces `url`).
public enum PrivacySubject: Sendable, Equatable {
    case email(String)
    case site(String)

    /// Nil when nothing is left after normalising (an empty email or URL).
    public static func email(normalizing text: String) -> PrivacySubject? {
        guard let trimmed = FieldCast.trimmed(text) else { return nil }
        return .email(trimmed.lowercased())
    }

    public static func site(normalizing text: String) -> PrivacySubject? {
        SiteIdentity.siteKey(url: text).map { .site($0) }
    }

    /// The normalised value: what is matched, and what the audit line hashes.
    public var value: String {
        switch self {
        case .email(let email): return email
        case .site(let key): return key
        }
    }

    public var kind: String {
        switch self {
        case .email: return "email"
        case .site: return "site"
        }
    }

    /// Lowercase hex SHA-256 of `"<kind>:<value>"`: the only form of the subject that is ever
    /// written to disk (the audit line, the erase journal).
    public var sha256: String {
        SHA256.hash(data: Array("\(kind):\(value)".utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Bytes every raw line of the subject contains, compared ASCII-case-insensitively: the
    /// email itself, or the host part of the site key (a JSON writer may escape the `/` of a
    /// path as `\/`). A line without them cannot be the subject's and is never parsed.
    var needle: [UInt8] {
        switch self {
        case .email(let email): return Array(email.utf8)
        case .site(let key): return Array(key.utf8.prefix { $0 != UInt8(ascii: "/") })
        }
    }

    /// Whether an event with these column values is the subject's.
    func matches(siteKey: String?, adminEmail: String?) -> Bool {
        switch self {
        case .email(let email):
            guard let adminEmail else { return false }
            return Self.normalizedEmail(adminEmail) == email
        case .site(let key):
            return siteKey == key
        }
    }

    static func normalizedEmail(_ text: String) -> String? {
        FieldCast.trimmed(text)?.lowercased()
    }
}

/// Finds the subject's lines in raw envelope text (CONTRACT §2 lines): a case-insensitive
/// byte search for the subject's needle picks candidate lines, and only those are parsed and
/// tested field by field — the line's `payload.hash` must name the project, then
/// `admin_email`/`user_email` (trimmed, case-insensitive) or the site key of `url` must match.
struct RawSubjectMatcher: Sendable {
    let projectID: String
    let subject: PrivacySubject
    let registry: ProjectRegistry
    let needle: [UInt8]

    init(projectID: String, subject: PrivacySubject, registry: ProjectRegistry) {
        self.projectID = projectID
        self.subject = subject
        self.registry = registry
        self.needle = subject.needle
    }

    /// A matched line: its byte range in the content and its envelope id and time (the event
    /// compaction made of it carries the same id).
    struct Match {
        var range: Range<Int>
        var eventID: String?
        var receivedAtMicros: Int64?
        /// Whether the line's event carries the subject in a column a segment index records
        /// (`site_key`, `admin_email`), not only in the raw line's `user_email`.
        var inIndexedColumn = true
    }

    /// Every subject line of `content` (complete lines only: a torn tail is not a line).
    func matches(in content: [UInt8]) -> [Match] {
        guard !needle.isEmpty, content.count >= needle.count else { return [] }
        let lowered = Self.asciiLowercased(content)
        var found: [Match] = []
        var searchFrom = 0
        lowered.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { needle in
                let base = haystack.baseAddress!
                while searchFrom <= haystack.count - needle.count {
                    guard let offset = Self.find(needle, in: haystack, from: searchFrom) else { break }
                    // The line around the hit.
                    var start = offset
                    while start > 0 && haystack[start - 1] != 0x0A { start -= 1 }
                    guard let newline = memchr(base + offset, 0x0A, haystack.count - offset) else { break }
                    let end = UnsafeRawPointer(newline) - base
                    searchFrom = end + 1
                    if let match = test(content, start..<end) { found.append(match) }
                }
            }
        }
        return found
    }

    /// Whether the line `content[range]` is the subject's (nil when not).
    func test(_ content: [UInt8], _ range: Range<Int>) -> Match? {
        guard let value = try? JSONParser.parse(Array(content[range])), let payload = value["payload"]?.objectValue else { return nil }
        guard let hash = payload["hash"]?.scalarText.flatMap(FieldCast.trimmed), registry.project(hash: hash)?.id == projectID else {
            return nil
        }
        guard Self.keys(ofPayload: payload).contains(subject) else { return nil }
        var inIndexedColumn = true
        if case .email(let email) = subject {
            inIndexedColumn = payload["admin_email"]?.scalarText.flatMap(PrivacySubject.normalizedEmail) == email
        }
        return Match(range: range, eventID: value["id"]?.stringValue,
                     receivedAtMicros: value["received_at"]?.stringValue.flatMap(UTCTime.parseISO), inIndexedColumn: inIndexedColumn)
    }

    /// Every subject a payload names, whatever its project: `admin_email` and `user_email`
    /// (trimmed, lowercased) and the site key of `url`. What `test` compares, and what the
    /// erase index (`SubjectKeyIndex`) records of a line the normalizer alone cannot describe.
    static func keys(ofPayload payload: JSONObject) -> [PrivacySubject] {
        var keys: [PrivacySubject] = []
        for field in ["admin_email", "user_email"] {
            if let email = payload[field]?.scalarText.flatMap(PrivacySubject.normalizedEmail) { keys.append(.email(email)) }
        }
        if let key = payload["url"]?.scalarText.flatMap(SiteIdentity.siteKey(url:)) { keys.append(.site(key)) }
        return keys
    }

    /// `keys(ofPayload:)` of a raw line (none when it is not a JSON object with a payload object).
    static func keys(ofLine line: [UInt8]) -> [PrivacySubject] {
        guard let value = try? JSONParser.parse(line), let payload = value["payload"]?.objectValue else { return [] }
        return keys(ofPayload: payload)
    }

    /// The first offset at or after `start` where `needle` occurs in `haystack` (memchr for
    /// its first byte, then memcmp; glibc's memmem is not visible to Swift).
    static func find(_ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard needle.count > 0, let base = haystack.baseAddress, let first = needle.first else { return nil }
        var position = start
        while position <= haystack.count - needle.count {
            guard let hit = memchr(base + position, Int32(first), haystack.count - needle.count + 1 - position) else { return nil }
            let offset = UnsafeRawPointer(hit) - base
            if memcmp(base + offset, needle.baseAddress!, needle.count) == 0 { return offset }
            position = offset + 1
        }
        return nil
    }

    static func asciiLowercased(_ bytes: [UInt8]) -> [UInt8] {
        var lowered = bytes
        lowered.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices where buffer[index] >= 0x41 && buffer[index] <= 0x5A { buffer[index] |= 0x20 }
        }
        return lowered
    }
}
