import Core
import Foundation
import XCTest
@testable import Server

/// The SDK routes are answered on the event loop (`IngestChannelHandler`), not by the router.
/// These tests hold that front door to the router's behaviour, over real sockets: the same
/// statuses, bodies and headers for the same requests, responses in request order on a
/// pipelined connection, keep-alive and close as the client asked, 413 before the body.
final class IngestFrontDoorTests: XCTestCase {
    private func formHeaders(_ extra: [(String, String)] = []) -> [(String, String)] {
        [("Content-Type", "application/x-www-form-urlencoded")] + extra
    }

    /// Sends `bytes` and reads `count` responses from one connection.
    private func exchange(_ port: Int, _ bytes: [UInt8], responses count: Int) -> [RawHTTPConnection.Response] {
        guard let connection = RawHTTPConnection(port: port, timeoutSeconds: 5), connection.send(bytes) else { return [] }
        var answers: [RawHTTPConnection.Response] = []
        for _ in 0..<count {
            guard let response = connection.readResponse() else { break }
            answers.append(response)
        }
        return answers
    }

    /// Every request in the table gets the same status, body (the accepted id aside) and
    /// header names from the event loop as from the router (`ingestOnEventLoop` off), and the
    /// same answer for a `FrontDoorRoute` from either.
    func testEventLoopAnswersExactlyAsTheRouter() throws {
        let echo = FrontDoorRoute(path: "/_test/length") { body in
            (body.isEmpty ? 400 : 200, Array(#"{"length":\#(body.count)}"#.utf8))
        }
        let fastData = makeDataDirectory()
        var fastConfiguration = ServerConfiguration(dataDirectory: fastData, writerID: "t1")
        fastConfiguration.role = .ingest
        let fast = try InProcessServer(configuration: fastConfiguration, frontDoorRoutes: [echo])
        defer { fast.stop() }
        let routerData = makeDataDirectory("router")
        var routerConfiguration = ServerConfiguration(dataDirectory: routerData, writerID: "t1")
        routerConfiguration.role = .ingest
        routerConfiguration.ingestOnEventLoop = false
        let router = try InProcessServer(configuration: routerConfiguration, frontDoorRoutes: [echo])
        defer { router.stop() }
        let (fastPort, routerPort) = (fast.port, router.port)
        let gzipped = Gzip.deflate(Array("hash=\(demoHash)&url=https://gz.example".utf8))
        let requests: [(String, [UInt8])] = [
            ("form", RawHTTPConnection.request(path: "/track", headers: formHeaders(), body: sdkTrackBody(marker: "same"))),
            ("json", RawHTTPConnection.request(path: "/deactivate", headers: [("Content-Type", "application/json")],
                                               body: Array(#"{"hash":"\#(demoHash)","reason_id":"other"}"#.utf8))),
            ("gzip", RawHTTPConnection.request(path: "/tracking-skipped", headers: formHeaders([("Content-Encoding", "gzip")]), body: gzipped)),
            ("trailing slash and query", RawHTTPConnection.request(path: "/track/?from=test", headers: formHeaders(),
                                                                   body: Array("hash=\(demoHash)&url=q".utf8))),
            ("unknown project", RawHTTPConnection.request(path: "/track", headers: formHeaders(), body: Array("hash=nope&url=x".utf8))),
            ("no hash", RawHTTPConnection.request(path: "/track", headers: formHeaders(), body: Array("url=x".utf8))),
            ("media type", RawHTTPConnection.request(path: "/track", headers: [("Content-Type", "text/xml")], body: Array("<x/>".utf8))),
            ("encoding", RawHTTPConnection.request(path: "/track", headers: formHeaders([("Content-Encoding", "br")]), body: [1, 2])),
            ("bad gzip", RawHTTPConnection.request(path: "/track", headers: formHeaders([("Content-Encoding", "gzip")]), body: [1, 2, 3])),
            ("invalid UTF-8", RawHTTPConnection.request(path: "/track", headers: formHeaders(), body: Array("hash=\(demoHash)&url=%FF%FE".utf8))),
            ("bad JSON", RawHTTPConnection.request(path: "/track", headers: [("Content-Type", "application/json")], body: Array("{\"hash\":".utf8))),
            ("too large", RawHTTPConnection.request(path: "/track", headers: formHeaders(),
                                                    body: Array(("hash=\(demoHash)&pad=" + String(repeating: "a", count: (1 << 20) + 10)).utf8))),
            ("GET is the router's", RawHTTPConnection.request(method: "GET", path: "/track", body: [])),
            ("other path is the router's", RawHTTPConnection.request(path: "/trackx", headers: formHeaders(), body: Array("hash=\(demoHash)".utf8))),
            ("added route", RawHTTPConnection.request(path: "/_test/length/?q=1", body: Array("12345".utf8))),
            ("added route, its refusal", RawHTTPConnection.request(path: "/_test/length", body: [])),
            ("added route, too large", RawHTTPConnection.request(path: "/_test/length", body: [UInt8](repeating: 0x61, count: (1 << 20) + 10))),
        ]
        for (name, bytes) in requests {
            let a = exchange(fastPort, bytes, responses: 1).first
            let b = exchange(routerPort, bytes, responses: 1).first
            XCTAssertNotNil(a, name)
            XCTAssertEqual(a?.status, b?.status, name)
            XCTAssertEqual(Set(a?.headers.keys.map { $0 } ?? []), Set(b?.headers.keys.map { $0 } ?? []), name)
            XCTAssertEqual(a?.headers["content-type"], b?.headers["content-type"], name)
            if a?.status == 200, !name.hasPrefix("added route"), let ab = a?.bodyText, let bb = b?.bodyText {
                // {"ok":true,"id":"<26-character id>"}: ids differ, the shape does not.
                XCTAssertEqual(ab.count, bb.count, name)
                XCTAssertTrue(ab.hasPrefix(#"{"ok":true,"id":""#), ab)
            } else {
                XCTAssertEqual(a?.bodyText, b?.bodyText, name)
            }
        }
        XCTAssertEqual(exchange(fastPort, RawHTTPConnection.request(path: "/_test/length", body: Array("12345".utf8)),
                                responses: 1).first?.bodyText, #"{"length":5}"#)
        fast.stop()
        router.stop()
        // The same lines were stored by both, ids and times aside.
        func stored(_ data: String) throws -> [String] {
            try readAllEnvelopes(data).map { "\($0.route) \(JSONWriter.serialize(.object($0.payload)).count)" }.sorted()
        }
        XCTAssertEqual(try stored(fastData).count, 4)
        XCTAssertEqual(try stored(fastData), try stored(routerData))
    }

    /// A client that sends several requests before reading gets the answers in request order,
    /// whichever handler (event loop or router) answers each.
    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let (server, data, port) = try startServerOnFreshData(extraArguments: ["--role", "ingest"])
        defer { server.terminate() }
        var bytes: [UInt8] = []
        bytes += RawHTTPConnection.request(path: "/track", headers: formHeaders(), body: Array("hash=\(demoHash)&url=https://p1.example".utf8))
        bytes += RawHTTPConnection.request(method: "GET", path: "/healthz", body: [])
        bytes += RawHTTPConnection.request(path: "/track", headers: formHeaders(), body: Array("hash=unknown&url=x".utf8))
        bytes += RawHTTPConnection.request(path: "/deactivate", headers: formHeaders(), body: Array("hash=\(demoHash)&url=https://p2.example".utf8))
        bytes += RawHTTPConnection.request(method: "GET", path: "/nowhere", body: [])
        bytes += RawHTTPConnection.request(path: "/tracking-skipped", headers: formHeaders(), body: Array("hash=\(demoHash)&url=https://p3.example".utf8))
        let answers = exchange(port, bytes, responses: 6)
        XCTAssertEqual(answers.map(\.status), [200, 200, 404, 200, 404, 200])
        guard answers.count == 6 else { return }
        XCTAssertTrue(answers[1].bodyText.contains(#""status":"ok""#), answers[1].bodyText)
        XCTAssertTrue(answers[2].bodyText.contains("unknown_project"), answers[2].bodyText)
        // Hundreds of small requests in one write, each refused at once (no stored line to
        // wait for): all answered, in order, on one connection.
        // The first is stored, so the rest queue behind its fsync and are replayed.
        var burst = RawHTTPConnection.request(path: "/track", headers: formHeaders(), body: Array("hash=\(demoHash)&url=https://p0.example".utf8))
        for index in 0..<400 {
            burst += RawHTTPConnection.request(path: "/track", headers: formHeaders(), body: Array("hash=unknown-\(index)".utf8))
        }
        burst += RawHTTPConnection.request(method: "GET", path: "/healthz", body: [])
        let burstAnswers = exchange(port, burst, responses: 402)
        XCTAssertEqual(burstAnswers.count, 402)
        XCTAssertEqual(burstAnswers.first?.status, 200)
        XCTAssertTrue(burstAnswers.dropFirst().dropLast().allSatisfy { $0.status == 404 })
        XCTAssertEqual(burstAnswers.last?.status, 200)
        // Garbage behind a request being stored: its 200 comes first, then the router's 400.
        let garbage = RawHTTPConnection.request(path: "/track", headers: formHeaders(), body: Array("hash=\(demoHash)&url=https://p4.example".utf8))
            + Array("NOT HTTP AT ALL\r\n\r\n".utf8)
        XCTAssertEqual(exchange(port, garbage, responses: 2).map(\.status), [200, 400])
        server.terminate()
        let urls = try readAllEnvelopes(data).compactMap { $0.payload["url"]?.scalarText }.sorted()
        XCTAssertEqual(urls, ["https://p0.example", "https://p1.example", "https://p2.example", "https://p3.example", "https://p4.example"])
    }

    /// HTTP/1.0 and `Connection: close` are disconnected after their answer; HTTP/1.1 and
    /// HTTP/1.0 with `Connection: keep-alive` stay open for the next request.
    func testConnectionsCloseOnlyWhenTheClientAsks() throws {
        let (server, data, port) = try startServerOnFreshData(extraArguments: ["--role", "ingest"])
        defer { server.terminate() }
        func closesAfterAnswer(version: String, headers: [(String, String)]) -> (status: Int?, closed: Bool) {
            guard let connection = RawHTTPConnection(port: port, timeoutSeconds: 2) else { return (nil, false) }
            _ = connection.send(RawHTTPConnection.request(path: "/track", version: version, headers: formHeaders(headers),
                                                          body: Array("hash=\(demoHash)&url=https://c.example".utf8)))
            let status = connection.readResponse()?.status
            var byte: UInt8 = 0
            let n = recv(connection.fd, &byte, 1, 0)  // 0: closed; -1 after the 2 s timeout: open
            return (status, n == 0)
        }
        let http10 = closesAfterAnswer(version: "HTTP/1.0", headers: [])
        XCTAssertEqual(http10.status, 200)
        XCTAssertTrue(http10.closed, "HTTP/1.0 without keep-alive stays open")
        let close = closesAfterAnswer(version: "HTTP/1.1", headers: [("Connection", "Close")])
        XCTAssertEqual(close.status, 200)
        XCTAssertTrue(close.closed, "Connection: close stays open")
        let http11 = closesAfterAnswer(version: "HTTP/1.1", headers: [])
        XCTAssertEqual(http11.status, 200)
        XCTAssertFalse(http11.closed, "HTTP/1.1 keep-alive was closed")
        let http10KeepAlive = closesAfterAnswer(version: "HTTP/1.0", headers: [("Connection", "keep-alive")])
        XCTAssertEqual(http10KeepAlive.status, 200)
        XCTAssertFalse(http10KeepAlive.closed, "HTTP/1.0 keep-alive was closed")
        // A request sent after `Connection: close` on the same connection is neither answered
        // nor stored.
        let both = RawHTTPConnection.request(path: "/track", headers: formHeaders([("Connection", "close")]),
                                             body: Array("hash=\(demoHash)&url=https://closing.example".utf8))
            + RawHTTPConnection.request(path: "/track", headers: formHeaders(), body: Array("hash=\(demoHash)&url=https://after-close.example".utf8))
        XCTAssertEqual(exchange(port, both, responses: 2).map(\.status), [200])
        server.terminate()
        let urls = try readAllEnvelopes(data).compactMap { $0.payload["url"]?.scalarText }
        XCTAssertTrue(urls.contains("https://closing.example"))
        XCTAssertFalse(urls.contains("https://after-close.example"))
    }

    /// A declared body over 1 MiB is refused before it is sent; a chunked body that grows
    /// past it is refused as it arrives, and the connection serves the next request.
    func testOversizedBodiesAreRefusedEarly() throws {
        let (server, data, port) = try startServerOnFreshData(extraArguments: ["--role", "ingest"])
        defer { server.terminate() }
        let declared = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 5))
        XCTAssertTrue(declared.send(Array("POST /track HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50000000\r\n\r\nhash=".utf8)))
        let early = declared.readResponse()
        XCTAssertEqual(early?.status, 413)
        XCTAssertTrue(early?.bodyText.contains("payload_too_large") ?? false)

        let chunked = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 5))
        var bytes = Array("POST /track HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 256 * 1024)
        for _ in 0..<5 { bytes += Array("40000\r\n".utf8) + piece + Array("\r\n".utf8) }
        bytes += Array("0\r\n\r\n".utf8)
        bytes += RawHTTPConnection.request(path: "/track", headers: formHeaders(), body: Array("hash=\(demoHash)&url=https://after.example".utf8))
        XCTAssertTrue(chunked.send(bytes))
        XCTAssertEqual(chunked.readResponse()?.status, 413)
        XCTAssertEqual(chunked.readResponse()?.status, 200, "the connection does not serve the request after a refused body")
        server.terminate()
        XCTAssertEqual(try readAllEnvelopes(data).compactMap { $0.payload["url"]?.scalarText }, ["https://after.example"])
    }
}
