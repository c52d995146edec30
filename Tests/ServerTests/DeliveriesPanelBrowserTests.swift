import Core
import Foundation
import XCTest
@testable import Ingest
@testable import Server

/// The dashboard's deliveries panel in a real browser (headless Chromium, the harness of
/// `DashboardBrowserTests`): `trackhouse serve` (the release binary) with a webhook
/// integration whose receiver answers 410 (gone: dead at once) for one site and 200 for the
/// other; live traffic through the SDK routes, compacted in-process, followed and delivered.
/// The panel must list every delivery with its state, the dead one with its 410. Skipped
/// without Chromium, TRACKHOUSE_BIN or python3. Leaves a screenshot in `.build/test-artifacts/`.
final class DeliveriesPanelBrowserTests: XCTestCase {
    static let token = "th_deliveriespaneltest00123456789abcdef01"
    static let secretVariable = "TH_DELIVERIES_PANEL_SECRET"

    func testPanelListsDeliveredAndDeadDeliveries() throws {
        guard let binary = ProcessInfo.processInfo.environment["TRACKHOUSE_BIN"],
              FileManager.default.isExecutableFile(atPath: binary) else {
            throw XCTSkip("TRACKHOUSE_BIN is not set; `make test` sets it")
        }
        guard let chromium = Chromium.find() else { throw XCTSkip("no chromium binary (apt-get install chromium)") }
        let receiver = try WebhookReceiverProcess()
        defer { receiver.stop() }

        let data = makeDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let since = UTCTime.formatISO(micros: UTCTime.nowMicros() - 3_600_000_000)
        try configure(data: data, webhookURL: "http://127.0.0.1:\(receiver.port)/in", since: since)
        setenv(Self.secretVariable, "whsec-panel", 1)

        let port = freePort()
        let server = try ServerProcess(binary: binary, dataDirectory: data, port: port, extraArguments: ["--compact-interval", "1"])
        defer { server.terminate() }
        XCTAssertTrue(server.waitUntilHealthy(), "server did not come up")

        // Live traffic: gone.example activates (its receiver answers 410), fine.example
        // activates and deactivates (200 each).
        XCTAssertEqual(post(port, "/track", "hash=\(demoHash)&url=https://gone.example&admin_email=a@gone.example"), 200)
        XCTAssertEqual(post(port, "/track", "hash=\(demoHash)&url=https://fine.example&admin_email=b@fine.example"), 200)
        Thread.sleep(forTimeInterval: 0.01)
        XCTAssertEqual(post(port, "/deactivate", "hash=\(demoHash)&url=https://fine.example&reason_id=other"), 200)

        let listing = try waitForDeliveries(port: port, total: 3)
        XCTAssertEqual(listing.filter { $0["status"] as? String == "dead" }.count, 1, "\(listing)")
        XCTAssertEqual(listing.filter { $0["status"] as? String == "delivered" }.count, 2, "\(listing)")

        let url = "http://127.0.0.1:\(port)/#token=\(Self.token)&project=acme-seo"
        let dom = RenderedDOM(try chromium.dumpDOM(url: url))
        if dom.attribute(of: "body", "data-api-missing") == "true" {
            throw XCTSkip("the server answers 404 for part of the dashboard API")
        }
        XCTAssertEqual(dom.attribute(of: "body", "data-state"), "ready", "page still loading or signed out")
        XCTAssertEqual(dom.attribute(testid: "deliveries", "data-total"), "3", "the panel's total")
        XCTAssertEqual(dom.attribute(testid: "deliveries-table", "data-rows"), "3")
        XCTAssertEqual(dom.count(#"data-testid="delivery-row""#), 3)
        XCTAssertEqual(dom.count("delivery-status delivery-dead"), 1, "one dead delivery (the 410)")
        XCTAssertEqual(dom.count("delivery-status delivery-delivered"), 2, "two delivered")
        let panel = try XCTUnwrap(dom.html.components(separatedBy: #"data-testid="deliveries""#).dropFirst().first)
        for expected in ["site.activated", "site.deactivated", "webhook: HTTP 410", ">410<", ">200<", "hooks"] {
            XCTAssertTrue(panel.contains(expected), "the panel lacks \(expected)")
        }
        for id in receiver.deliveredIDs() {
            XCTAssertTrue(panel.contains(id), "delivery \(id) not listed")
        }
        XCTAssertFalse(dom.html.contains(Self.token), "the token must not stay in the page")

        let artifacts = FileManager.default.currentDirectoryPath + "/.build/test-artifacts"
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        try chromium.screenshot(url: url, path: artifacts + "/dashboard-deliveries.png", width: 1280, height: 3600)
    }

    /// projects.json: the admin token's digest and the webhook integration of acme-seo.
    private func configure(data: String, webhookURL: String, since: String) throws {
        let path = data + "/projects.json"
        var root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var projects = try XCTUnwrap(root["projects"] as? [[String: Any]])
        projects[0]["integrations"] = [["id": "hooks", "kind": "webhook", "url": webhookURL,
                                        "secret_env": Self.secretVariable, "since": since]]
        root["projects"] = projects
        root["admin_tokens"] = [["sha256": AccessTokens.sha256Hex(Self.token)]]
        try FileIO.writeFileAtomically(path, Array(try JSONSerialization.data(withJSONObject: root)))
    }

    private func post(_ port: Int, _ path: String, _ form: String) -> Int? {
        guard let connection = RawHTTPConnection(port: port) else { return nil }
        guard connection.send(RawHTTPConnection.request(path: path, headers: [
            ("Content-Type", "application/x-www-form-urlencoded"), ("User-Agent", "Appsero/0123456789abcdef0123456789abcdef;"),
            ("Connection", "close")], body: Array(form.utf8))) else { return nil }
        return connection.readResponse()?.status
    }

    /// Polls `GET …/deliveries` until `total` deliveries are listed and none is pending.
    private func waitForDeliveries(port: Int, total: Int, seconds: Double = 60) throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            if let connection = RawHTTPConnection(port: port),
               connection.send(RawHTTPConnection.request(method: "GET", path: "/api/v1/projects/acme-seo/deliveries?per_page=100",
                   headers: [("Authorization", "Bearer \(Self.token)"), ("Connection", "close")], body: [])),
               let response = connection.readResponse() {
                last = response.bodyText
                if response.status == 404 { throw XCTSkip("GET …/deliveries answers 404 in this build") }
                if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                   let rows = object["deliveries"] as? [[String: Any]],
                   rows.count == total, rows.allSatisfy({ $0["status"] as? String != "pending" }) {
                    return rows
                }
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
        XCTFail("deliveries not settled within \(seconds) s: \(last)")
        return []
    }
}

/// A webhook receiver in python3 (http.server): 410 for bodies about gone.example, 200 for the
/// rest; prints "<delivery id> <status>" per request.
final class WebhookReceiverProcess {
    let process = Process()
    let output = Pipe()
    private(set) var port = 0
    private var buffer: [UInt8] = []

    static let script = """
    import http.server, sys
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = 410 if b"gone.example" in body else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            print(self.headers.get("Trackhouse-Delivery", ""), status, flush=True)
        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """

    init() throws {
        let python = ["TRACKHOUSE_PYTHON", "PYTHON"].compactMap { ProcessInfo.processInfo.environment[$0] }.first
            ?? ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let python else { throw XCTSkip("no python3 for the webhook receiver") }
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", Self.script]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let line = readLine(timeoutSeconds: 20), let port = Int(line) else {
            process.terminate()
            throw XCTSkip("the python webhook receiver did not start")
        }
        self.port = port
    }

    private func readLine(timeoutSeconds: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer += chunk
        }
        return nil
    }

    /// The delivery ids answered so far (the receiver's lines after its port).
    func deliveredIDs() -> [String] {
        var ids: [String] = []
        var flags = fcntl(output.fileHandleForReading.fileDescriptor, F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(output.fileHandleForReading.fileDescriptor, F_SETFL, flags)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(output.fileHandleForReading.fileDescriptor, &chunk, chunk.count)
            if n <= 0 { break }
            buffer += chunk[..<n]
        }
        for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") {
            if let id = line.split(separator: " ").first { ids.append(String(id)) }
        }
        return ids
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
