import Core
import Foundation
import XCTest
@testable import ColumnStore
@testable import Ingest

/// DuckDB (`read_parquet(..., hive_partitioning=true)`), pyarrow datasets and Apache Spark (both
/// its vectorized reader and parquet-mr's row reader) read the warehouse folders as they are and
/// see exactly our tables, hostile values included. Skipped without TRACKHOUSE_PYTHON; the Spark
/// part needs `pyspark` in that python and a Java runtime (`make test` installs both).
final class WarehouseInteropTests: XCTestCase {
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop")

    func testOtherEnginesSeeOurTables() throws {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"], !python.isEmpty else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with duckdb, pyarrow and pyspark")
        }
        let directory = try Self.makeWarehouse()
        let tables = [(SegmentEntry.Table.events, TableSchema.events.columns), (.sites, TableSchema.sites.columns)]
        var ours: [SegmentEntry.Table: [String]] = [:]
        for (table, _) in tables {
            ours[table] = try WarehouseTestSupport.tableRows(directory, table)
            XCTAssertFalse(ours[table]!.isEmpty)
        }
        // The hostile rows made it in (the values below are in hostile_envelopes.ndjson).
        XCTAssertTrue(ours[.events]!.contains { $0.hasPrefix("hostile-0000|") })
        XCTAssertTrue(ours[.events]!.contains { $0.contains("new\\nline\ttab") })
        XCTAssertTrue(ours[.events]!.contains { $0.contains("\u{0}nul\u{0}") })
        XCTAssertTrue(ours[.events]!.contains { $0.split(separator: "|")[2] == "0123" })

        for (table, columns) in tables {
            for engine in ["duckdb", "pyarrow"] {
                let output = try run(python, [Self.interop.appendingPathComponent("warehouse_rows.py").path, engine,
                                              directory + "/warehouse", table.rawValue, columns.map(\.name).joined(separator: ",")])
                assertSameRows(Self.lines(output ?? ""), ours[table]!, "\(engine) reads different \(table) rows")
            }
        }

        guard try run(python, ["-c", "import pyspark"], allowFailure: true) != nil, Self.javaAvailable() else {
            throw XCTSkip("pyspark or java is missing: the Spark readers were not checked (make test installs both)")
        }
        let out = TrackhouseTestSupport.makeTemporaryDirectory()
        _ = try run(python, [Self.interop.appendingPathComponent("spark_rows.py").path, directory + "/warehouse", out]
                        + tables.map { "\($0.0.rawValue)=\($0.1.map(\.name).joined(separator: ","))" })
        for reader in ["spark", "spark-mr"] {
            for (table, _) in tables {
                let text = try String(contentsOfFile: "\(out)/\(reader)-\(table.rawValue).txt", encoding: .utf8)
                assertSameRows(Self.lines(text), ours[table]!, "\(reader) reads different \(table) rows")
            }
        }
    }

    /// 150 generated sites over 6 weeks plus 120 hostile envelopes, compacted into several
    /// segments of several row groups each.
    static func makeWarehouse() throws -> String {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 150, weeks: 6, seed: 9)
        // A numeric-looking project id: hive-partitioned readers infer the folder key `project`
        // as an int (Spark, pyarrow: 123), the file column `project_id` must stay "0123".
        let registryPath = directory + "/projects.json"
        var registry = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: registryPath))) as? [String: Any])
        var projects = try XCTUnwrap(registry["projects"] as? [[String: Any]])
        projects[0]["id"] = "0123"
        registry["projects"] = projects
        try JSONSerialization.data(withJSONObject: registry).write(to: URL(fileURLWithPath: registryPath))
        let hash = try XCTUnwrap(RegistryStore(path: registryPath).registry.projects.first?.hash)
        let fixture = try String(contentsOf: interop.appendingPathComponent("hostile_envelopes.ndjson"), encoding: .utf8)
        let source = TrackhouseTestSupport.makeTemporaryDirectory()
        try FileManager.default.createDirectory(atPath: source + "/track", withIntermediateDirectories: true)
        try fixture.replacingOccurrences(of: "{{HASH_UPPER}}", with: hash.uppercased())
            .replacingOccurrences(of: "{{HASH}}", with: hash)
            .write(toFile: source + "/track/hostile-000001.ndjson", atomically: true, encoding: .utf8)
        let summary = try RawImporter(layout: RawLayout(dataDirectory: directory), logger: quietLogger)
            .importTree(source) { problem in XCTFail("fixture line \(problem.line): \(problem.message)") }
        XCTAssertEqual(summary.linesImported, 120)

        var options = Compactor.Options()
        options.chunkEventsMax = 300
        options.segmentRowsTarget = 2000
        options.rowGroupRows = 1024
        options.includeOpenHours = true  // one fixture line is stamped in the year 9999
        _ = try Compactor(dataDirectory: directory, options: options, logger: quietLogger).run()
        return directory
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    static func javaAvailable() -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        if let home = ProcessInfo.processInfo.environment["JAVA_HOME"], FileManager.default.isExecutableFile(atPath: home + "/bin/java") {
            return true
        }
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/java") }
    }

    func assertSameRows(_ theirs: [String], _ ours: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        let theirs = WarehouseTestSupport.sortedByBytes(theirs)
        XCTAssertEqual(theirs.count, ours.count, message, file: file, line: line)
        if theirs != ours, let index = zip(theirs, ours).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset ?? Optional(min(theirs.count, ours.count)), index < max(theirs.count, ours.count) {
            XCTFail("\(message); first difference at row \(index):\n theirs \(theirs.indices.contains(index) ? theirs[index].prefix(400) : "(none)")\n ours   \(ours.indices.contains(index) ? ours[index].prefix(400) : "(none)")",
                    file: file, line: line)
        }
    }

    /// Runs a helper; nil when it fails and `allowFailure` is set.
    @discardableResult
    func run(_ executable: String, _ arguments: [String], allowFailure: Bool = false) throws -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONIOENCODING"] = "utf-8"
        process.environment = environment
        let pipe = Pipe()
        // stderr to a file: Spark logs enough to fill a pipe nobody reads and block the child.
        let errorPath = TrackhouseTestSupport.makeTemporaryDirectory() + "/stderr.txt"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        defer { try? errors.close() }
        process.standardOutput = pipe
        process.standardError = errors
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            if allowFailure { return nil }
            let errorText = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            XCTFail("\(executable) \(arguments.first ?? "") failed: \(errorText.suffix(4000))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
