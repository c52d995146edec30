import Core
import Foundation
import XCTest
@testable import ColumnStore

/// Files carry `project_id` and sit in `project=<id>` folders; a warehouse of the first layout
/// (`project_id=<id>` folders, no `project_id` column) is rewritten by its next compaction.
final class WarehouseRelayoutTests: XCTestCase {
    func compactOptions() -> Compactor.Options {
        var options = Compactor.Options()
        options.chunkEventsMax = 400
        options.segmentRowsTarget = 100_000
        options.rowGroupRows = 256
        options.replacedRetentionSeconds = 0
        return options
    }

    func testEveryFileHoldsItsProjectIDInTheCurrentLayout() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 60, weeks: 3, seed: 4)
        _ = try Compactor(dataDirectory: directory, options: compactOptions(), logger: quietLogger).run()
        let layout = WarehouseLayout(dataDirectory: directory)
        let state = try WarehouseLog.load(layout: layout)
        XCTAssertFalse(state.segments.isEmpty)
        for segment in state.segments.values {
            XCTAssertTrue(segment.path.hasPrefix("\(segment.table.rawValue)/project=\(segment.projectID)/"), segment.path)
            try assertProjectColumn(layout.absolute(segment.path), equals: segment.projectID, table: segment.table)
        }
    }

    func testFirstLayoutIsRewrittenByTheNextCompaction() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 60, weeks: 3, seed: 5)
        _ = try Compactor(dataDirectory: directory, options: compactOptions(), logger: quietLogger).run()
        let layout = WarehouseLayout(dataDirectory: directory)
        let wantEvents = try WarehouseTestSupport.tableRows(directory, .events)
        let wantSites = try WarehouseTestSupport.tableRows(directory, .sites)
        try downgradeToFirstLayout(layout)

        // The first layout reads the same (columns by name, project_id from the log).
        let legacy = try WarehouseLog.load(layout: layout)
        XCTAssertTrue(legacy.segments.values.allSatisfy { WarehouseLayout.isLegacy($0.path) })
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .events), wantEvents)
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .sites), wantSites)

        let report = try Compactor(dataDirectory: directory, options: compactOptions(), logger: quietLogger).run()
        XCTAssertEqual(report.eventsOut, 0, "no raw line is compacted twice")
        let state = try WarehouseLog.load(layout: layout)
        XCTAssertEqual(state.segments.count, legacy.segments.count)
        for segment in state.segments.values {
            XCTAssertFalse(WarehouseLayout.isLegacy(segment.path), segment.path)
            try assertProjectColumn(layout.absolute(segment.path), equals: segment.projectID, table: segment.table)
        }
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .events), wantEvents)
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .sites), wantSites)
        // The old folders are gone (no replaced copies are kept in this test).
        for table in ["events", "sites"] {
            let leftovers = try FileManager.default.subpathsOfDirectory(atPath: layout.root + "/" + table)
                .filter { $0.hasPrefix("project_id=") }
            XCTAssertEqual(leftovers, [], table)
        }
        // A second run has nothing left to rewrite.
        let again = try Compactor(dataDirectory: directory, options: compactOptions(), logger: quietLogger).run()
        XCTAssertEqual(again.commits, 0)
    }

    func assertProjectColumn(_ path: String, equals projectID: String, table: SegmentEntry.Table,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let reader = try ParquetFileReader(path: path)
        let names = reader.schema.columns.map(\.name)
        let expected = (table == .events ? TableSchema.events.columns : TableSchema.sites.columns).map(\.name)
        XCTAssertEqual(names, expected, "a file holds every column in CONTRACT order", file: file, line: line)
        let index = try XCTUnwrap(reader.schema.index(of: "project_id"))
        for group in 0..<reader.rowGroups.count {
            let column = try reader.readColumn(rowGroup: group, column: index)
            XCTAssertEqual(column.count, reader.rowGroups[group].rowCount, file: file, line: line)
            XCTAssertEqual(Set((0..<column.count).map { column.string(at: $0) }), [projectID], file: file, line: line)
        }
    }

    /// Rewrites every live file as the first layout wrote it (no `project_id` column, in a
    /// `project_id=` folder) and commits the swap, keeping the raw progress.
    func downgradeToFirstLayout(_ layout: WarehouseLayout) throws {
        let state = try WarehouseLog.load(layout: layout)
        var commit = WarehouseCommit(version: state.version + 1, timestampMicros: UTCTime.nowMicros(), operation: .merge)
        for segment in state.segments.values {
            let columns = segment.table == .events ? TableSchema.events.columns : TableSchema.sites.columns
            let kept = columns.indices.filter { columns[$0].name != "project_id" }
            let schema = ParquetSchema(kept.map { ParquetColumn(name: columns[$0].name, kind: columns[$0].kind, isOptional: true) })
            let legacyPath = segment.path.replacingOccurrences(of: "/project=", with: "/project_id=")
            let target = layout.absolute(legacyPath)
            try FileManager.default.createDirectory(atPath: FileIO.parentDirectory(target), withIntermediateDirectories: true)
            let reader = try ParquetFileReader(path: layout.absolute(segment.path))
            let writer = try ParquetWriter(path: target, schema: schema, options: ParquetWriter.Options())
            for group in 0..<reader.rowGroups.count {
                let data = try reader.readRowGroup(group)
                try writer.write(rowGroup: kept.map { data[reader.schema.index(of: columns[$0].name)!] })
            }
            try writer.close()
            var moved = segment
            moved.path = legacyPath
            moved.bytes = FileIO.fileSize(target) ?? 0
            commit.add.append(moved)
            commit.remove.append(segment.path)
        }
        try WarehouseLog.append(commit, layout: layout)
        for path in commit.remove { try FileManager.default.removeItem(atPath: layout.absolute(path)) }
    }
}
