import Core
import XCTest
@testable import ColumnStore
import Ingest

/// Shared fixtures for the normalization tests: one registry, envelopes from form or JSON bodies.
enum NormalizeFixture {
    static let projectHash = "a4a8da5b-b419-4656-98e9-4a42e9044891"
    static let siteMD5 = "0123456789abcdef0123456789abcdef"

    static let registry = ProjectRegistry(projects: [
        Project(id: "acme-seo", name: "Acme SEO", hash: projectHash.uppercased(),
                extraFields: [
                    .init(key: "total_posts", type: .int),
                    .init(key: "store_currency", type: .string),
                    .init(key: "conversion_rate", type: .float),
                    .init(key: "pro_active", type: .bool),
                ],
                deactivationReasons: ["too-expensive"]),
        Project(id: "bare-theme", name: "Bare Theme", type: "theme", hash: "11111111-2222-3333-4444-555555555555"),
    ])

    /// An envelope whose payload is a form body (`a[b]=c&…`) parsed the way ingest stores it.
    static func formEnvelope(_ route: Envelope.Route = .track, _ form: String,
                             userAgent: String? = "Appsero/\(siteMD5);") -> Envelope {
        let payload = try! FormParser.parse(Array(form.utf8))
        return Envelope(id: "01J0000000000000000000TEST", receivedAtMicros: 1_780_000_000_123_456, route: route,
                        ip: "203.0.113.9", userAgent: userAgent, payload: payload)
    }

    /// An envelope whose payload is a JSON body (leaves may be numbers and bools).
    static func jsonEnvelope(_ route: Envelope.Route = .track, _ json: String,
                             userAgent: String? = "Appsero/\(siteMD5);") -> Envelope {
        let payload = try! JSONParser.parse(json).objectValue!
        return Envelope(id: "01J0000000000000000000JSON", receivedAtMicros: 1_780_000_000_000_000, route: route,
                        ip: "203.0.113.9", userAgent: userAgent, payload: payload)
    }

    /// The row for a form body with the project's hash prepended.
    static func row(_ route: Envelope.Route = .track, _ form: String, userAgent: String? = "Appsero/\(siteMD5);",
                    file: StaticString = #filePath, line: UInt = #line) -> (row: EventRow, castFailures: Int) {
        let body = form.isEmpty ? "hash=\(projectHash)" : "hash=\(projectHash)&\(form)"
        return expectEvent(EventNormalizer.normalize(envelope: formEnvelope(route, body, userAgent: userAgent),
                                                     registry: registry), file: file, line: line)
    }

    static func expectEvent(_ result: NormalizeResult, file: StaticString = #filePath,
                            line: UInt = #line) -> (row: EventRow, castFailures: Int) {
        guard case .event(let row, let failures) = result else {
            XCTFail("expected an event, got \(result)", file: file, line: line)
            return (EventRow(eventID: "", receivedAtMicros: 0, projectID: "", event: ""), -1)
        }
        return (row, failures)
    }

    /// Percent-encodes a form value (space as `+`, like `http_build_query`).
    static func encoded(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "): out += "+"
            default: out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
