import Core

/// An email with a plain-text part and, optionally, an HTML alternative, rendered as RFC 5322
/// text with MIME (RFC 2045–2047): `multipart/alternative` (text first, HTML last, so clients
/// show the richest part they can), UTF-8 parts in quoted-printable, 7-bit throughout, so any
/// SMTP server relays it without 8BITMIME or SMTPUTF8.
public struct MailMessage: Sendable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var replyTo: MailAddress?
    public var subject: String
    public var text: String
    public var html: String?
    /// The Date header, µs since the epoch (UTC).
    public var date: Int64
    /// `<id@domain>`; derived from the delivery id (`messageID(key:domain:)`) so a message
    /// sent twice by an at-least-once retry carries the same id and clients can fold them.
    public var messageID: String
    /// More headers (`Auto-Submitted`, `X-Trackhouse-Delivery`); names must be ASCII tokens.
    public var extraHeaders: [(name: String, value: String)]

    public init(from: MailAddress, to: [MailAddress], replyTo: MailAddress? = nil, subject: String, text: String,
                html: String? = nil, date: Int64, messageID: String, extraHeaders: [(name: String, value: String)] = []) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.date = date
        self.messageID = messageID
        self.extraHeaders = extraHeaders
    }

    /// A Message-ID for `key` (a delivery id): its readable characters, then a 64-bit FNV-1a
    /// hash of all of it, so different keys never share an id by losing characters.
    public static func messageID(key: String, domain: String) -> String {
        var readable = ""
        for scalar in key.unicodeScalars.prefix(80) {
            let isAtom = (scalar.value < 0x80 && HeaderText.isAlphanumeric(UInt8(scalar.value))) || scalar == "-" || scalar == "_"
            if isAtom {
                readable.unicodeScalars.append(scalar)
            } else if !readable.isEmpty, !readable.hasSuffix(".") {
                readable.append(".")
            }
        }
        if !readable.isEmpty, !readable.hasSuffix(".") { readable.append(".") }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let hex = String(hash, radix: 16)
        let cleanDomain = MailAddress.isPlainAddress("x@\(domain)") ? domain : "trackhouse.invalid"
        return "<\(readable)\(String(repeating: "0", count: 16 - hex.count))\(hex)@\(cleanDomain)>"
    }

    /// The whole message, CRLF line endings, ready for SMTP DATA.
    public func rendered() -> [UInt8] {
        var lines: [String] = []
        func header(_ name: String, _ value: String) { lines.append("\(name): \(value)") }
        header("Date", Self.rfc5322Date(micros: date))
        header("From", from.headerValue)
        header("To", to.map(\.headerValue).joined(separator: ",\r\n "))
        if let replyTo { header("Reply-To", replyTo.headerValue) }
        header("Subject", HeaderText.unstructured(subject, headerName: "Subject"))
        header("Message-ID", HeaderText.singleLine(messageID))
        header("MIME-Version", "1.0")
        for extra in extraHeaders where extra.name.utf8.allSatisfy({ HeaderText.isAlphanumeric($0) || $0 == 0x2D }) {
            header(extra.name, HeaderText.unstructured(extra.value, headerName: extra.name))
        }
        if let html {
            // QP output never contains "=_" (see QuotedPrintable), so this boundary cannot
            // occur inside a part.
            let boundary = "=_trackhouse_" + String(messageID.utf8.reduce(UInt64(5381)) { ($0 &* 33) ^ UInt64($1) }, radix: 36)
            header("Content-Type", "multipart/alternative; boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("This is a multi-part message in MIME format.")
            for (type, body) in [("text/plain", text), ("text/html", html)] {
                lines.append("--\(boundary)")
                lines.append("Content-Type: \(type); charset=utf-8")
                lines.append("Content-Transfer-Encoding: quoted-printable")
                lines.append("")
                lines.append(QuotedPrintable.encode(body))
            }
            lines.append("--\(boundary)--")
        } else {
            header("Content-Type", "text/plain; charset=utf-8")
            header("Content-Transfer-Encoding", "quoted-printable")
            lines.append("")
            lines.append(QuotedPrintable.encode(text))
        }
        var rendered = lines.joined(separator: "\r\n")
        if !rendered.hasSuffix("\r\n") { rendered += "\r\n" }
        return Array(rendered.utf8)
    }

    /// `Sun, 06 Dec 2026 13:10:16 +0000` (RFC 5322 §3.3).
    public static func rfc5322Date(micros: Int64) -> String {
        let civil = UTCTime.civil(micros: micros)
        let days = UTCTime.daysFromCivil(year: civil.year, month: civil.month, day: civil.day)
        // 1970-01-01 was a Thursday.
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days % 7) + 7) % 7]
        let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][civil.month - 1]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(weekday), \(two(civil.day)) \(month) \(civil.year) \(two(civil.hour)):\(two(civil.minute)):\(two(civil.second)) +0000"
    }
}
