import Core
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The HTTP edge of the release binary, over real sockets: every error is JSON, HEAD and
/// 405 work, `Expect: 100-continue` is answered, a dripped request is cut, gzip answers have
/// their bytes. Each case is one a probe of the shipped server found broken.
final class EdgeTests: XCTestCase {
    /// Asserts a JSON error answer with `code`.
    func assertJSONError(_ response: RawHTTPConnection.Response?, status: Int, code: String,
                         file: StaticString = #filePath, line: UInt = #line) {
        guard let response else { return XCTFail("no answer", file: file, line: line) }
        XCTAssertEqual(response.status, status, response.bodyText, file: file, line: line)
        XCTAssertEqual(response.headers["content-type"], "application/json; charset=utf-8", file: file, line: line)
        guard let object = try? JSONParser.parse(response.body).objectValue else {
            return XCTFail("not a JSON object: \(response.bodyText)", file: file, line: line)
        }
        XCTAssertEqual(object["error"]?.stringValue, code, response.bodyText, file: file, line: line)
        XCTAssertFalse((object["message"]?.stringValue ?? "").isEmpty, "a message says what is wrong", file: file, line: line)
    }

    func send(_ port: Int, _ bytes: [UInt8]) -> RawHTTPConnection.Response? {
        guard let connection = RawHTTPConnection(port: port, timeoutSeconds: 5), connection.send(bytes) else { return nil }
        return connection.readResponse()
    }

    func testParseErrorsUnknownRoutesAndWrongMethodsAnswerJSON() throws {
        let (server, _, port) = try startServerOnFreshData()
        defer { server.terminate() }
        let form = "Content-Type: application/x-www-form-urlencoded\r\n"
        // Two different Content-Lengths.
        assertJSONError(send(port, Array("POST /track HTTP/1.1\r\nHost: x\r\n\(form)Content-Length: 5\r\nContent-Length: 6\r\n\r\nhash=1".utf8)),
                        status: 400, code: "bad_request")
        // Content-Length with Transfer-Encoding.
        assertJSONError(send(port, Array("POST /track HTTP/1.1\r\nHost: x\r\n\(form)Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".utf8)),
                        status: 400, code: "bad_request")
        // A 1 MB header line.
        let long = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + String(repeating: "a", count: 1 << 20) + "\r\n\r\n"
        assertJSONError(send(port, Array(long.utf8)), status: 431, code: "headers_too_large")
        // 10,000 header lines.
        var many = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
        for index in 0..<10_000 { many += "X-H\(index): v\r\n" }
        many += "\r\n"
        assertJSONError(send(port, Array(many.utf8)), status: 431, code: "headers_too_large")
        // Garbage instead of a request line.
        assertJSONError(send(port, Array("\u{1}\u{2}garbage\r\n\r\n".utf8)), status: 400, code: "bad_request")

        // Unknown route, wrong method (405 + Allow), on both front doors' paths.
        assertJSONError(send(port, RawHTTPConnection.request(method: "GET", path: "/nope", body: [])), status: 404, code: "not_found")
        let getTrack = send(port, RawHTTPConnection.request(method: "GET", path: "/track", body: []))
        assertJSONError(getTrack, status: 405, code: "method_not_allowed")
        XCTAssertEqual(getTrack?.headers["allow"], "POST")
        let deleteHealth = send(port, RawHTTPConnection.request(method: "DELETE", path: "/healthz", body: []))
        assertJSONError(deleteHealth, status: 405, code: "method_not_allowed")
        XCTAssertEqual(deleteHealth?.headers["allow"], "GET, HEAD")
        let postProjects = send(port, RawHTTPConnection.request(method: "POST", path: "/api/v1/projects/acme-seo/stats", body: []))
        assertJSONError(postProjects, status: 405, code: "method_not_allowed")

        // HEAD works where GET does: the GET's status and headers, no body.
        let connection = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 5))
        XCTAssertTrue(connection.send(Array("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
        let head = try XCTUnwrap(readHeadOnly(connection))
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200"), head)
        XCTAssertTrue(head.lowercased().contains("content-type: text/html"), head)
        // The next answer on the connection is the GET's: the HEAD sent no body bytes.
        let next = try XCTUnwrap(connection.readResponse())
        XCTAssertEqual(next.status, 200)
        XCTAssertTrue(next.bodyText.contains("\"status\""), next.bodyText)

        // The server is still up.
        XCTAssertEqual(send(port, RawHTTPConnection.request(method: "GET", path: "/healthz", body: []))?.status, 200)
    }

    /// `Expect: 100-continue` gets `100 Continue` at once (no ~1 s client wait), then the
    /// answer; a declared body over the limit gets 413 before any body is sent.
    func testExpectContinueIsAnsweredAtOnce() throws {
        let (server, _, port) = try startServerOnFreshData()
        defer { server.terminate() }
        let body = sdkTrackBody(marker: "expect")
        for path in ["/track", "/api/v1/query"] {
            let connection = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 5))
            var head = "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            head += "Expect: 100-continue\r\nContent-Length: \(body.count)\r\n\r\n"
            XCTAssertTrue(connection.send(Array(head.utf8)))
            let started = Date()
            let interim = try XCTUnwrap(readHeadOnly(connection), path)
            XCTAssertTrue(interim.hasPrefix("HTTP/1.1 100"), interim)
            XCTAssertLessThan(Date().timeIntervalSince(started), 0.5, "100 Continue must come at once")
            XCTAssertTrue(connection.send(body))
            let answer = try XCTUnwrap(connection.readResponse())
            XCTAssertEqual(answer.status, path == "/track" ? 200 : 401, answer.bodyText)
        }
        let large = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 5))
        XCTAssertTrue(large.send(Array("POST /track HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n".utf8)))
        assertJSONError(large.readResponse(), status: 413, code: "payload_too_large")
        // An expectation we do not know: 417.
        assertJSONError(send(port, Array("POST /track HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 0\r\n\r\n".utf8)),
                        status: 417, code: "expectation_failed")
    }

    /// A body dripped a byte at a time never trips the idle timeout; the rate guard cuts it
    /// with 408 once the timeout has passed, and other clients are served meanwhile.
    func testDrippedBodyIsCutWith408() throws {
        let (server, _, port) = try startServerOnFreshData(extraArguments: ["--idle-timeout", "1"])
        defer { server.terminate() }
        let connection = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 10))
        XCTAssertTrue(connection.send(Array("POST /track HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n".utf8)))
        let started = Date()
        var cutAfter: Double?
        // `nonisolated(unsafe)`: the dripper only calls `send`, which uses nothing but the
        // connection's `fd` (a `let`); `readResponse` on this thread touches only its own state.
        nonisolated(unsafe) let dripping = connection
        let dripper = Thread {
            for _ in 0..<40 {
                if !dripping.send([UInt8(ascii: "a")]) { break }
                Thread.sleep(forTimeInterval: 0.3)
            }
        }
        dripper.start()
        let answer = connection.readResponse()
        cutAfter = Date().timeIntervalSince(started)
        assertJSONError(answer, status: 408, code: "request_timeout")
        XCTAssertEqual(answer?.headers["connection"], "close")
        XCTAssertLessThan(cutAfter ?? 99, 5, "the drip must be cut soon after the idle timeout")
        XCTAssertEqual(send(port, RawHTTPConnection.request(method: "GET", path: "/healthz", body: []))?.status, 200)
    }

    /// 429 carries `Retry-After`.
    func testRateLimitedAnswersSayWhenToRetry() throws {
        let (server, _, port) = try startServerOnFreshData(extraArguments: ["--rate-limit", "1", "--rate-burst", "1"])
        defer { server.terminate() }
        var limited: RawHTTPConnection.Response?
        for index in 0..<5 {
            let response = send(port, RawHTTPConnection.request(path: "/track", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                                body: Array("hash=\(demoHash)&url=https://r\(index).example".utf8)))
            if response?.status == 429 { limited = response; break }
        }
        assertJSONError(limited, status: 429, code: "rate_limited")
        XCTAssertEqual(limited?.headers["retry-after"], "1")
    }

    /// Reads one response head (up to the blank line) and nothing more.
    func readHeadOnly(_ connection: RawHTTPConnection) -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while !(bytes.count >= 4 && bytes.suffix(4) == [13, 10, 13, 10]) {
            guard recv(connection.fd, &byte, 1, 0) == 1 else { return nil }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Clients that accept gzip (every browser, `requests`, `curl --compressed`) get whole bodies
/// from the release binary: the shipped build once answered them `Content-Length: 0`.
final class GzipAnswerTests: XCTestCase {
    func testGzipAnswersInflateToTheJSON() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("trackhouse binary not built; set TRACKHOUSE_BIN") }
        let data = makeDataDirectory()
        let created = try runTrackhouse(["token", "create", "--data", data, "--admin"])
        XCTAssertEqual(created.status, 0, created.stderr)
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let port = freePort()
        let server = try ServerProcess(binary: binary, dataDirectory: data, port: port)
        defer { server.terminate() }
        XCTAssertTrue(server.waitUntilHealthy())
        for path in ["/api/v1/projects", "/api/v1/projects/acme-seo/stats"] {
            let connection = try XCTUnwrap(RawHTTPConnection(port: port))
            XCTAssertTrue(connection.send(RawHTTPConnection.request(
                method: "GET", path: path, headers: [("Authorization", "Bearer \(token)"), ("Accept-Encoding", "gzip, deflate, br")], body: [])))
            let response = try XCTUnwrap(connection.readResponse())
            XCTAssertEqual(response.status, 200, path)
            XCTAssertEqual(response.headers["content-encoding"], "gzip", path)
            XCTAssertGreaterThan(response.body.count, 0, "\(path): a gzip answer with no bytes")
            let inflated = try Gzip.inflate(response.body)
            let object = try XCTUnwrap(try JSONParser.parse(inflated).objectValue, path)
            XCTAssertFalse(object.isEmpty, path)
        }
        // SQL over HTTP, gzip-accepting.
        let connection = try XCTUnwrap(RawHTTPConnection(port: port))
        XCTAssertTrue(connection.send(RawHTTPConnection.request(
            path: "/api/v1/query", headers: [("Authorization", "Bearer \(token)"), ("Accept-Encoding", "gzip")],
            body: Array("SELECT 5 AS five".utf8))))
        let response = try XCTUnwrap(connection.readResponse())
        if response.headers["content-encoding"] == "gzip" {
            XCTAssertGreaterThan(response.body.count, 0)
            XCTAssertTrue(String(decoding: try Gzip.inflate(response.body), as: UTF8.self).contains("columns"))
        }
    }
}
