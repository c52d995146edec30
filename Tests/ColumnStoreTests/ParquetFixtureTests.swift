import Foundation
import XCTest
@testable import ColumnStore

/// Format compatibility: a file written by an earlier version of our writer must keep
/// reading with the same values. Regenerate only on purpose:
/// `TRACKHOUSE_REGENERATE_FIXTURES=1 swift test --filter ParquetFixtureTests`.
final class ParquetFixtureTests: XCTestCase {
    static let schema = ParquetSchema([
        ParquetColumn(name: "event_id", kind: .string, isOptional: false),
        ParquetColumn(name: "received_at", kind: .timestamp),
        ParquetColumn(name: "php_version", kind: .string),
        ParquetColumn(name: "php_curl", kind: .bool),
        ParquetColumn(name: "users_total", kind: .int64),
        ParquetColumn(name: "score", kind: .double),
    ])
    static let eventIds: [String?] = ["e1", "e2", "e3", "e4", "e5", "e6"]
    static let receivedAt: [Int64?] = [1_735_689_600_000_000, nil, 1_735_689_601_500_000, 1_735_776_000_000_001, nil, -1]
    static let phpVersions: [String?] = ["8.1", "8.1", nil, "7.4", "8.3", "ÿ-ü"]
    static let phpCurl: [Bool?] = [true, false, nil, true, nil, false]
    static let usersTotal: [Int64?] = [1, nil, 42, Int64.max, Int64.min, 0]
    static let scores: [Double?] = [0.5, -1.25, nil, 1e300, 0, nil]

    static var columns: [ColumnData] {
        [.strings(eventIds), .timestamps(receivedAt), .strings(phpVersions), .bools(phpCurl), .int64(usersTotal), .doubles(scores)]
    }

    private var sourceFixturePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/v1-events.parquet").path
    }

    func testRegenerateFixtureWhenAsked() throws {
        guard ProcessInfo.processInfo.environment["TRACKHOUSE_REGENERATE_FIXTURES"] == "1" else {
            throw XCTSkip("set TRACKHOUSE_REGENERATE_FIXTURES=1 to rewrite Fixtures/v1-events.parquet")
        }
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 4 // two row groups
        options.keyValueMetadata = ["trackhouse.table": "events"]
        try ParquetWriter.writeFileAtomically(path: sourceFixturePath, schema: Self.schema, rowGroups: [Self.columns], options: options)
    }

    func testFixtureStillReads() throws {
        guard let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            return XCTFail("Fixtures folder missing from the test bundle")
        }
        let reader = try ParquetFileReader(path: fixtures.appendingPathComponent("v1-events.parquet").path)
        XCTAssertEqual(reader.schema, Self.schema)
        XCTAssertEqual(reader.rowCount, 6)
        XCTAssertEqual(reader.rowGroups.map(\.rowCount), [4, 2])
        XCTAssertEqual(reader.keyValueMetadata["trackhouse.table"], "events")
        XCTAssertEqual(reader.createdBy, "trackhouse version 0.1.0")
        let read = try readAllValues(reader)
        XCTAssertEqual(read[0].stringValues, Self.eventIds)
        XCTAssertEqual(read[1].int64Values, Self.receivedAt)
        XCTAssertEqual(read[2].stringValues, Self.phpVersions)
        XCTAssertEqual(read[3].boolValues, Self.phpCurl)
        XCTAssertEqual(read[4].int64Values, Self.usersTotal)
        XCTAssertEqual(read[5].doubleValues, Self.scores)
        let versions = reader.rowGroups[0].columns[2]
        XCTAssertEqual(versions.min?.string, "7.4")
        XCTAssertEqual(versions.max?.string, "8.1")
        XCTAssertEqual(versions.nullCount, 1)
        XCTAssertEqual(reader.rowGroups[1].columns[2].max?.string, "ÿ-ü")
        XCTAssertEqual(reader.rowGroups[0].columns[4].max, .int64(Int64.max))
    }
}
