import Core
import Foundation
@testable import Integrations
import XCTest

/// The release `trackhouse serve` (TRACKHOUSE_BIN) with both email kinds against aiosmtpd
/// (STARTTLS on a self-signed certificate pinned with tls_ca_file, AUTH from the environment):
/// every committed deactivation arrives as a forward, November's monthly digest arrives once
/// with both parts, and a restart sends neither again.
final class MailEndToEndTests: XCTestCase {
    typealias W = TestWarehouse

    func testForwardsAndTheClosedPeriodsDigestArriveOnce() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("set TRACKHOUSE_BIN to the release trackhouse binary") }
        let warehouse = W()
        defer { try? FileManager.default.removeItem(atPath: warehouse.data) }
        guard let smtp = try SMTPTestServer.start(.real, directory: warehouse.data) else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with aiosmtpd to run the SMTP tests")
        }
        let mailFields: [String: Any] = ["smtp_host": "localhost", "smtp_port": smtp.port, "smtp_username_env": "E2E_SMTP_USER",
                                         "smtp_password_env": "E2E_SMTP_PASSWORD", "tls_ca_file": smtp.certificatePath,
                                         "from": "Trackhouse <th@trackhouse.test>", "since": "2026-11-01T00:00:00Z"]
        try warehouse.register([
            mailFields.merging(["id": "digest", "kind": "email_digest", "period": "monthly", "to": "team@acme.test"]) { $1 },
            mailFields.merging(["id": "support", "kind": "deactivation_forward", "to": "support@acme.test"]) { $1 },
        ])
        var events: [W.Event] = []
        for site in 0..<6 {
            events.append(W.track("t\(site)", String(format: "2026-11-%02dT10:00:00Z", 10 + site), "https://s\(site).example"))
        }
        for site in 0..<3 {
            events.append(W.deactivate("d\(site)", String(format: "2026-11-%02dT12:00:00Z", 20 + site), "https://s\(site).example",
                                       reason: site == 0 ? "found-better-plugin" : "other"))
        }
        try warehouse.writeRaw(events, file: "e2e-000001")
        XCTAssertEqual(try run(binary, ["compact", "--data", warehouse.data, "--include-open", "--quiet"]), 0)

        var server = try startServer(binary, data: warehouse.data)
        let messages = smtp.waitForMessages(4, seconds: 60)
        XCTAssertEqual(messages.count, 4, "three forwards and one digest")
        let byDelivery = Dictionary(grouping: messages) { ($0["headers"] as? [String: String])?["x-trackhouse-delivery"] ?? "" }
        XCTAssertEqual(Set(byDelivery.keys), ["d0", "d1", "d2", "digest:acme:digest:2026-11-01T00:00:00Z"])
        for message in messages {
            XCTAssertEqual(message["tls"] as? Bool, true)
            XCTAssertEqual(message["authenticated"] as? Bool, true)
            XCTAssertEqual(message["defects"] as? [String], [])
        }
        let forward = try XCTUnwrap(byDelivery["d0"]?.first)
        XCTAssertEqual(forward["rcpt_tos"] as? [String], ["support@acme.test"])
        let forwardText = try XCTUnwrap((forward["parts"] as? [[String: Any]])?.first?["content"] as? String)
        XCTAssertTrue(forwardText.contains("I found a better plugin"))
        XCTAssertTrue(forwardText.contains("https://s0.example"))
        XCTAssertTrue(forwardText.contains("admin@example.com"))

        let digest = try XCTUnwrap(byDelivery["digest:acme:digest:2026-11-01T00:00:00Z"]?.first)
        XCTAssertEqual(digest["rcpt_tos"] as? [String], ["team@acme.test"])
        XCTAssertEqual((digest["headers"] as? [String: String])?["subject"], "Acme: monthly digest, November 2026")
        let parts = try XCTUnwrap(digest["parts"] as? [[String: Any]])
        XCTAssertEqual(parts.map { $0["type"] as? String }, ["text/plain", "text/html"])
        let text = try XCTUnwrap(parts[0]["content"] as? String)
        XCTAssertNotNil(text.range(of: #"New sites\s+6\s"#, options: .regularExpression), text)
        XCTAssertNotNil(text.range(of: #"Deactivations\s+3\s"#, options: .regularExpression), text)
        XCTAssertTrue(text.contains("I found a better plugin (found-better-plugin)"), text)
        XCTAssertTrue((parts[1]["content"] as? String ?? "").contains("bgcolor"))

        // A restart: nothing is sent again.
        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
        server = try startServer(binary, data: warehouse.data)
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        Thread.sleep(forTimeInterval: 4)
        XCTAssertEqual(smtp.messages().count, 4, "a restart sent a digest or a forward again")
        let delivered = try OutboxStore(dataDirectory: warehouse.data).deliveries(projectID: "acme", status: .delivered)
        XCTAssertEqual(delivered.count, 4)
    }

    func startServer(_ binary: String, data: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--data", data, "--port", String(KillNineDeliveryTests.freePort()), "--writer-id", "mail",
                             "--log-level", "error", "--compact-interval", "600"]
        var environment = ProcessInfo.processInfo.environment
        environment["E2E_SMTP_USER"] = SMTPTestServer.username
        environment["E2E_SMTP_PASSWORD"] = SMTPTestServer.password
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func run(_ binary: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
