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

    /// The fast parse (`QueryInvocation.parse`) against the reference (ArgumentParser's, with
    /// `TRACKHOUSE_QUERY_FULL_PARSE=1`): every argument form gives the same stdout, stderr and
    /// exit code, whether the fast path takes it or hands it on.
    func testFastParseEqualsTheFullParse() throws {
        let data = makeTemporaryDirectory(#function)
        let cases: [[String]] = [
            ["--data", data, "--format", "csv", "SELECT 1 + 1 AS two"],
            ["--data=\(data)", "--format=table", "SELECT 'a' AS x"],
            ["SELECT 2 AS y", "--data", data, "--format", "jsonl", "--threads", "1", "--timeout-ms", "5000"],
            ["--data", data, "-c", "SELECT 3 AS z", "--max-rows", "10", "--memory-mb", "64", "--format", "table"],
            ["--data", data, "--format", "csv", "--max-rows", "0", "SELECT 1 AS one"],
            ["--data", data, "--format", "csv", "--repeat", "1", "SELECT count(*) FROM events"],
            ["--data", data, "--format", "xml", "SELECT 1"],
            ["--data", data, "--threads", "0", "SELECT 1"],
            ["--data", data, "--threads", "two", "SELECT 1"],
            ["--data", data, "--format", "csv", "--format", "table", "SELECT 1"],
            ["--data", data, "-c", "SELECT 1", "SELECT 2"],
            ["--data", data, "SELECT 1", "SELECT 2"],
            ["--data", data, "--format", "csv", ""],
            ["--data", data, "--format"],
            ["--data", data, "--bogus", "SELECT 1"],
            ["--data", data, "SELECT nope("],
            ["--data", data, "SELECT * FROM missing_table"],
            ["--data", "-", "SELECT 1"],
            ["-h"],
        ]
        // (Not `--format json`: its stats carry the run's elapsed milliseconds.)
        var environment = ProcessInfo.processInfo.environment
        environment["TRACKHOUSE_QUERY_FULL_PARSE"] = nil
        var reference = environment
        reference["TRACKHOUSE_QUERY_FULL_PARSE"] = "1"
        for arguments in cases {
            let fast = try runTrackhouse(["query"] + arguments, environment: environment)
            let full = try runTrackhouse(["query"] + arguments, environment: reference)
            XCTAssertEqual(fast.status, full.status, "\(arguments)")
            XCTAssertEqual(fast.stdout, full.stdout, "\(arguments)")
            XCTAssertEqual(fast.stderr, full.stderr, "\(arguments)")
        }
    }
}
