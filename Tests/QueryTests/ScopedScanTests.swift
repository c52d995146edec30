import XCTest
import Logging
@testable import Query

/// `QueryEngine.scan` (the engine's scan for what SQL cannot express) applies the access
/// scope as a query does: rows of another project are never handed out, even from a unit
/// that mixes projects, and units whose statistics miss the window are skipped.
final class ScopedScanTests: XCTestCase {
    private func engine() -> QueryEngine {
        let mixed = InMemoryScanUnit(name: "mixed", rowCount: 4, columns: [
            "project_id": .strings(["a", "b", "a", nil]),
            "received_at": .timestamps([10, 20, 30, 40]),
            "site_key": .strings(["s1", "s2", "s3", "s4"]),
        ])
        let late = InMemoryScanUnit(name: "late", rowCount: 1, partitionValues: ["project_id": "a"], columns: [
            "project_id": .strings(["a"]), "received_at": .timestamps([1_000]), "site_key": .strings(["s5"]),
        ])
        let catalog = InMemoryCatalog(tables: [InMemoryTable(schema: .events, units: [mixed, late])])
        return QueryEngine(catalog: catalog, logger: Logger(label: "test"))
    }

    private func scanned(_ scope: AccessScope, within: (String, Int64, Int64)? = nil) throws -> [String] {
        var keys: [String] = []
        try engine().scan(table: "events", columns: ["site_key"], scope: scope, within: within) { unit in
            keys += unit.rows.map { unit.columns["site_key"]!.string(at: $0)! }
        }
        return keys
    }

    func testScopeHidesOtherProjectsRows() throws {
        XCTAssertEqual(try scanned(.project("a")), ["s1", "s3", "s5"])
        XCTAssertEqual(try scanned(.project("b")), ["s2"])
        XCTAssertEqual(try scanned(.project("nobody")), [])
        XCTAssertEqual(try scanned(.all), ["s1", "s2", "s3", "s4", "s5"])
    }

    func testUnitsOutsideTheWindowAreSkipped() throws {
        XCTAssertEqual(try scanned(.project("a"), within: ("received_at", 500, 2_000)), ["s5"])
        XCTAssertEqual(try scanned(.project("a"), within: ("received_at", 0, 35)), ["s1", "s3"],
                       "a unit that overlaps the window hands out all its visible rows")
    }
}
