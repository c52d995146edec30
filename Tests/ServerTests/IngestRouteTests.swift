import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest
@testable import Ingest
@testable import Server

/// In-process: requests go through the real router and raw writer, without a socket.
final class IngestRouteTests: XCTestCase {
    func withApp(_ data: String, configure: (inout ServerConfiguration) -> Void = { _ in },
                 _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var configuration = ServerConfiguration(dataDirectory: data, writerID: "t1")
        configuration.port = 0
        configure(&configuration)
        let components = try buildComponents(configuration: configuration, logger: quietLogger)
        let app = buildApplication(components: components, logger: quietLogger)
        try await app.test(.router) { client in try await body(client) }
        components.writer?.shutdown()
    }

    static func post(_ client: some TestClientProtocol, _ path: String, contentType: String?, body: [UInt8],
              extra: [(HTTPField.Name, String)] = []) async throws -> (Int, String) {
        var headers = HTTPFields()
        if let contentType { headers[.contentType] = contentType }
        headers[.userAgent] = "Appsero/0123456789ABCDEF0123456789abcdef;"
        for (name, value) in extra { headers[name] = value }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
            (Int(response.status.code), String(buffer: response.body))
        }
    }

    func testFormJSONAndGzipBodiesAreStoredFieldByField() async throws {
        let data = makeDataDirectory()
        try await withApp(data) { client in
            let (s1, b1) = try await Self.post(client, "/track", contentType: "application/x-www-form-urlencoded; charset=UTF-8",
                                               body: sdkTrackBody(marker: "one"))
            XCTAssertEqual(s1, 200, b1)
            XCTAssertTrue(b1.contains(#""ok":true"#))
            let json = #"{"hash":"A4A8DA5B-B419-4656-98E9-4A42E9044891","reason_id":"other","reason_info":"too slow","active_plugins":8,"is_local":false,"wp":{"version":"6.5"}}"#
            let (s2, _) = try await Self.post(client, "/deactivate", contentType: "application/json", body: Array(json.utf8))
            XCTAssertEqual(s2, 200)
            let skip = Gzip.deflate(Array("hash=\(demoHash)&previously_skipped=1&client=1.2.1".utf8))
            let (s3, _) = try await Self.post(client, "/tracking-skipped", contentType: "application/x-www-form-urlencoded",
                                              body: skip, extra: [(.contentEncoding, "gzip")])
            XCTAssertEqual(s3, 200)
        }
        let stored = try readAllEnvelopes(data).sorted { $0.receivedAtMicros < $1.receivedAtMicros }
        XCTAssertEqual(stored.map(\.route), [.track, .deactivate, .trackingSkipped])
        let track = stored[0].payload
        XCTAssertEqual(track["url"], .string("https://shop-one.example.com"))
        XCTAssertEqual(track["server"]?["php_version"], .string("8.1.27"))
        XCTAssertEqual(track["plugins"]?["woocommerce"]?["version"], .string("8.5.1"))
        XCTAssertEqual(track["users"]?["customer"], .string("9"))
        XCTAssertEqual(track["last_name"], .string("Doe"))
        XCTAssertEqual(stored[0].userAgent, "Appsero/0123456789ABCDEF0123456789abcdef;")
        XCTAssertEqual(stored[1].payload["active_plugins"], .number("8"))
        XCTAssertEqual(stored[1].payload["is_local"], .bool(false))
        XCTAssertEqual(stored[2].payload["previously_skipped"], .string("1"))
        XCTAssertEqual(Set(stored.map(\.id)).count, 3)
        let now = UTCTime.nowMicros()
        XCTAssertTrue(stored.allSatisfy { abs($0.receivedAtMicros - now) < 60_000_000 })
    }

    func testErrorsAreJSONWithTheRightStatus() async throws {
        let data = makeDataDirectory()
        try await withApp(data, configure: { $0.ingest.rateLimitPerSecond = 0.001; $0.ingest.rateLimitBurst = 5 }) { client in
            let cases: [(String, String?, [UInt8], [(HTTPField.Name, String)], Int, String)] = [
                ("/track", "application/x-www-form-urlencoded", Array("hash=unknown".utf8), [], 404, "unknown_project"),
                ("/track", "application/x-www-form-urlencoded", Array("url=x".utf8), [], 404, "unknown_project"),
                ("/track", "text/plain", Array("hash=\(demoHash)".utf8), [], 415, "unsupported_media_type"),
                ("/track", "application/json", Array("{\"hash\":".utf8), [], 400, "bad_request"),
                ("/track", "application/json", Array("[1,2]".utf8), [], 400, "bad_request"),
                ("/track", "application/x-www-form-urlencoded", [UInt8](repeating: 0x61, count: (1 << 20) + 1), [], 413, "payload_too_large"),
            ]
            for (path, contentType, body, extra, status, code) in cases {
                let (gotStatus, gotBody) = try await Self.post(client, path, contentType: contentType, body: body, extra: extra)
                XCTAssertEqual(gotStatus, status, gotBody)
                let parsed = try JSONParser.parse(gotBody)
                XCTAssertEqual(parsed["error"], .string(code))
                XCTAssertNotNil(parsed["message"]?.stringValue)
            }
            // The burst of 5 is spent (the oversized body is refused before the limiter): the next request is rate limited.
            let (limited, body) = try await Self.post(client, "/track", contentType: "application/x-www-form-urlencoded",
                                                      body: sdkTrackBody(marker: "x"))
            XCTAssertEqual(limited, 429, body)
        }
        XCTAssertEqual(try readAllEnvelopes(data).count, 0)
    }

    func testGzipBombAndDeepJSONAreRefused() async throws {
        let data = makeDataDirectory()
        try await withApp(data) { client in
            let bomb = Gzip.deflate(Array(("hash=\(demoHash)&pad=" + String(repeating: "a", count: 2 << 20)).utf8))
            let (s1, b1) = try await Self.post(client, "/track", contentType: "application/x-www-form-urlencoded", body: bomb,
                                                extra: [(.contentEncoding, "gzip")])
            XCTAssertEqual(s1, 413, b1)
            let deep = "{\"hash\":\"\(demoHash)\",\"x\":" + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}"
            let (s2, b2) = try await Self.post(client, "/track", contentType: "application/json", body: Array(deep.utf8))
            XCTAssertEqual(s2, 400, b2)
            XCTAssertTrue(b2.contains("deeper than 32"))
            let (s3, _) = try await Self.post(client, "/track", contentType: "application/x-www-form-urlencoded", body: [0x68, 0x61, 0x73, 0x68, 0x3D, 0xFF])
            XCTAssertEqual(s3, 400)
            let (s4, _) = try await Self.post(client, "/track", contentType: "application/x-www-form-urlencoded", body: Array("hash=x".utf8),
                                              extra: [(.contentEncoding, "br")])
            XCTAssertEqual(s4, 415)
        }
    }

    func testRegistryReloadsWhenTheFileChanges() async throws {
        let data = makeDataDirectory()
        try await withApp(data) { client in
            let newHash = "11111111-2222-3333-4444-555555555555"
            let (before, _) = try await Self.post(client, "/track", contentType: nil, body: Array("hash=\(newHash)".utf8))
            XCTAssertEqual(before, 404)
            var registry = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: "p")
            registry.replaceProject(Project(id: "new-one", name: "New", hash: newHash))
            try FileIO.writeFileAtomically(data + "/projects.json", registry.serialized() + [0x20])
            try await Task.sleep(nanoseconds: 700_000_000)
            let (after, body) = try await Self.post(client, "/track", contentType: nil, body: Array("hash=\(newHash)".utf8))
            XCTAssertEqual(after, 200, body)
        }
    }

    func testTrustedProxyForwardedFor() async throws {
        let data = makeDataDirectory()
        // The router test has no socket peer; with no peer the envelope's ip is null.
        try await withApp(data) { client in
            let (status, _) = try await Self.post(client, "/track", contentType: nil, body: Array("hash=\(demoHash)".utf8),
                                                  extra: [(HTTPField.Name("X-Forwarded-For")!, "198.51.100.7")])
            XCTAssertEqual(status, 200)
        }
        XCTAssertNil(try readAllEnvelopes(data).first?.ip)
    }

    func testHealthz() async throws {
        let data = makeDataDirectory()
        try await withApp(data) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let body = try JSONParser.parse(String(buffer: response.body))
                XCTAssertEqual(body["status"], .string("ok"))
                XCTAssertEqual(body["registry"]?["projects"], .number("1"))
            }
        }
    }
}
