import Core
import Foundation
import Hummingbird
import Ingest

/// The query string of an API request, decoded like a form (`+` is a space, `%XX` escapes),
/// with typed getters that fail with a 400 naming the parameter.
struct APIParameters: Sendable {
    /// Every `name=value` pair in order; a name may repeat.
    let pairs: [(name: String, value: String)]

    init(query: String?) {
        var pairs: [(String, String)] = []
        for piece in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            guard !name.isEmpty else { continue }
            pairs.append((name, parts.count > 1 ? Self.decode(parts[1]) : ""))
        }
        self.pairs = pairs
    }

    init(_ request: Request) {
        self.init(query: request.uri.query)
    }

    /// Form decoding (`FormParser.percentDecode`, the SDK bodies' decoder), then UTF-8 with
    /// invalid sequences as U+FFFD. Not Foundation's `removingPercentEncoding`: on Linux it
    /// drops a leading byte order mark (`wp_locale=%EF%BB%BFbom` matched nothing) and gives up
    /// on any invalid byte.
    static func decode(_ text: Substring) -> String {
        let bytes = Array(text.utf8)
        return String(decoding: FormParser.percentDecode(bytes, 0, bytes.count), as: UTF8.self)
    }

    /// The last value given for `name` (later values win, as in PHP and most frameworks).
    subscript(name: String) -> String? {
        pairs.last(where: { $0.name == name })?.value
    }

    static func invalid(_ name: String, _ message: String) -> APIError {
        APIError(.badRequest, code: "bad_request", message: "parameter \(name): \(message)")
    }

    func time(_ name: String, default fallback: Int64) throws -> Int64 {
        guard let text = self[name], !text.isEmpty else { return fallback }
        // An unescaped `+02:00` offset arrives as a space (form decoding); read it back as `+`.
        guard let micros = UTCTime.parseISO(text) ?? UTCTime.parseISO(Self.restoringOffsetSign(text)) else {
            throw Self.invalid(name, "\"\(text)\" is not an ISO-8601 time (e.g. 2026-05-01T00:00:00Z)")
        }
        return micros
    }

    /// `2026-05-01T10:00:00 02:00` → `2026-05-01T10:00:00+02:00`: only a space right before
    /// a trailing `HH:MM` or `HHMM` offset is changed.
    static func restoringOffsetSign(_ text: String) -> String {
        guard let space = text.lastIndex(of: " "), text.distance(from: text.startIndex, to: space) >= 16 else { return text }
        let offset = text[text.index(after: space)...]
        guard offset.count == 5 || offset.count == 4, offset.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ":") }) else { return text }
        return text[..<space] + "+" + offset
    }

    func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = self[name], !text.isEmpty else { return fallback }
        guard let value = Int(text) else { throw Self.invalid(name, "\"\(text)\" is not an integer") }
        guard range.contains(value) else {
            throw Self.invalid(name, "\(value) is out of range (\(range.lowerBound)...\(range.upperBound))")
        }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ name: String, default fallback: T) throws -> T where T.RawValue == String {
        guard let text = self[name], !text.isEmpty else { return fallback }
        guard let value = T(rawValue: text) else {
            throw Self.invalid(name, "unknown value \"\(text)\"; expected one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// `from` and `to` (from inclusive, to exclusive). Defaults: `to` now, `from` 30 days
    /// before `to`.
    func timeRange() throws -> TimeRange {
        let to = try time("to", default: UTCTime.nowMicros())
        let from = try time("from", default: to - 30 * 86_400_000_000)
        guard from < to else { throw Self.invalid("from", "must be before to") }
        // The default `from` of a `to` in early year 0000 would fall before the first time the
        // SQL layer can write.
        guard from >= UTCTime.microsMin else { throw Self.invalid("from", "must be in year 0000 or later") }
        return TimeRange(from: from, to: to)
    }

    /// `page` (1-based, default 1) and `per_page` (default 50, at most 1000).
    func pagination() throws -> (page: Int, perPage: Int, offset: Int) {
        let perPage = try int("per_page", default: 50, range: 1...1000)
        let page = try int("page", default: 1, range: 1...(Int.max / 1000))
        return (page, perPage, (page - 1) * perPage)
    }
}
