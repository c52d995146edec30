import Core
import Foundation
import XCTest
@testable import ColumnStore

/// Cross-checks with pyarrow, DuckDB and polars through the scripts in Tests/interop.
/// Skipped unless TRACKHOUSE_PYTHON names a Python with those packages installed.
final class ParquetInteropTests: XCTestCase {
    private var python: String!
    private var interopDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("interop")
    }

    override func setUpWithError() throws {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"], !python.isEmpty else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with duckdb, pyarrow and polars to run interop tests")
        }
        self.python = python
    }

    // MARK: Files we write, read by them

    func testOtherReadersReadOurFiles() throws {
        let directory = try makeTemporaryDirectory()
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 2_000
        options.pageRowsMax = 500
        for (name, nulls, distinct) in [("mixed", 0.3, 300), ("single", 0.5, 1), ("allnull", 1.0, 10), ("dense", 0.0, 5_000)] {
            let table = GeneratedTable.make(rows: 5_000, nullFraction: nulls, distinctStrings: distinct, seed: 11)
            try checkWithOtherReaders(table, options: options, directory: directory, name: name)
        }
        // PLAIN fallback after 65,536 dictionary entries, default options.
        let sites: [String?] = (0..<70_000).map { $0 % 7 == 0 ? nil : "site-\($0).example" }
        let fallback = GeneratedTable(schema: ParquetSchema([ParquetColumn(name: "site", kind: .string)]), columns: [.strings(sites)])
        try checkWithOtherReaders(fallback, options: ParquetWriter.Options(), directory: directory, name: "fallback")
    }

    private func checkWithOtherReaders(_ table: GeneratedTable, options: ParquetWriter.Options, directory: URL, name: String) throws {
        let path = directory.appendingPathComponent("\(name).parquet").path
        try ParquetWriter.writeFileAtomically(path: path, schema: table.schema, rowGroups: [table.columns], options: options)
        let groupRows = stride(from: 0, to: table.rows, by: options.rowGroupRowsMax).map { min(options.rowGroupRowsMax, table.rows - $0) }
        let expectedPath = directory.appendingPathComponent("\(name).json").path
        try Data(JSONWriter.serialize(expectation(table, groupRows: groupRows))).write(to: URL(fileURLWithPath: expectedPath))
        let (status, output) = try run(["check_ours.py", path, expectedPath])
        XCTAssertEqual(status, 0, "\(name): \(output)")
    }

    private func expectation(_ table: GeneratedTable, groupRows: [Int]) -> JSONValue {
        var columns: [JSONValue] = []
        for (spec, column) in zip(table.schema.columns, table.columns) {
            let values: [JSONValue] = (0..<column.count).map { row in
                switch spec.kind {
                case .string: return column.string(at: row).map { .string($0) } ?? .null
                case .int64, .timestamp: return column.int64(at: row).map { .number("\($0)") } ?? .null
                case .bool: return column.bool(at: row).map { .bool($0) } ?? .null
                case .double: return column.double(at: row).map { .number("\($0)") } ?? .null
                }
            }
            var nullCounts: [JSONValue] = [], mins: [JSONValue] = [], maxs: [JSONValue] = []
            var start = 0
            for rows in groupRows {
                let group = start..<start + rows
                nullCounts.append(.number("\(group.filter { !column.isValid($0) }.count)"))
                // Expected bounds for the kinds whose DuckDB/pyarrow rendering is unambiguous.
                switch spec.kind {
                case .string:
                    // Unsigned byte order, which is what the readers must see.
                    let present = group.compactMap { column.string(at: $0) }.map { Array($0.utf8) }
                    let low = present.min { $0.lexicographicallyPrecedes($1) }, high = present.max { $0.lexicographicallyPrecedes($1) }
                    mins.append(low.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null)
                    maxs.append(high.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null)
                case .int64:
                    let present = group.compactMap { column.int64(at: $0) }
                    mins.append(present.min().map { .number("\($0)") } ?? .null)
                    maxs.append(present.max().map { .number("\($0)") } ?? .null)
                default:
                    mins.append(.null)
                    maxs.append(.null)
                }
                start += rows
            }
            columns.append(.object(JSONObject([("name", .string(spec.name)), ("kind", .string(spec.kind.rawValue)),
                                               ("values", .array(values)), ("null_counts", .array(nullCounts)),
                                               ("mins", .array(mins)), ("maxs", .array(maxs))])))
        }
        return .object(JSONObject([("columns", .array(columns)), ("row_groups", .number("\(groupRows.count)")),
                                   ("group_rows", .array(groupRows.map { .number("\($0)") }))]))
    }

    // MARK: Files they write, read by us

    func testWeReadPyArrowAndDuckDBFiles() throws {
        let directory = try makeTemporaryDirectory()
        let (status, output) = try run(["write_theirs.py", directory.path])
        XCTAssertEqual(status, 0, output)
        let manifestBytes = Array(try Data(contentsOf: directory.appendingPathComponent("manifest.json")))
        guard case .object(let manifest) = try JSONParser.parse(manifestBytes, depthMax: 8),
              case .array(let files) = manifest["files"], case .object(let columns) = manifest["columns"] else {
            return XCTFail("bad manifest")
        }
        var pageKinds: [String: Set<String>] = [:]
        for case .string(let file) in files {
            let reader = try ParquetFileReader(path: directory.appendingPathComponent(file).path)
            XCTAssertGreaterThan(reader.rowGroups.count, 1, file)
            for group in reader.rowGroups.indices {
                for column in reader.schema.columns.indices {
                    let pages = try reader.pages(rowGroup: group, column: column)
                    let kinds = Set(pages.map { "\($0.kind.rawValue):\($0.encoding)" })
                    pageKinds[file, default: []].formUnion(kinds)
                    if kinds.contains("dictionary:PLAIN") && kinds.contains("dataV1:PLAIN") || kinds.contains("dataV2:PLAIN") && kinds.contains("dictionary:PLAIN") {
                        pageKinds[file, default: []].insert("mixed")
                    }
                }
            }
            let read = try readAllValues(reader)
            for (name, spec) in columns.pairs {
                guard let index = reader.schema.index(of: name) else { XCTFail("\(file): no column \(name)"); continue }
                guard case .object(let spec) = spec, case .array(let values) = spec["values"] else { continue }
                let column = read[index]
                XCTAssertEqual(column.kind.rawValue, spec["kind"]?.stringValue, "\(file) \(name)")
                XCTAssertEqual(column.count, values.count, "\(file) \(name)")
                for (row, value) in values.enumerated() where !matches(column, row, value) {
                    XCTFail("\(file) \(name) row \(row): read \(describe(column, row)), expected \(value)")
                    break
                }
            }
        }
        // The variants must really exercise the paths they are named for.
        print("page kinds per file: \(pageKinds.mapValues { $0.sorted() })")
        XCTAssertTrue(pageKinds["pyarrow-v2.parquet"]?.contains("dataV2:RLE_DICTIONARY") == true)
        XCTAssertTrue(pageKinds["pyarrow-v1.parquet"]?.contains("dataV1:RLE_DICTIONARY") == true)
        XCTAssertTrue(pageKinds["pyarrow-fallback.parquet"]?.contains("mixed") == true)
        XCTAssertTrue(pageKinds["pyarrow-fallback-v2.parquet"]?.contains("mixed") == true)
        XCTAssertFalse(pageKinds["pyarrow-plain.parquet"]?.contains { $0.hasPrefix("dictionary") } ?? true)
        let reader = try ParquetFileReader(path: directory.appendingPathComponent("snappy.parquet").path)
        XCTAssertThrowsError(try reader.readColumn(rowGroup: 0, column: 0)) { error in
            XCTAssertEqual((error as? ParquetError)?.code, .unsupported)
            XCTAssertTrue("\(error)".contains("SNAPPY"), "\(error)")
        }
    }

    private func matches(_ column: ColumnData, _ row: Int, _ value: JSONValue) -> Bool {
        switch value {
        case .null: return !column.isValid(row)
        case .string(let text): return column.string(at: row) == text
        case .bool(let flag): return column.bool(at: row) == flag
        case .number(let text):
            if column.kind == .double { return column.double(at: row) == Double(text) }
            return column.int64(at: row) == Int64(text)
        default: return false
        }
    }

    private func describe(_ column: ColumnData, _ row: Int) -> String {
        switch column.kind {
        case .string: return String(describing: column.string(at: row))
        case .int64, .timestamp: return String(describing: column.int64(at: row))
        case .bool: return String(describing: column.bool(at: row))
        case .double: return String(describing: column.double(at: row))
        }
    }

    // MARK: Process

    private func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [interopDirectory.appendingPathComponent(arguments[0]).path] + arguments.dropFirst()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
