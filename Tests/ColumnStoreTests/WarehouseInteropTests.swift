import Foundation
import XCTest
@testable import ColumnStore
@testable import Ingest

/// DuckDB (`read_parquet(..., hive_partitioning=true)`) and pyarrow datasets read the warehouse
/// folders as they are and see exactly our tables. Skipped without TRACKHOUSE_PYTHON.
final class WarehouseInteropTests: XCTestCase {
    func testDuckDBAndPyArrowSeeOurTables() throws {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"], !python.isEmpty else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with duckdb and pyarrow")
        }
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 150, weeks: 6, seed: 9)
        var options = Compactor.Options()
        options.chunkEventsMax = 300
        options.segmentRowsTarget = 2000
        options.rowGroupRows = 1024
        _ = try Compactor(dataDirectory: directory, options: options, logger: quietLogger).run()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("interop/warehouse_rows.py").path
        for (table, columns) in [(SegmentEntry.Table.events, EventSchema.events), (.sites, EventSchema.sites)] {
            let ours = try WarehouseTestSupport.tableRows(directory, table)
            XCTAssertFalse(ours.isEmpty)
            for engine in ["duckdb", "pyarrow"] {
                let output = try run(python, [script, engine, directory + "/warehouse", table.rawValue,
                                              columns.map(\.name).joined(separator: ",")])
                let theirs = output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
                XCTAssertEqual(theirs.count, ours.count, "\(engine) \(table)")
                XCTAssertEqual(theirs, ours, "\(engine) reads different \(table) rows")
            }
        }
    }

    func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        let errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, errorText)
        return String(decoding: data, as: UTF8.self)
    }
}
