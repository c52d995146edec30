import Foundation
import XCTest
@testable import Ingest
@testable import Server

/// A real `trackhouse serve` process on a real port: HTTP/1.0 without keep-alive, keep-alive
/// 1.1, clients that hang up right after sending, X-Forwarded-For from a trusted proxy.
final class LivePortTests: XCTestCase {
    func testRealClientsOverTheWire() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("trackhouse binary not built; set TRACKHOUSE_BIN") }
        let data = makeDataDirectory()
        let port = freePort()
        let server = try ServerProcess(binary: binary, dataDirectory: data, port: port, extraArguments: ["--trusted-proxy", "127.0.0.1"])
        defer { server.terminate() }
        XCTAssertTrue(server.waitUntilHealthy())

        // HTTP/1.0 like WordPress' Requests library, closing after the answer.
        let old = RawHTTPConnection(port: port)!
        XCTAssertTrue(old.send(RawHTTPConnection.request(path: "/track", version: "HTTP/1.0",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"), ("User-Agent", "Appsero/0123456789abcdef0123456789abcdef;"),
                      ("Accept", "application/json"), ("X-Forwarded-For", "203.0.113.50, 127.0.0.1")],
            body: sdkTrackBody(marker: "http10"))))
        let oldResponse = old.readResponse()
        XCTAssertEqual(oldResponse?.status, 200, oldResponse?.bodyText ?? "")

        // Keep-alive HTTP/1.1: three requests on one connection.
        let keepAlive = RawHTTPConnection(port: port)!
        for index in 0..<3 {
            XCTAssertTrue(keepAlive.send(RawHTTPConnection.request(path: "/deactivate",
                headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: Array("hash=\(demoHash)&reason_id=other&url=https://k\(index).example".utf8))))
            XCTAssertEqual(keepAlive.readResponse()?.status, 200)
        }

        // Fire and forget: send a complete request and close at once, as the SDK's
        // non-blocking wp_remote_post does. The request must still be stored.
        for index in 0..<5 {
            let gone = RawHTTPConnection(port: port)!
            XCTAssertTrue(gone.send(RawHTTPConnection.request(path: "/track", version: "HTTP/1.0",
                headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: Array("hash=\(demoHash)&url=https://gone\(index).example".utf8))))
        }
        // Let the server finish the abandoned requests, then stop it cleanly.
        Thread.sleep(forTimeInterval: 1.0)
        server.terminate()

        let stored = try readAllEnvelopes(data)
        XCTAssertEqual(stored.count, 1 + 3 + 5)
        let first = stored.first { $0.payload["url"] == .string("https://shop-http10.example.com") }
        XCTAssertEqual(first?.ip, "203.0.113.50")
        XCTAssertEqual(first?.userAgent, "Appsero/0123456789abcdef0123456789abcdef;")
        XCTAssertEqual(first?.payload["server"]?["php_version"], .string("8.1.27"))
        for index in 0..<5 {
            XCTAssertTrue(stored.contains { $0.payload["url"] == .string("https://gone\(index).example") }, "gone\(index)")
        }
        XCTAssertTrue(stored.filter { $0.route == .deactivate }.allSatisfy { $0.ip == "127.0.0.1" || $0.ip == "203.0.113.50" })
    }
}
