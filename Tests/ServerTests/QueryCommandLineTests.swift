import Core
import Foundation
import TrackhouseTestSupport
import XCTest

/// `trackhouse query` through the release binary (`TRACKHOUSE_BIN`). The command is parsed
/// on its own before ArgumentParser's whole tree (`Trackhouse.main`): answers, errors, help and
/// exit codes must be exactly the full parse's, only cheaper.
final class QueryCommandLineTests: XCTestCase {
    func testQueryRunsAndRefusesExactlyAsTheFullParserWould() throws {
        let data = makeTemporaryDirectory(#function)
        let answer = try runTrackhouse(["query", "--data", data, "--format", "csv", "SELECT 1 + 1 AS two"])
        XCTAssertEqual(answer.status, 0, answer.stderr)
        XCTAssertEqual(answer.stdout, "two\n2\n")

        // SQL the engine refuses: a failure exit and the engine's message, nothing on stdout.
        let refused = try runTrackhouse(["query", "--data", data, "SELECT nope("])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stdout.isEmpty)
        XCTAssertTrue(refused.stderr.hasPrefix("Error: "), refused.stderr)

        // What the command alone cannot parse goes through the whole tree: its usage names
        // `trackhouse query`, and the exit code is ArgumentParser's validation failure (64).
        let unknown = try runTrackhouse(["query", "--bogus", "SELECT 1"])
        XCTAssertEqual(unknown.status, 64)
        XCTAssertTrue(unknown.stderr.contains("Unknown option '--bogus'"), unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("Usage: trackhouse query"), unknown.stderr)
        let twice = try runTrackhouse(["query", "-c", "SELECT 1", "SELECT 2"])
        XCTAssertEqual(twice.status, 64)
        XCTAssertTrue(twice.stderr.contains("give the SQL once"), twice.stderr)

        let help = try runTrackhouse(["query", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("USAGE: trackhouse query"), help.stdout)
    }
}
