import Foundation
import Logging
import XCTest
@testable import Query

/// Malformed input must end in a `QueryError`, never a crash: every statement of the
/// `.test` files cut at every position, and with tokens dropped.
final class RobustnessTests: XCTestCase {
    func testTruncatedAndMangledStatementsOnlyThrowQueryErrors() throws {
        let engine = QueryEngine(catalog: TestDataset.shared.catalog, options: QueryOptions(threadsMax: 2),
                                 logger: Logger(label: "query-tests"))
        var statements: [String] = []
        for url in try SQLTestFile.all() { statements += try SQLTestFile.parse(url).map(\.sql) }
        var executed = 0
        func attempt(_ sql: String) {
            do {
                let prepared = try engine.prepare(sql: sql)
                if executed < 3000 {
                    executed += 1
                    _ = try engine.execute(prepared)
                }
            } catch is QueryError {
            } catch {
                XCTFail("\(sql): non-QueryError \(error)")
            }
        }
        for sql in statements {
            let characters = Array(sql)
            for cut in stride(from: 0, to: characters.count, by: 3) { attempt(String(characters[..<cut])) }
            let words = sql.split(separator: " ")
            for dropped in words.indices {
                var mangled = words
                mangled.remove(at: dropped)
                attempt(mangled.joined(separator: " "))
            }
        }
        XCTAssertGreaterThan(executed, 100)
    }

    /// Expressions nested or chained far past any real query end in a syntax error naming the
    /// limit instead of overflowing the stack (parser, binder, executor and even freeing the
    /// tree recurse per level), and queries at the limits still run. Async, so the queries run
    /// on a concurrency pool thread, as `POST /api/v1/query` does, in the debug build CI uses.
    func testDeepExpressionsAreRefusedWithoutOverflowingTheStack() async throws {
        let engine = QueryEngine(catalog: TestDataset.shared.catalog, options: QueryOptions(threadsMax: 2),
                                 logger: Logger(label: "query-tests"))
        func repeated(_ text: String, _ count: Int) -> String { String(repeating: text, count: count) }
        let hostile: [(sql: String, limit: String)] = [
            ("SELECT " + repeated("(", 100_000) + "1" + repeated(")", 100_000), "256 levels"),
            ("SELECT count(*) FROM events WHERE " + repeated("NOT ", 100_000) + "is_local", "256 levels"),
            ("SELECT " + repeated("-", 1) + repeated(" -", 50_000) + "1", "256 levels"),
            ("SELECT " + repeated("lower(", 5_000) + "site_key" + repeated(")", 5_000) + " FROM events", "256 levels"),
            ("SELECT " + repeated("CASE WHEN users_total > 1 THEN ", 20_000) + "1" + repeated(" END", 20_000) + " FROM events",
             "256 levels"),
            ("SELECT 1" + repeated(" + users_total", 200_000) + " FROM events", "1000 operators"),
            ("SELECT count(*) FROM events WHERE users_total = 0" + repeated(" OR users_total = 1", 50_000), "1000 operators"),
            ("SELECT users_total" + repeated("::BIGINT", 5_000) + " FROM events", "1000 operators"),
            ("SELECT count(*) FROM events WHERE site_key" + repeated(" IS NULL", 5_000), "1000 operators"),
        ]
        for (sql, limit) in hostile {
            do {
                _ = try engine.execute(sql: sql)
                XCTFail("accepted: \(sql.prefix(60))…")
            } catch let error as QueryError {
                XCTAssertEqual(error.code, .syntax, "\(sql.prefix(60))…")
                XCTAssertTrue(error.message.contains(limit), "\(error.message) for \(sql.prefix(60))…")
            }
        }
        let atTheLimits = [
            "SELECT " + repeated("(", 250) + "users_total" + repeated(")", 250) + " FROM events",
            "SELECT " + repeated("lower(", 250) + "site_key" + repeated(")", 250) + " FROM events",
            "SELECT count(*) FROM events WHERE " + repeated("NOT ", 250) + "is_local",
            "SELECT sum(1" + repeated(" + users_total", 990) + ") FROM events",
            "SELECT count(*) FROM events WHERE users_total = 0" + repeated(" OR users_total = 1", 990),
        ]
        for sql in atTheLimits {
            XCTAssertNoThrow(try engine.execute(sql: sql), "\(sql.prefix(60))…")
        }
    }

    /// Found by Fuzz/sql: a TIMESTAMP literal or cast with a six-digit year past Int64
    /// microseconds (the last one is 294247-01-10 04:00:54.775807) trapped on the
    /// multiplication; it is a conversion error now, as in DuckDB.
    func testTimestampsBeyondInt64MicrosAreConversionErrors() throws {
        let engine = QueryEngine(catalog: TestDataset.shared.catalog, options: QueryOptions(threadsMax: 1),
                                 logger: Logger(label: "query-tests"))
        for sql in ["SELECT TIMESTAMP '444052-01-04 23:59:59'", "SELECT TIMESTAMP '294247-01-10 04:00:55'",
                    "SELECT TIMESTAMP '294247-01-10 04:00:54.775807-01:00'", "SELECT CAST('999999-12-31' AS TIMESTAMP)"] {
            XCTAssertThrowsError(try engine.execute(sql: sql), sql) { error in
                XCTAssertEqual((error as? QueryError)?.code, .conversion, sql)
            }
        }
        XCTAssertEqual(parseTimestamp("294247-01-10 04:00:54.775807"), Int64.max)
        XCTAssertEqual(parseTimestamp("294247-01-10 04:00:54.775807+01:00"), Int64.max - 3_600_000_000)
    }
}
