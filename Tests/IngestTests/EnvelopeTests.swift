import Core
import XCTest
@testable import Ingest

final class EnvelopeTests: XCTestCase {
    func testLineShapeAndRoundTrip() throws {
        let micros = UTCTime.parseISO("2026-11-28T10:15:03.123456Z")!
        let envelope = Envelope(id: "01ABC", receivedAtMicros: micros, route: .trackingSkipped, ip: "203.0.113.9",
                                userAgent: "Appsero/0123456789abcdef0123456789abcdef;",
                                payload: JSONObject([("hash", .string("h")), ("previously_skipped", .string("0"))]))
        let line = String(decoding: envelope.line(), as: UTF8.self)
        XCTAssertEqual(line, #"{"v":1,"id":"01ABC","received_at":"2026-11-28T10:15:03.123456Z","route":"tracking-skipped","ip":"203.0.113.9","user_agent":"Appsero/0123456789abcdef0123456789abcdef;","payload":{"hash":"h","previously_skipped":"0"}}"# + "\n")
        XCTAssertEqual(try Envelope.decode(Array(envelope.line().dropLast())), envelope)
    }

    func testDecodeRefusesBadEnvelopes() {
        let bad = [#"{"v":2,"id":"a","received_at":"2026-01-01T00:00:00Z","route":"track","payload":{}}"#,
                   #"{"v":1,"received_at":"2026-01-01T00:00:00Z","route":"track","payload":{}}"#,
                   #"{"v":1,"id":"a","received_at":"yesterday","route":"track","payload":{}}"#,
                   #"{"v":1,"id":"a","received_at":"2026-01-01T00:00:00Z","route":"other","payload":{}}"#,
                   #"{"v":1,"id":"a","received_at":"2026-01-01T00:00:00Z","route":"track","payload":[]}"#,
                   "[1]", "{"]
        for text in bad {
            XCTAssertThrowsError(try Envelope.decode(Array(text.utf8)), text)
        }
    }

    func testRawLayoutHourPaths() {
        let micros = UTCTime.parseISO("2026-11-28T10:15:03Z")!
        let hour = RawLayout.hourIndex(micros: micros)
        XCTAssertEqual(RawLayout.hourPath(hourIndex: hour), "2026/11/28/10")
        XCTAssertEqual(RawLayout(dataDirectory: "/d").hourDirectory(route: .trackingSkipped, hourIndex: hour),
                       "/d/raw/tracking-skipped/2026/11/28/10")
    }

    func testEventIDsAreUniqueAndTimeOrdered() {
        var seen = Set<String>()
        var previous = ""
        for step in 0..<2000 {
            let id = EventID.make(micros: Int64(step) * 1_000_000)
            XCTAssertEqual(id.count, 26)
            XCTAssertTrue(seen.insert(id).inserted)
            XCTAssertGreaterThan(id, previous)
            previous = id
        }
    }

    func testTrustedProxies() throws {
        let proxies = try TrustedProxies(["10.0.0.0/8", "::1"])
        XCTAssertEqual(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: "203.0.113.9, 10.1.2.3"), "203.0.113.9")
        XCTAssertEqual(proxies.clientAddress(peer: "::1", forwardedFor: "198.51.100.1"), "198.51.100.1")
        XCTAssertEqual(proxies.clientAddress(peer: "192.0.2.1", forwardedFor: "203.0.113.9"), "192.0.2.1")
        XCTAssertEqual(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: "garbage"), "10.1.2.3")
        XCTAssertThrowsError(try TrustedProxies(["10.0.0.0/33"]))
        XCTAssertThrowsError(try TrustedProxies(["proxy.local"]))
    }

    func testRateLimiterRefillsOverTime() {
        let limiter = RateLimiter(ratePerSecond: 2, burst: 3)
        XCTAssertEqual((0..<5).map { _ in limiter.allow("a", nowNs: 0) }, [true, true, true, false, false])
        XCTAssertTrue(limiter.allow("b", nowNs: 0))
        XCTAssertTrue(limiter.allow("a", nowNs: 500_000_000))
        XCTAssertFalse(limiter.allow("a", nowNs: 500_000_000))
    }
}
