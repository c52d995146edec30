import Foundation

/// The `Date` header value (RFC 9110 IMF-fixdate, `Thu, 03 Dec 2026 09:48:16 GMT`), formatted
/// once per second per owner instead of per response.
struct HTTPDate {
    private var second: Int = -1
    private var text = ""

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    mutating func current() -> String {
        var now = time(nil)
        if now == second { return text }
        second = now
        var parts = tm()
        gmtime_r(&now, &parts)
        text = Self.format(parts)
        return text
    }

    static func format(_ parts: tm) -> String {
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
