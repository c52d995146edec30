import Core
import Foundation
import XCTest
@testable import Ingest

/// A real `trackhouse serve` process on a real port: HTTP/1.0 without keep-alive, keep-alive
/// 1.1, clients that hang up right after sending, X-Forwarded-For from a trusted proxy.
final class LivePortTests: XCTestCase {
    func testRealClientsOverTheWire() throws {
        let (server, data, port) = try startServerOnFreshData(extraArguments: ["--trusted-proxy", "127.0.0.1"])
        defer { server.terminate() }

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

    /// `GET /metrics` of a real process: accepted and refused requests by route and status,
    /// bytes written, fsyncs and their latency, group-commit batch sizes, the seal backlog.
    func testMetricsCountRequestsByRouteAndStatusAndTheCommits() throws {
        let (server, data, port) = try startServerOnFreshData(extraArguments: ["--role", "ingest"])
        defer { server.terminate() }
        let connection = RawHTTPConnection(port: port)!
        func post(_ path: String, _ contentType: String, _ body: String) -> Int? {
            XCTAssertTrue(connection.send(RawHTTPConnection.request(path: path, headers: [("Content-Type", contentType)], body: Array(body.utf8))))
            return connection.readResponse()?.status
        }
        for index in 0..<3 {
            XCTAssertEqual(post("/track", "application/x-www-form-urlencoded", "hash=\(demoHash)&url=https://m\(index).example"), 200)
        }
        XCTAssertEqual(post("/track", "application/x-www-form-urlencoded", "hash=no-such-project&url=x"), 404)
        XCTAssertEqual(post("/deactivate", "text/plain", "x"), 415)
        XCTAssertTrue(connection.send(RawHTTPConnection.request(method: "GET", path: "/metrics", body: [])))
        let response = connection.readResponse()
        XCTAssertEqual(response?.status, 200)
        var samples: [String: Double] = [:]
        for line in (response?.bodyText ?? "").split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        XCTAssertEqual(samples[#"trackhouse_ingest_requests_total{route="track",status="200"}"#], 3)
        XCTAssertEqual(samples[#"trackhouse_ingest_requests_total{route="track",status="404"}"#], 1)
        XCTAssertEqual(samples[#"trackhouse_ingest_requests_total{route="deactivate",status="415"}"#], 1)
        XCTAssertEqual(samples[#"trackhouse_ingest_requests_total{route="deactivate",status="200"}"#] ?? 0, 0)
        // One request at a time: each line is its own batch and its own fsync.
        XCTAssertEqual(samples["trackhouse_ingest_fsyncs_total"], 3)
        XCTAssertEqual(samples["trackhouse_ingest_fsync_seconds_count"], 3)
        XCTAssertEqual(samples["trackhouse_ingest_group_commit_batch_size_count"], 3)
        XCTAssertEqual(samples["trackhouse_ingest_group_commit_batch_size_sum"], 3)
        // The server still runs, so its raw files are open and plain: their sizes are the bytes written.
        let files = RawLayout(dataDirectory: data).listFiles()
        XCTAssertTrue(files.allSatisfy { !$0.isCompressed })
        XCTAssertEqual(samples["trackhouse_ingest_bytes_written_total"].map(Int64.init),
                       files.reduce(Int64(0)) { $0 + (FileIO.fileSize($1.path) ?? 0) })
        XCTAssertEqual(try readAllEnvelopes(data).count, 3)
        XCTAssertEqual(samples["trackhouse_ingest_seal_backlog_files"], 0)
    }
}

/// `--idle-timeout`: connections that send nothing are closed, a request being answered is not.
final class IdleTimeoutTests: XCTestCase {
    func testSilentConnectionsAreClosedAndAnsweredOnesAreNot() throws {
        let (server, _, port) = try startServerOnFreshData(extraArguments: ["--idle-timeout", "0.5", "--role", "ingest"])
        defer { server.terminate() }
        func closedWithin(_ connection: RawHTTPConnection, seconds: Double) -> Bool {
            let started = Date()
            var byte: UInt8 = 0
            // The socket's receive timeout (2 s) bounds each wait; 0 bytes means the peer closed.
            while Date().timeIntervalSince(started) < seconds {
                let n = recv(connection.fd, &byte, 1, 0)
                if n == 0 { return true }
                if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { return true }
            }
            return false
        }
        // A connection that never sends a byte.
        let silent = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 2))
        XCTAssertTrue(closedWithin(silent, seconds: 5), "a silent connection stays open")
        // A request head that stops half way (slowloris).
        let partial = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 2))
        XCTAssertTrue(partial.send(Array("POST /track HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty".utf8)))
        XCTAssertTrue(closedWithin(partial, seconds: 5), "a stalled request head keeps its connection")
        // A body that stops half way.
        let stalled = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 2))
        XCTAssertTrue(stalled.send(Array("POST /track HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nhash=".utf8)))
        XCTAssertTrue(closedWithin(stalled, seconds: 5), "a stalled body keeps its connection")
        // Keep-alive: answered, then closed once idle; a request within the timeout is served.
        let keepAlive = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 2))
        for index in 0..<3 {
            XCTAssertTrue(keepAlive.send(RawHTTPConnection.request(path: "/track", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                                   body: Array("hash=\(demoHash)&url=https://idle\(index).example".utf8))))
            XCTAssertEqual(keepAlive.readResponse()?.status, 200)
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTAssertTrue(closedWithin(keepAlive, seconds: 5), "an idle keep-alive connection stays open")
        // The server still serves new connections.
        let fresh = try XCTUnwrap(RawHTTPConnection(port: port))
        XCTAssertTrue(fresh.send(RawHTTPConnection.request(method: "GET", path: "/healthz", body: [])))
        XCTAssertEqual(fresh.readResponse()?.status, 200)
    }
}
