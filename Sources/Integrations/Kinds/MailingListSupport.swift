import Core
import Foundation

/// What the mailing-list kinds share.
enum MailingList {
    /// A base URL without its trailing slashes.
    static func base(_ settings: IntegrationSettings, default fallback: String) -> String {
        var text = settings["base_url"] ?? fallback
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// A path segment, percent-encoded (RFC 3986 unreserved characters stay).
    static func pathSegment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(0x80)))
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func json(_ object: JSONObject) -> [UInt8] {
        JSONWriter.serialize(.object(object))
    }

    static let jsonHeaders = [("Content-Type", "application/json"), ("Accept", "application/json")]

    /// Runs the calls in order, stopping at the first that is not a success; a transport
    /// failure is a retry. `allowed` statuses of a call count as success too.
    static func run(_ calls: [(what: String, method: String, url: String, headers: [(String, String)], body: [UInt8]?)],
                    http: DeliveryHTTP) async -> DeliveryOutcome {
        var last: Int?
        for call in calls {
            switch await http.attempt(call.what, call.method, call.url, headers: call.headers, body: call.body) {
            case .failure(let error): return .retry(status: nil, error: error.message)
            case .success(let answer):
                let outcome = DeliveryOutcome.from(answer, what: call.what)
                guard case .delivered = outcome else { return outcome }
                last = answer.status
            }
        }
        return .delivered(status: last)
    }
}

/// Lowercase hex of bytes (a digest): `String(format: "%02x")` per byte went through
/// Foundation's formatter, a visible share of each webhook delivery's CPU.
func lowercaseHex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
