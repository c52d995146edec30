import Core
import Foundation
import XCTest
@testable import ColumnStore

/// Step 8's merge of a partition's small segments (Compactor+Merge): copying the row groups of
/// segments that follow one another in time (2a) gives the table the full decode-sort-encode
/// merge (2b, the reference) gives; segments that overlap take the full merge.
final class SegmentMergeTests: XCTestCase {
    static let source: String = {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory("segment-merge-source")
        try! WarehouseTestSupport.generate(into: directory, sites: 300, weeks: 8, seed: 9)
        return directory
    }()

    /// Chunks of ~300 events (one segment each), merged into month files.
    static func options(byCopy: Bool) -> Compactor.Options {
        var options = Compactor.Options()
        options.chunkEventsMax = 300
        options.segmentRowsTarget = 100_000
        options.rowGroupRows = 1024
        options.mergeByCopy = byCopy
        return options
    }

    /// Row counts of each live events file's row groups.
    static func rowGroups(_ directory: String) throws -> [[Int]] {
        let layout = WarehouseLayout(dataDirectory: directory)
        return try WarehouseLog.load(layout: layout).segments(table: .events).map { segment in
            try ParquetFileReader(path: layout.committedPath(segment.path)).rowGroups.map(\.rowCount)
        }
    }

    func testCopyingRowGroupsEqualsTheFullMerge() throws {
        let copied = try WarehouseTestSupport.copyOfRawData(Self.source, "copied")
        let full = try WarehouseTestSupport.copyOfRawData(Self.source, "full")
        let copiedReport = try Compactor(dataDirectory: copied, options: Self.options(byCopy: true), logger: quietLogger).run()
        let fullReport = try Compactor(dataDirectory: full, options: Self.options(byCopy: false), logger: quietLogger).run()
        XCTAssertGreaterThan(copiedReport.segmentsMerged, 10)
        XCTAssertEqual(copiedReport.segmentsMerged, fullReport.segmentsMerged)
        XCTAssertEqual(try WarehouseTestSupport.tableRows(copied, .events), try WarehouseTestSupport.tableRows(full, .events))
        XCTAssertEqual(try WarehouseTestSupport.tableRows(copied, .sites), try WarehouseTestSupport.tableRows(full, .sites))
        // The copy kept each chunk's row group (a few hundred rows); the full merge re-cut them.
        let copiedGroups = try Self.rowGroups(copied), fullGroups = try Self.rowGroups(full)
        XCTAssertGreaterThan(copiedGroups.map(\.count).reduce(0, +), fullGroups.map(\.count).reduce(0, +))
        XCTAssertTrue(fullGroups.allSatisfy { $0.dropLast().allSatisfy { $0 == 1024 } })
        // Each copied file is sorted by (received_at, event_id), as the full merge's.
        let layout = WarehouseLayout(dataDirectory: copied)
        for segment in try WarehouseLog.load(layout: layout).segments(table: .events) {
            let reader = try ParquetFileReader(path: layout.committedPath(segment.path))
            var previous: (Int64, String)? = nil
            for group in reader.rowGroups.indices {
                let times = try reader.readColumn(rowGroup: group, name: "received_at"), ids = try reader.readColumn(rowGroup: group, name: "event_id")
                for row in 0..<times.count {
                    let key = (times.int64(at: row)!, ids.string(at: row)!)
                    if let previous { XCTAssertTrue(previous < key, segment.path) }
                    previous = key
                }
            }
        }
        // The erase index was written for every merged file, from the copied rows' keys.
        for segment in try WarehouseLog.load(layout: layout).segments(table: .events) {
            XCTAssertNotNil(SubjectKeyIndex.loadSegment(dataDirectory: copied, segment), segment.path)
        }
    }

    func testSegmentsThatOverlapInTimeTakeTheFullMerge() throws {
        let directory = try WarehouseTestSupport.copyOfRawData(Self.source)
        _ = try Compactor(dataDirectory: directory, options: Self.options(byCopy: true), logger: quietLogger).run()
        let layout = WarehouseLayout(dataDirectory: directory)
        let segments = try WarehouseLog.load(layout: layout).segments(table: .events).sorted { $0.receivedAtMin < $1.receivedAtMin }
        let readers = try segments.map { try ParquetFileReader(path: layout.committedPath($0.path)) }
        let sameMonth = Array(zip(segments, readers).filter { $0.0.month == segments[0].month && $0.0.projectID == segments[0].projectID })
        XCTAssertTrue(Compactor.followInTime(sameMonth.map(\.0), sameMonth.map(\.1)) || sameMonth.count < 2)
        if let first = sameMonth.first {
            // The same file twice overlaps itself: no copy.
            XCTAssertFalse(Compactor.followInTime([first.0, first.0], [first.1, first.1]))
            // A log range that disagrees with the row groups' statistics: no copy.
            var shifted = first.0
            shifted.receivedAtMin += 1
            XCTAssertFalse(Compactor.followInTime([shifted], [first.1]))
        }
    }
}
