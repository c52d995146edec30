import Foundation
import XCTest

/// Random queries of the SQL subset, DuckDB over our warehouse files against `trackhouse
/// query` (Tests/interop/random_differential.py), on generated sites plus the hostile
/// envelopes of Tests/interop/hostile_envelopes.ndjson. A fixed seed per run keeps it
/// reproducible; a failure prints the query. It found wrong `avg` of huge values, `substr`
/// windows before the string and `json_extract_string` number spelling.
final class RandomDifferentialTests: XCTestCase {
    func testRandomQueriesAgreeWithDuckDB() throws {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"], !python.isEmpty else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with duckdb")
        }
        guard let binary = trackhouseBinary() else { throw XCTSkip("the trackhouse binary is not built") }
        let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("interop")
        let data = makeDataDirectory()
        XCTAssertEqual(try runTrackhouse(["gen", "--out", data, "--projects", "2", "--sites", "80", "--weeks", "4",
                                          "--seed", "17", "--end", "2026-06-01T00:00:00Z"]).status, 0)
        let registry = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: data + "/projects.json"))) as? [String: Any]
        let hash = try XCTUnwrap(((registry?["projects"] as? [[String: Any]])?.first?["hash"]) as? String)
        let source = makeDataDirectory("hostile-source")
        try FileManager.default.createDirectory(atPath: source + "/track", withIntermediateDirectories: true)
        try String(contentsOf: interop.appendingPathComponent("hostile_envelopes.ndjson"), encoding: .utf8)
            .replacingOccurrences(of: "{{HASH_UPPER}}", with: hash.uppercased())
            .replacingOccurrences(of: "{{HASH}}", with: hash)
            .write(toFile: source + "/track/hostile.ndjson", atomically: true, encoding: .utf8)
        XCTAssertEqual(try runTrackhouse(["import", source, "--data", data]).status, 0)
        let compact = try runTrackhouse(["compact", "--data", data, "--include-open", "--quiet"])
        XCTAssertEqual(compact.status, 0, compact.stderr)

        let seed = Int(ProcessInfo.processInfo.environment["TRACKHOUSE_FUZZ_SEED"] ?? "") ?? 20261203
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [interop.appendingPathComponent("random_differential.py").path, binary, data, "150", String(seed)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "seed \(seed):\n" + text.suffix(6000))
        XCTAssertTrue(text.contains("queries 150 mismatches 0"), text.suffix(2000).description)
    }
}
