/// One SMTP reply (RFC 5321 §4.2): a three-digit code and one or more text lines. A multi-line
/// reply is `250-first`, `250-second`, …, `250 last`: every line carries the same code, and a
/// space (or nothing) after the code ends it.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    /// The text after the code and separator, one entry per line, without CRLF.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// 2yz: the command succeeded.
    public var isPositiveCompletion: Bool { (200..<300).contains(code) }
    /// 3yz: go on (354 after DATA, 334 during AUTH).
    public var isPositiveIntermediate: Bool { (300..<400).contains(code) }
    /// 4yz: try again later.
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    /// 5yz: do not repeat this as it is.
    public var isPermanentFailure: Bool { (500..<600).contains(code) }

    /// The reply as the server sent it on one line, cut to a length that fits an error
    /// message, and with anything that looks like an email address masked (servers echo
    /// recipients; an error may be stored or logged).
    public var description: String {
        var text = "\(code) " + lines.joined(separator: " / ")
        if text.count > 240 { text = String(text.prefix(240)) + "…" }
        return MailRedaction.maskAddresses(text)
    }

    /// The EHLO keywords (the first word of every line after the greeting line), uppercased,
    /// with their parameters: `AUTH PLAIN LOGIN` gives `["AUTH": ["PLAIN", "LOGIN"]]`.
    public var extensions: [String: [String]] {
        var result: [String: [String]] = [:]
        for line in lines.dropFirst() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map { String($0).uppercased() }
            guard let keyword = words.first else { continue }
            result[keyword] = Array(words.dropFirst())
        }
        return result
    }
}

/// Masks email addresses in text meant for errors and logs.
enum MailRedaction {
    static func maskAddresses(_ text: String) -> String {
        // A word containing "@" (between spaces, angle brackets, quotes) becomes "<address>".
        var out = ""
        var word = ""
        func flush() {
            out += word.contains("@") ? "<address>" : word
            word = ""
        }
        for character in text {
            if character == " " || character == "<" || character == ">" || character == "\"" || character == "," || character == ";" {
                flush()
                if character != "<" && character != ">" { out.append(character) }
            } else {
                word.append(character)
            }
        }
        flush()
        return out
    }
}

/// Cuts the server's byte stream into replies. Hostile input is bounded: a line longer than
/// `lineBytesMax` or a reply of more than `linesMax` lines is a protocol error, not a hang or
/// unbounded memory.
struct SMTPReplyParser {
    static let lineBytesMax = 4096
    static let linesMax = 512

    enum Failure: Error, Equatable {
        case lineTooLong
        case tooManyLines
        case malformed(String)
    }

    private var pendingLines: [String] = []
    private var pendingCode: Int?

    /// Feeds one complete line (without its line ending). Returns a reply when the line ends one.
    mutating func feed(line bytes: [UInt8]) throws(Failure) -> SMTPReply? {
        guard bytes.count <= Self.lineBytesMax else { throw .lineTooLong }
        let text = String(decoding: bytes, as: UTF8.self)
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw .malformed(String(text.prefix(80)))
        }
        let code = Int(bytes[0] - 0x30) * 100 + Int(bytes[1] - 0x30) * 10 + Int(bytes[2] - 0x30)
        guard (200...599).contains(code) else { throw .malformed(String(text.prefix(80))) }
        let separator: UInt8? = bytes.count > 3 ? bytes[3] : nil
        guard separator == nil || separator == 0x20 || separator == 0x2D else { throw .malformed(String(text.prefix(80))) }
        if let pendingCode, pendingCode != code {
            throw .malformed("a multi-line reply changed its code from \(pendingCode) to \(code)")
        }
        pendingCode = code
        pendingLines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        guard pendingLines.count <= Self.linesMax else { throw .tooManyLines }
        if separator == 0x2D { return nil }
        let reply = SMTPReply(code: code, lines: pendingLines)
        pendingLines = []
        pendingCode = nil
        return reply
    }

    /// True while a multi-line reply has started and not ended.
    var isInsideReply: Bool { pendingCode != nil }
}
