import Core
import Foundation
import Synchronization
import XCTest
@testable import Ingest

/// kill -9 under concurrent load: every request that got a 200 must be on disk exactly once
/// after a restart, and every raw file must parse.
final class CrashTests: XCTestCase {
    final class Acknowledged: Sendable {
        private let state = Mutex<[String]>([])
        var ids: [String] { state.withLock { $0 } }
        func add(_ id: String) { state.withLock { $0.append(id) } }
    }

    /// The group-commit flags the crash rounds use are checked before the server starts.
    func testOutOfRangeCommitOptionsAreRefusedByName() throws {
        let data = makeDataDirectory()
        for (arguments, flag) in [(["--commit-lanes", "0"], "--commit-lanes"), (["--commit-lanes", "17"], "--commit-lanes"),
                                  (["--commit-interval-us", "-1"], "--commit-interval-us"),
                                  (["--commit-interval-us", "100001"], "--commit-interval-us")] {
            let result = try runTrackhouse(["serve", "--data", data, "--port", "0"] + arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments) must be refused")
            XCTAssertTrue(result.stderr.contains(flag), "the error names \(flag): \(result.stderr)")
        }
    }

    func testKillNineUnderLoadLosesNothingAcknowledged() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("trackhouse binary not built; set TRACKHOUSE_BIN") }
        let data = makeDataDirectory()
        var generator = SystemRandomNumberGenerator()
        var acknowledgedTotal = 0
        for round in 0..<3 {
            let port = freePort()
            // Round 0 runs the default group commit (1 lane, no interval); the others the
            // variants an operator can pick, so each is killed mid-batch at least once.
            let commitArguments = [[], ["--commit-lanes", "2"], ["--commit-interval-us", "1000"]][round]
            let server = try ServerProcess(binary: binary, dataDirectory: data, port: port, extraArguments: commitArguments)
            XCTAssertTrue(server.waitUntilHealthy(), "server did not start (round \(round), \(commitArguments))")
            let acknowledged = Acknowledged()
            let stop = LockedBool()
            let group = DispatchGroup()
            for client in 0..<16 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    var sequence = 0
                    while !stop.value {
                        guard let connection = RawHTTPConnection(port: port, timeoutSeconds: 5) else { return }
                        while !stop.value {
                            sequence += 1
                            let body = sdkTrackBody(marker: "r\(round)-c\(client)-\(sequence)")
                            guard connection.send(RawHTTPConnection.request(path: "/track",
                                    headers: [("Content-Type", "application/x-www-form-urlencoded")], body: body)),
                                  let response = connection.readResponse() else { break }
                            if response.status == 200, let parsed = try? JSONParser.parse(response.body),
                               let id = parsed["id"]?.stringValue {
                                acknowledged.add(id)
                            }
                        }
                    }
                }
            }
            Thread.sleep(forTimeInterval: Double.random(in: 0.4...1.6, using: &generator))
            server.kill9()
            stop.value = true
            group.wait()
            acknowledgedTotal += acknowledged.ids.count
            XCTAssertGreaterThan(acknowledged.ids.count, 0, "no request was acknowledged in round \(round)")

            // Restart: recovery cuts torn tails; then check the whole tree.
            let restarted = try ServerProcess(binary: binary, dataDirectory: data, port: freePort())
            XCTAssertTrue(restarted.waitUntilHealthy())
            restarted.terminate()

            var counts: [String: Int] = [:]
            for file in RawLayout(dataDirectory: data).listFiles() {
                var torn = 0
                try RawFileReader.forEachLine(path: file.path, tornTail: { torn = $0 }) { line in
                    let envelope = try Envelope.decode(line.bytes)
                    counts[envelope.id, default: 0] += 1
                }
                XCTAssertEqual(torn, 0, "torn tail left in \(file.path) after restart")
            }
            for id in acknowledged.ids {
                XCTAssertEqual(counts[id], 1, "acknowledged id \(id) stored \(counts[id] ?? 0) times (round \(round))")
            }
        }
        XCTAssertGreaterThan(acknowledgedTotal, 30)
    }
}

final class LockedBool: Sendable {
    private let state = Mutex(false)
    var value: Bool {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
