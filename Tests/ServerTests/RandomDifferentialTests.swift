import Foundation
import XCTest

/// Random queries of the SQL subset, DuckDB over our warehouse files against `trackhouse
/// query` (Tests/interop/random_differential.py), on generated sites plus the hostile
/// envelopes of Tests/interop/hostile_envelopes.ndjson. A fixed seed per run keeps it
/// reproducible (`TRACKHOUSE_FUZZ_SEED` picks another); a failure prints the query. It found
/// wrong `avg` of huge values, `substr` windows before the string and `json_extract_string`
/// number spelling. The dashboard API gets the same treatment against the contract's
/// definitions computed by DuckDB.
final class RandomDifferentialTests: XCTestCase {
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop")

    /// Generated sites plus the hostile envelopes, compacted; nil when python or the binary is missing.
    func makeData() throws -> (python: String, binary: String, data: String) {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"], !python.isEmpty else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with duckdb")
        }
        guard let binary = trackhouseBinary() else { throw XCTSkip("the trackhouse binary is not built") }
        let data = makeDataDirectory(name)
        XCTAssertEqual(try runTrackhouse(["gen", "--out", data, "--projects", "2", "--sites", "80", "--weeks", "4",
                                          "--seed", "17", "--end", "2026-06-01T00:00:00Z"]).status, 0)
        let registry = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: data + "/projects.json"))) as? [String: Any]
        let hash = try XCTUnwrap(((registry?["projects"] as? [[String: Any]])?.first?["hash"]) as? String)
        let source = makeDataDirectory(name + "-hostile-source")
        try FileManager.default.createDirectory(atPath: source + "/track", withIntermediateDirectories: true)
        try String(contentsOf: Self.interop.appendingPathComponent("hostile_envelopes.ndjson"), encoding: .utf8)
            .replacingOccurrences(of: "{{HASH_UPPER}}", with: hash.uppercased())
            .replacingOccurrences(of: "{{HASH}}", with: hash)
            .write(toFile: source + "/track/hostile.ndjson", atomically: true, encoding: .utf8)
        XCTAssertEqual(try runTrackhouse(["import", source, "--data", data]).status, 0)
        let compact = try runTrackhouse(["compact", "--data", data, "--include-open", "--quiet"])
        XCTAssertEqual(compact.status, 0, compact.stderr)
        return (python, binary, data)
    }

    /// Runs a script of Tests/interop and returns its output; fails the test on exit status 1.
    func runScript(_ python: String, _ script: String, _ arguments: [String], expect summary: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.interop.appendingPathComponent(script).path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(script) \(arguments.joined(separator: " ")):\n" + text.suffix(6000))
        XCTAssertTrue(text.contains(summary), text.suffix(2000).description)
    }

    static var seed: String { ProcessInfo.processInfo.environment["TRACKHOUSE_FUZZ_SEED"] ?? "20261203" }

    func testRandomQueriesAgreeWithDuckDB() throws {
        let (python, binary, data) = try makeData()
        try runScript(python, "random_differential.py", [binary, data, "150", Self.seed], expect: "queries 150 mismatches 0")
    }

    /// The same data behind `trackhouse serve`: timeseries, stats and breakdown answers equal
    /// DuckDB's computation of the contract's definitions.
    func testRandomDashboardAnswersAgreeWithDuckDB() throws {
        let (python, binary, data) = try makeData()
        try runScript(python, "api_random_differential.py", [binary, data, String(freePort()), "40", Self.seed],
                      expect: "checks 40 mismatches 0")
    }
}
