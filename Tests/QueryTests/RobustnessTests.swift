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
}
