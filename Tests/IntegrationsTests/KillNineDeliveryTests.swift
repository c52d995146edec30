import Core
import Foundation
@testable import Integrations
import XCTest

/// The release `trackhouse serve` (TRACKHOUSE_BIN) killed with SIGKILL in the middle of
/// deliveries, then started again: every delivery id arrives at least once, in lifecycle order
/// per site (a repeat only right after itself), none lost. Commits come from `trackhouse
/// compact` runs (no server), which the server picks up.
final class KillNineDeliveryTests: XCTestCase {
    typealias W = TestWarehouse
    let secret = "whsec-kill9"

    func testKillNineInTheMiddleOfDeliveriesLosesNothing() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("set TRACKHOUSE_BIN to the release trackhouse binary") }
        let warehouse = W()
        let receiver = try StandInReceiver { request, state in
            var answer = Providers.webhook(secret: "whsec-kill9")(request, &state)
            answer.delaySeconds = 0.05
            return answer
        }
        try warehouse.register([["id": "hooks", "kind": "webhook", "url": receiver.url + "/in", "secret_env": "KILL9_HOOK_SECRET",
                                 "since": "2026-01-01T00:00:00Z"]])
        var events: [W.Event] = []
        var expected: [String: [String]] = [:]
        for site in 0..<40 {
            let url = "https://k\(site).example"
            let ids = ["k\(site)-a", "k\(site)-b", "k\(site)-c"]
            events.append(W.track(ids[0], String(format: "2026-11-02T10:%02d:00Z", site), url))
            events.append(W.deactivate(ids[1], String(format: "2026-11-02T11:%02d:00Z", site), url))
            events.append(W.track(ids[2], String(format: "2026-11-02T12:%02d:00Z", site), url))
            expected["k\(site).example"] = ids
        }
        try warehouse.writeRaw(events, file: "t1-000001")
        XCTAssertEqual(try run(binary, ["compact", "--data", warehouse.data, "--include-open", "--quiet"]), 0)

        let port = Self.freePort()
        var server = try startServer(binary, data: warehouse.data, port: port)
        let deadline = Date().addingTimeInterval(30)
        while receiver.requests.count < 25 && Date() < deadline { usleep(10_000) }
        XCTAssertGreaterThanOrEqual(receiver.requests.count, 25, "deliveries started")
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        let beforeRestart = receiver.requests.count
        XCTAssertLessThan(beforeRestart, 120, "killed in the middle")

        // More events while the server is down, committed by the CLI.
        var more: [W.Event] = []
        for site in 0..<10 {
            more.append(W.deactivate("k\(site)-d", String(format: "2026-11-02T13:%02d:00Z", site), "https://k\(site).example"))
            expected["k\(site).example"]!.append("k\(site)-d")
        }
        try warehouse.writeRaw(more, file: "t1-000002")
        XCTAssertEqual(try run(binary, ["compact", "--data", warehouse.data, "--include-open", "--quiet"]), 0)

        server = try startServer(binary, data: warehouse.data, port: port)
        defer { kill(server.processIdentifier, SIGTERM); server.waitUntilExit() }
        let total = expected.values.reduce(0) { $0 + $1.count }
        let wanted = Set(expected.values.flatMap { $0 })
        let end = Date().addingTimeInterval(60)
        while Set(receiver.requests.compactMap(\.deliveryID)).count < total && Date() < end { usleep(20_000) }
        let received = receiver.requests.compactMap(\.deliveryID)
        XCTAssertEqual(Set(received), wanted, "every delivery id arrived")
        XCTAssertNil(receiver.state.withLock { $0.store["bad_signatures"] })
        for (site, ids) in expected {
            let order = received.filter { $0.hasPrefix(String(site.prefix(while: { $0 != "." })) + "-") }.map { ids.firstIndex(of: $0)! }
            XCTAssertEqual(order, order.sorted(), "site \(site): \(order)")
        }
        // The API's view after the restart: everything delivered.
        let listed = try OutboxStore(dataDirectory: warehouse.data).deliveries(projectID: "acme")
        let endListed = Date().addingTimeInterval(10)
        var delivered = listed.filter { $0.entry.status == .delivered }.count
        while delivered < total && Date() < endListed {
            usleep(50_000)
            delivered = try OutboxStore(dataDirectory: warehouse.data).deliveries(projectID: "acme", status: .delivered).count
        }
        XCTAssertEqual(delivered, total)
    }

    func startServer(_ binary: String, data: String, port: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--data", data, "--port", String(port), "--writer-id", "kill9", "--log-level", "error",
                             "--compact-interval", "600"]
        var environment = ProcessInfo.processInfo.environment
        environment["KILL9_HOOK_SECRET"] = secret
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

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
