import Foundation
import Logging
import XCTest
@testable import Query

/// Runs every `sql/*.test` file against the in-memory dataset; see `SQLTestCase` for the
/// file format. With `TRACKHOUSE_PYTHON` set (as `make test` does) the same queries are
/// also compared with DuckDB; with `QUERY_TESTS_RECORD=1` too, DuckDB's answers are
/// written into the files as the expected rows (review the diff before committing).
final class SQLLogicTests: XCTestCase {
    static let dataset = TestDataset.shared

    func makeEngine(threads: Int = 3) -> QueryEngine {
        QueryEngine(catalog: Self.dataset.catalog, options: QueryOptions(threadsMax: threads),
                    logger: Logger(label: "query-tests"))
    }

    func testSQLFiles() throws {
        let engine = makeEngine()
        var checked = 0
        for url in try SQLTestFile.all() {
            for testCase in try SQLTestFile.parse(url) {
                checked += 1
                check(testCase, engine: engine)
            }
        }
        XCTAssertGreaterThan(checked, 50, "expected the sql/*.test files to hold many cases")
    }

    /// The same files on one thread: results must not depend on the schedule.
    func testSQLFilesSingleThreaded() throws {
        let engine = makeEngine(threads: 1)
        for url in try SQLTestFile.all() {
            for testCase in try SQLTestFile.parse(url) where testCase.kind == .query { check(testCase, engine: engine) }
        }
    }

    private func check(_ testCase: SQLTestCase, engine: QueryEngine) {
        let location = "\(testCase.file):\(testCase.line)"
        let scope = testCase.scope.map(AccessScope.project) ?? .all
        switch testCase.kind {
        case .query:
            do {
                let result = try engine.execute(sql: testCase.sql, scope: scope)
                let actual = testLines(result, rowSort: testCase.rowSort)
                if actual != testCase.expected {
                    XCTFail("\(location): wrong result for\n\(testCase.sql)\nexpected:\n"
                                + testCase.expected.joined(separator: "\n") + "\nactual:\n" + actual.joined(separator: "\n"))
                }
            } catch {
                XCTFail("\(location): \(testCase.sql)\nfailed: \(error)")
            }
        case .statementError:
            do {
                let result = try engine.execute(sql: testCase.sql, scope: scope)
                XCTFail("\(location): expected an error for\n\(testCase.sql)\ngot \(result.rowCount) rows")
            } catch let error as QueryError {
                let text = error.description
                for needle in testCase.expected where !text.contains(needle) {
                    XCTFail("\(location): error for\n\(testCase.sql)\nis \"\(text)\"\nwhich lacks \"\(needle)\"")
                }
            } catch {
                XCTFail("\(location): non-QueryError \(error)")
            }
        case .explain:
            do {
                let result = try engine.execute(sql: testCase.sql, scope: scope)
                let lines = result.rows.map { testText($0[0]) }
                for needle in testCase.expected where !lines.contains(where: { $0.contains(needle) }) {
                    XCTFail("\(location): EXPLAIN of\n\(testCase.sql)\nlacks \"\(needle)\":\n" + lines.joined(separator: "\n"))
                }
            } catch {
                XCTFail("\(location): \(testCase.sql)\nfailed: \(error)")
            }
        }
    }

    /// Differential test: every plain `query` case must give DuckDB's rows.
    func testDifferentialAgainstDuckDB() throws {
        guard let python = DuckDBOracle.python else { throw XCTSkip("TRACKHOUSE_PYTHON is not set") }
        let engine = makeEngine()
        var cases: [SQLTestCase] = []
        for url in try SQLTestFile.all() {
            cases += try SQLTestFile.parse(url).filter { $0.kind == .query && !$0.noDiff && $0.scope == nil }
        }
        let answers = try DuckDBOracle.run(cases.map(\.sql), dataset: Self.dataset, python: python)
        let record = ProcessInfo.processInfo.environment["QUERY_TESTS_RECORD"] == "1"
        var recordings: [String: [(SQLTestCase, [String])]] = [:]
        for (testCase, answer) in zip(cases, answers) {
            let location = "\(testCase.file):\(testCase.line)"
            guard var expected = answer.rows?.map({ $0.joined(separator: "\t") }) else {
                XCTFail("\(location): DuckDB failed on\n\(testCase.sql)\n\(answer.error ?? "")")
                continue
            }
            if testCase.rowSort { expected.sort() }
            if record { recordings[testCase.file, default: []].append((testCase, expected)) }
            do {
                let actual = testLines(try engine.execute(sql: testCase.sql), rowSort: testCase.rowSort)
                if actual != expected {
                    XCTFail("\(location): differs from DuckDB for\n\(testCase.sql)\nDuckDB:\n"
                                + expected.joined(separator: "\n") + "\nours:\n" + actual.joined(separator: "\n"))
                }
            } catch {
                XCTFail("\(location): \(testCase.sql)\nfailed: \(error)")
            }
        }
        if record { try write(recordings) }
    }

    private func write(_ recordings: [String: [(SQLTestCase, [String])]]) throws {
        for (file, entries) in recordings {
            let url = SQLTestFile.directory.appendingPathComponent(file)
            var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
            for (testCase, expected) in entries.sorted(by: { $0.0.expectedLines.lowerBound > $1.0.expectedLines.lowerBound }) {
                lines.replaceSubrange(testCase.expectedLines, with: expected)
            }
            try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        }
    }
}
