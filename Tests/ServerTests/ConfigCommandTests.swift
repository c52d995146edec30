import Core
import Foundation
import TrackhouseTestSupport
import XCTest

/// `trackhouse config` through the release binary (`TRACKHOUSE_BIN`): where each setting comes
/// from (flags > TRACKHOUSE_* > config file > defaults), and every way a value is refused.
final class ConfigCommandTests: XCTestCase {
    /// Runs the binary with exactly `environment` (plus PATH), so the test's own TRACKHOUSE_*
    /// variables cannot leak in.
    private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runTrackhouse(arguments, environment: environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]) { a, _ in a })
    }

    private func writeConfig(_ text: String, _ name: String = #function) throws -> String {
        let path = makeTemporaryDirectory(name) + "/trackhouse.json"
        try FileIO.writeFileAtomically(path, Array(text.utf8))
        return path
    }

    /// (value, source) of every setting from `config --format json`.
    private func effective(_ arguments: [String], environment: [String: String] = [:]) throws -> [String: (JSONValue, String)] {
        let result = try run(["config", "--format", "json"] + arguments, environment: environment)
        XCTAssertEqual(result.status, 0, result.stderr)
        let settings = try XCTUnwrap(try JSONParser.parse(result.stdout)["settings"]?.objectValue)
        var out: [String: (JSONValue, String)] = [:]
        for (key, entry) in settings.pairs {
            out[key] = (entry["value"] ?? .null, entry["source"]?.stringValue ?? "?")
        }
        return out
    }

    func testFlagBeatsEnvironmentBeatsFileBeatsDefaultPerKey() throws {
        let file = try writeConfig("""
            {"port": 7001, "host": "10.1.1.1", "role": "query", "compact-interval": 5,
             "no-rollups": true, "trusted-proxy": ["10.0.0.0/8"], "log-level": "debug"}
            """)
        let environment = ["TRACKHOUSE_CONFIG": file, "TRACKHOUSE_PORT": "7002", "TRACKHOUSE_HOST": "10.2.2.2",
                           "TRACKHOUSE_NO_ROLLUPS": "false", "TRACKHOUSE_TRUSTED_PROXY": "192.168.0.0/16, 127.0.0.1",
                           "TRACKHOUSE_RAW_RETENTION_DAYS": "30", "TRACKHOUSE_RETENTION_MONTHS": "13", "TRACKHOUSE_IP_MODE": "truncated"]
        let values = try effective(["--port", "7003", "--rollups"], environment: environment)
        // port: all three sources; the flag wins.
        XCTAssertEqual(values["port"]?.0, .number("7003")); XCTAssertEqual(values["port"]?.1, "flag")
        // host: environment and file; the environment wins.
        XCTAssertEqual(values["host"]?.0, .string("10.2.2.2")); XCTAssertEqual(values["host"]?.1, "env")
        // role, compact-interval, log-level: only the file.
        XCTAssertEqual(values["role"]?.0, .string("query")); XCTAssertEqual(values["role"]?.1, "file")
        XCTAssertEqual(values["compact-interval"]?.0, .number("5")); XCTAssertEqual(values["compact-interval"]?.1, "file")
        XCTAssertEqual(values["log-level"]?.1, "file")
        // no-rollups: file true, env false, flag --rollups (false again): the flag.
        XCTAssertEqual(values["no-rollups"]?.0, .bool(false)); XCTAssertEqual(values["no-rollups"]?.1, "flag")
        // A comma-separated list from the environment over the file's array.
        XCTAssertEqual(values["trusted-proxy"]?.0, .array([.string("192.168.0.0/16"), .string("127.0.0.1")]))
        XCTAssertEqual(values["trusted-proxy"]?.1, "env")
        XCTAssertEqual(values["raw-retention-days"]?.0, .number("30"))
        XCTAssertEqual(values["retention-months"]?.0, .number("13")); XCTAssertEqual(values["retention-months"]?.1, "env")
        XCTAssertEqual(values["ip-mode"]?.0, .string("truncated")); XCTAssertEqual(values["ip-mode"]?.1, "env")
        // Nothing set: the defaults.
        XCTAssertEqual(values["idle-timeout"]?.0, .number("60")); XCTAssertEqual(values["idle-timeout"]?.1, "default")
        XCTAssertEqual(values["data"]?.0, .string("./data")); XCTAssertEqual(values["data"]?.1, "default")
        XCTAssertEqual(values["commit-lanes"]?.0, .null)
        XCTAssertEqual(values["log-format"]?.0, .string("text")); XCTAssertEqual(values["log-format"]?.1, "default")
        XCTAssertEqual(values["access-log"]?.0, .bool(false))
        XCTAssertEqual(values["rollup-days"]?.0, .number("120")); XCTAssertEqual(values["rollup-days"]?.1, "default")
        XCTAssertEqual(values.count, 21)

        // Without the environment the file's values show through; --config names the file.
        let fileOnly = try effective(["--config", file])
        XCTAssertEqual(fileOnly["port"]?.0, .number("7001")); XCTAssertEqual(fileOnly["port"]?.1, "file")
        XCTAssertEqual(fileOnly["no-rollups"]?.0, .bool(true))
        // --config beats TRACKHOUSE_CONFIG.
        let other = try writeConfig(#"{"port": 7004}"#, "other")
        XCTAssertEqual(try effective(["--config", other], environment: ["TRACKHOUSE_CONFIG": file])["port"]?.0, .number("7004"))
    }

    func testTableNamesEachSettingsSource() throws {
        let result = try run(["config", "--port", "9100"], environment: ["TRACKHOUSE_DATA": "/srv/th"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        XCTAssertEqual(lines.first, ["config", "file:", "(none)"])
        XCTAssertEqual(lines[1], ["KEY", "VALUE", "SOURCE", "ENVIRONMENT"])
        XCTAssertTrue(lines.contains(["port", "9100", "flag", "TRACKHOUSE_PORT"]), result.stdout)
        XCTAssertTrue(lines.contains(["data", "/srv/th", "env", "TRACKHOUSE_DATA"]), result.stdout)
        XCTAssertTrue(lines.contains(["host", "127.0.0.1", "default", "TRACKHOUSE_HOST"]), result.stdout)
    }

    /// Every refusal exits non-zero, without a crash, and names the variable, flag or file key.
    func testBadValuesAreRefusedNamingTheirSource() throws {
        let cases: [([String], [String: String], String)] = [
            ([], ["TRACKHOUSE_PORT": "abc"], #"TRACKHOUSE_PORT must be a port number (0-65535) (got "abc")"#),
            ([], ["TRACKHOUSE_PORT": "70000"], "TRACKHOUSE_PORT must be a port number (0-65535) (got 70000)"),
            ([], ["TRACKHOUSE_NO_ROLLUPS": "maybe"], #"TRACKHOUSE_NO_ROLLUPS must be true or false (got "maybe")"#),
            ([], ["TRACKHOUSE_COMPACT_INTERVAL": "soon"], "TRACKHOUSE_COMPACT_INTERVAL must be a number of seconds"),
            ([], ["TRACKHOUSE_ROLE": "reader"], "TRACKHOUSE_ROLE must be ingest, query or all"),
            ([], ["TRACKHOUSE_TRUSTED_PROXY": "10.0.0.0/8,nonsense"], "TRACKHOUSE_TRUSTED_PROXY: "),
            (["--commit-lanes", "17"], [:], "--commit-lanes must be between 1 and 16"),
            (["--raw-retention-days=-1"], ["TRACKHOUSE_RAW_RETENTION_DAYS": "3"], "--raw-retention-days must be 0 or more"),
        ]
        for (arguments, environment, expected) in cases {
            for command in ["config", "serve"] {
                let result = try run([command] + arguments, environment: environment)
                XCTAssertEqual(result.status, 1, "\(command) \(arguments) \(environment) must be refused: \(result.stderr)")
                XCTAssertTrue(result.stderr.contains(expected), "\(command): expected \(expected) in \(result.stderr)")
            }
        }
    }

    func testBadConfigFilesAreRefusedNamingTheFileAndKey() throws {
        let typo = try writeConfig(#"{"prot": 9000, "host": "0.0.0.0", "compact_interval": 3}"#, "typo")
        let wrongType = try writeConfig(#"{"port": "9000"}"#, "wrongType")
        let notAList = try writeConfig(#"{"trusted-proxy": "10.0.0.0/8"}"#, "notAList")
        let nested = try writeConfig(#"{"port": {"value": 1}}"#, "nested")
        let outOfRange = try writeConfig(#"{"idle-timeout": 100000}"#, "outOfRange")
        let notJSON = try writeConfig("port = 9000", "notJSON")
        let array = try writeConfig("[1]", "array")
        let cases: [(String, String)] = [
            (typo, #"config file \#(typo): unknown keys "prot", "compact_interval"; the keys are data, host, port"#),
            (wrongType, #""port" in \#(wrongType) must be a port number (0-65535) (got "9000")"#),
            (notAList, #""trusted-proxy" in \#(notAList) must be a list of addresses or CIDRs (got "10.0.0.0/8")"#),
            (nested, #""port" in \#(nested) must be a port number"#),
            (outOfRange, #""idle-timeout" in \#(outOfRange) must be between 0 and 86400 seconds (got 100000)"#),
            (notJSON, "config file \(notJSON) is not valid JSON"),
            (array, "config file \(array) must hold one JSON object"),
            ("/nonexistent/trackhouse.json", "config file /nonexistent/trackhouse.json cannot be read"),
        ]
        for (path, expected) in cases {
            for environment in [["TRACKHOUSE_CONFIG": path], [:]] {
                let arguments = environment.isEmpty ? ["config", "--config", path] : ["config"]
                let result = try run(arguments, environment: environment)
                XCTAssertEqual(result.status, 1, "\(path) must be refused: \(result.stderr)")
                XCTAssertTrue(result.stderr.contains(expected), "expected \(expected) in \(result.stderr)")
            }
        }
    }

    /// `serve` runs with what `config` shows: a port and a role from the environment and the file.
    func testServeRunsWithEnvironmentAndFileSettings() throws {
        let data = makeTemporaryDirectory()
        let port = freePort()
        let file = try writeConfig(#"{"role": "ingest", "log-level": "error", "port": 1}"#)
        guard let binary = trackhouseBinary() else { throw XCTSkip("the trackhouse binary is not built; set TRACKHOUSE_BIN") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve"]
        process.environment = ["TRACKHOUSE_DATA": data, "TRACKHOUSE_PORT": String(port), "TRACKHOUSE_CONFIG": file,
                               "TRACKHOUSE_WRITER_ID": "configtest"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        var health: String?
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, health == nil {
            if let connection = RawHTTPConnection(port: port, timeoutSeconds: 2),
               connection.send(Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)),
               let response = connection.readResponse(), response.status == 200 {
                health = response.bodyText
            } else {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        let body = try XCTUnwrap(health, "serve did not answer on TRACKHOUSE_PORT \(port)")
        XCTAssertTrue(body.contains(#""role":"ingest""#), body)
    }
}
