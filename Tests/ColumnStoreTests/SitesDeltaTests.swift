import Core
import Foundation
import XCTest
@testable import ColumnStore

/// `sites` as a base plus deltas (Compactor+Sites, SitesLayers): many small commits give the
/// table a single full rebuild gives; a fold changes no row and leaves one base per project;
/// the erase and retention see the merged rows; a fold killed at any point finishes on the
/// rerun; DuckDB's one-line view over `sites*/` reads the same table.
final class SitesDeltaTests: XCTestCase {
    /// Small chunks (a commit per ~200 events) and a policy that never folds: deltas pile up.
    static func deltaOptions() -> Compactor.Options {
        var options = Compactor.Options()
        options.chunkEventsMax = 200
        options.segmentRowsTarget = 2000
        options.rowGroupRows = 1024
        options.sitesFold.foldAtEnd = false
        options.sitesFold.deltaRowsRatioMax = 1_000
        options.sitesFold.deltasMax = 10_000
        options.sitesFold.deltaAgeSecondsMax = 1_000_000
        // Several row groups per file, so the lookups' min/max pruning is exercised.
        options.sitesFold.rowGroupRowsMax = 64
        return options
    }

    static let source: String = {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory("sites-delta-source")
        try! WarehouseTestSupport.generate(into: directory, sites: 300, weeks: 8, seed: 5)
        return directory
    }()

    /// The reference: one default run (no delta ever: the first commit of a project is a base).
    func reference() throws -> String {
        let directory = try WarehouseTestSupport.copyOfRawData(Self.source)
        _ = try Compactor(dataDirectory: directory, logger: quietLogger).run()
        let state = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory))
        XCTAssertEqual(state.segments(table: .sitesDelta), [])
        return directory
    }

    func withDeltas() throws -> (String, CompactionReport) {
        let directory = try WarehouseTestSupport.copyOfRawData(Self.source)
        let report = try Compactor(dataDirectory: directory, options: Self.deltaOptions(), logger: quietLogger).run()
        return (directory, report)
    }

    func testManySmallCommitsEqualAFullRebuild() throws {
        let reference = try reference()
        let (directory, report) = try withDeltas()
        XCTAssertGreaterThan(report.sitesDeltas, 20)
        XCTAssertEqual(report.sitesSnapshots, 3, "one base per project, from its first commit")
        let state = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory))
        let deltas = state.segments(table: .sitesDelta)
        XCTAssertEqual(deltas.count, report.sitesDeltas)
        XCTAssertTrue(deltas.allSatisfy { $0.path.hasPrefix("sites-delta/project=\($0.projectID)/delta-") })
        // A delta holds only the sites its commit touched, never the project's whole table.
        let merged = try WarehouseTestSupport.tableRows(reference, .sites)
        for delta in deltas {
            XCTAssertLessThan(delta.rows, merged.filter { $0.split(separator: "|")[2] == Substring(delta.projectID) }.count, delta.path)
        }
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .sites), try WarehouseTestSupport.tableRows(reference, .sites))
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .events), try WarehouseTestSupport.tableRows(reference, .events))
        // The readers' merged view: every site once.
        let snapshot = try WarehouseReader(dataDirectory: directory).snapshot()
        let total = try snapshot.projectIDs.reduce(0) { $0 + (try snapshot.sitesRowCount(projectID: $1)) }
        XCTAssertEqual(total, try WarehouseTestSupport.tableRows(reference, .sites).count)
        XCTAssertEqual(try state.sitesRowCount(layout: WarehouseLayout(dataDirectory: directory)), total)
    }

    /// Step 4 of `SitesLayers`: each delta names the base rows it replaces, and the selection
    /// from those lists (the base's keys unread) equals the reference reading the keys.
    func testDeltasNameReplacedBaseRowsAndTheSelectionEqualsTheKeysReference() throws {
        let (directory, report) = try withDeltas()
        XCTAssertGreaterThan(report.sitesDeltas, 20)
        let layout = WarehouseLayout(dataDirectory: directory)
        let state = try WarehouseLog.load(layout: layout)
        func described(_ selections: [SitesRowGroupSelection]) -> [String] {
            selections.map { "\($0.file.path) \($0.rowGroup) \($0.rowCount) \($0.rows.map { "\($0)" } ?? "all")" }
        }
        var hiddenTotal = 0
        for projectID in Set(state.segments.values.map(\.projectID)).sorted() {
            let layers = try state.sitesLayers(projectID: projectID).map { (file: $0, reader: try ParquetFileReader(path: layout.absolute($0.path))) }
            XCTAssertGreaterThan(layers.count, 1, projectID)
            for delta in layers.dropFirst() {
                XCTAssertEqual(delta.reader.keyValueMetadata[SitesDeltaReplacedRows.baseKey], layers[0].file.path, delta.file.path)
            }
            let hidden = try XCTUnwrap(SitesLayers.baseReplacedRows(layers), projectID)
            hiddenTotal += hidden.reduce(0) { $0 + $1.count }
            XCTAssertEqual(described(try SitesLayers.selections(layers)), described(try SitesLayers.selections(layers, replacedRows: false)), projectID)
            // A base other than the one the deltas name: the keys decide (step 2).
            var renamed = layers
            renamed[0].file.path += ".other"
            XCTAssertNil(SitesLayers.baseReplacedRows(renamed))
        }
        XCTAssertGreaterThan(hiddenTotal, 0, "later weeks' commits replace base rows")
    }

    /// Footer lists that are not ascending rows of the named base are refused, never trusted.
    func testReplacedRowListsDecodeOnlyWhenValid() {
        let metadata = SitesDeltaReplacedRows.metadata(basePath: "sites/project=a/snapshot-1.parquet", rows: [0, 5, 300, 70_000])
        XCTAssertEqual(SitesDeltaReplacedRows.rows(of: metadata, basePath: "sites/project=a/snapshot-1.parquet", baseRowCount: 70_001), [0, 5, 300, 70_000])
        XCTAssertNil(SitesDeltaReplacedRows.rows(of: metadata, basePath: "sites/project=a/snapshot-1.parquet", baseRowCount: 70_000), "a row past the base")
        XCTAssertNil(SitesDeltaReplacedRows.rows(of: metadata, basePath: "sites/project=a/snapshot-2.parquet", baseRowCount: 70_001), "another base")
        XCTAssertEqual(SitesDeltaReplacedRows.metadata(basePath: "b", rows: [3, 3]), [:], "not ascending: nothing named")
        for garbage in ["", "!!!", "gA==", "AAAA", "/////////////w=="] {
            var damaged = metadata
            damaged[SitesDeltaReplacedRows.rowsKey] = garbage
            let rows = SitesDeltaReplacedRows.rows(of: damaged, basePath: "sites/project=a/snapshot-1.parquet", baseRowCount: 70_001)
            XCTAssertTrue(rows == nil || rows == [], garbage)
        }
    }

    func testFoldLeavesOneBaseWithTheSameRowsAndBoundsReplacedCopies() throws {
        let (directory, _) = try withDeltas()
        let before = try WarehouseTestSupport.tableRows(directory, .sites)
        var options = Compactor.Options()
        options.replacedFilesMax = 5
        let report = try Compactor(dataDirectory: directory, options: options, logger: quietLogger).run()
        XCTAssertEqual(report.sitesFolds, 3)
        XCTAssertEqual(report.commits, 1, "one merge commit folds every project")
        let state = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory))
        XCTAssertEqual(state.segments(table: .sitesDelta), [])
        XCTAssertEqual(state.segments(table: .sites).count, 3)
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .sites), before)
        let root = directory + "/warehouse/"
        XCTAssertEqual(FileIO.walkFiles(root + "sites-delta").filter { $0.hasSuffix(".parquet") }, [])
        func hidden() -> [String] {
            WarehouseLayout.tableFolders.flatMap { FileIO.walkFiles(root + $0, includeHidden: true) }
                .filter { FileIO.lastComponent($0).hasPrefix(WarehouseLayout.replacedPrefix) }
        }
        // The fold replaced 3 bases and every delta: the run itself kept only the newest 5 copies.
        XCTAssertEqual(hidden().count, 5, "bounded within the run, not only by the next run's recovery")
        // So does the next run's recovery, and a byte bound keeps fewer.
        _ = try Compactor(dataDirectory: directory, options: options, logger: quietLogger).run()
        XCTAssertLessThanOrEqual(hidden().count, 5)
        options.replacedBytesMax = 1
        _ = try Compactor(dataDirectory: directory, options: options, logger: quietLogger).run()
        XCTAssertEqual(hidden(), [], "no copy fits in one byte")
    }

    /// The fold on two threads (Compactor+SitesFold: key ranges merged apart, their row
    /// groups concatenated) writes the rows the one-thread fold writes, cut where it must be.
    func testTwoThreadFoldEqualsTheOneThreadFold() throws {
        let (serial, _) = try withDeltas()
        let (parallel, _) = try withDeltas()
        let before = try WarehouseTestSupport.tableRows(serial, .sites)
        // Each layer has several row groups (deltaOptions: 64 rows), so the key space is cut.
        let layout = WarehouseLayout(dataDirectory: parallel)
        let state = try WarehouseLog.load(layout: layout)
        var cutProjects = 0
        for projectID in Set(state.segments(table: .sitesDelta).map(\.projectID)) {
            let readers = try state.sitesLayers(projectID: projectID).map { try ParquetFileReader(path: layout.committedPath($0.path)) }
            let bounds = Compactor.foldBounds(readers, parts: 2)
            XCTAssertEqual(bounds.first?.lower, nil)
            XCTAssertEqual(bounds.last?.upper, nil)
            if bounds.count == 2 { cutProjects += 1 }
        }
        XCTAssertGreaterThan(cutProjects, 0, "the largest project's layers span several row groups")
        for (directory, threads) in [(serial, 1), (parallel, 2)] {
            var options = Compactor.Options()
            options.parseThreads = threads
            options.sitesFold.rowGroupRowsMax = 64
            let report = try Compactor(dataDirectory: directory, options: options, logger: quietLogger).run()
            XCTAssertEqual(report.sitesFolds, 3)
            let folded = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory))
            XCTAssertEqual(folded.segments(table: .sitesDelta), [])
            XCTAssertEqual(folded.segments(table: .sites).count, 3)
            // No part file is left behind.
            let leftovers = FileIO.walkFiles(directory + "/warehouse/sites", includeHidden: true).filter { $0.contains("-part") }
            XCTAssertEqual(leftovers, [], "\(threads) threads")
        }
        XCTAssertEqual(try WarehouseTestSupport.tableRows(parallel, .sites), before)
        XCTAssertEqual(try WarehouseTestSupport.tableRows(serial, .sites), before)
        // Both files are sorted by site_key and hold each site once (the invariant readers rely on).
        for directory in [serial, parallel] {
            let folded = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory))
            for base in folded.segments(table: .sites) {
                let reader = try ParquetFileReader(path: WarehouseLayout(dataDirectory: directory).committedPath(base.path))
                let keyColumn = reader.schema.index(of: "site_key")!
                var keys: [String] = []
                for group in reader.rowGroups.indices {
                    let column = try reader.readColumn(rowGroup: group, column: keyColumn)
                    keys += (0..<column.count).map { column.string(at: $0) ?? "" }
                }
                XCTAssertEqual(keys.count, base.rows)
                XCTAssertTrue(zip(keys, keys.dropFirst()).allSatisfy { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }, base.path)
            }
        }
    }

    func testPolicyFoldsByAgeAndSize() throws {
        let (directory, _) = try withDeltas()
        var options = Self.deltaOptions()
        options.sitesFold.deltaAgeSecondsMax = 0
        let report = try Compactor(dataDirectory: directory, options: options, logger: quietLogger).run()
        XCTAssertEqual(report.sitesFolds, 3, "deltas older than the age limit fold")
        XCTAssertTrue(try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory)).segments(table: .sitesDelta).isEmpty)

        // By size: deltas past the ratio are folded right after the commit that wrote them.
        let sized = try WarehouseTestSupport.copyOfRawData(Self.source)
        options = Self.deltaOptions()
        options.sitesFold.deltaRowsRatioMax = 0.5
        let sizedReport = try Compactor(dataDirectory: sized, options: options, logger: quietLogger).run()
        XCTAssertGreaterThan(sizedReport.sitesSnapshots, 3)
        XCTAssertGreaterThan(sizedReport.sitesDeltas, 0)
        let state = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: sized))
        for projectID in Set(state.segments(table: .sites).map(\.projectID)) {
            let layers = state.sitesLayers(projectID: projectID)
            let base = layers.filter { $0.table == .sites }.reduce(0) { $0 + $1.rows }
            XCTAssertLessThanOrEqual(Double(layers.filter { $0.table == .sitesDelta }.reduce(0) { $0 + $1.rows }), 0.5 * Double(base))
        }
        XCTAssertEqual(try WarehouseTestSupport.tableRows(sized, .sites), try WarehouseTestSupport.tableRows(directory, .sites))
    }

    /// A fold holds one decoded row group of every layer: it must never run beside a chunk's
    /// rows and segments. A commit of new events writes deltas only (a base only as a
    /// project's first file); the due fold follows as its own `merge` commit.
    func testCommitsWriteDeltasAndFoldsFollowThem() throws {
        let directory = try WarehouseTestSupport.copyOfRawData(Self.source)
        var options = Self.deltaOptions()
        options.sitesFold.deltasMax = 2
        options.checkpointInterval = 0
        let report = try Compactor(dataDirectory: directory, options: options, logger: quietLogger).run()
        XCTAssertGreaterThan(report.sitesFolds, 3)
        let layout = WarehouseLayout(dataDirectory: directory)
        var state = WarehouseState()
        var merges = 0
        for version in 1...report.warehouseVersion {
            let path = layout.logDirectory + "/" + WarehouseLog.fileName(version: version)
            let commit = try WarehouseCommit.decode(try FileIO.readFile(path), path: path)
            for entry in commit.add where entry.table == .sites {
                if commit.operation == .compact {
                    XCTAssertEqual(state.sitesLayers(projectID: entry.projectID), [], "commit \(version) wrote a base beside its chunk")
                } else {
                    XCTAssertEqual(commit.operation, .merge)
                    merges += 1
                }
            }
            state.apply(commit)
            for projectID in Set(state.segments(table: .sitesDelta).map(\.projectID)) where commit.operation == .merge {
                XCTAssertLessThanOrEqual(state.segments(table: .sitesDelta, projectID: projectID).count, 2, "after fold \(version)")
            }
        }
        XCTAssertEqual(merges, report.sitesFolds)
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .sites), try WarehouseTestSupport.tableRows(try reference(), .sites))
    }

    func testEraseAndRetentionSeeTheMergedRows() throws {
        let reference = try reference()
        let (directory, _) = try withDeltas()
        let state = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory))
        let delta = try XCTUnwrap(state.segments(table: .sitesDelta).last)
        // A site a delta holds (its newest row is there, an older one in the base).
        let reader = try ParquetFileReader(path: directory + "/warehouse/" + delta.path)
        let key = try XCTUnwrap(reader.readColumn(rowGroup: 0, name: "site_key").string(at: 0))
        for data in [reference, directory] {
            _ = try Compactor(dataDirectory: data, logger: quietLogger).erase(projectID: delta.projectID, subject: .site(key))
        }
        let after = try WarehouseTestSupport.tableRows(directory, .sites)
        XCTAssertEqual(after, try WarehouseTestSupport.tableRows(reference, .sites))
        XCTAssertFalse(after.contains { $0.split(separator: "|").contains(Substring(key)) })
        let erased = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory))
        XCTAssertEqual(erased.segments(table: .sitesDelta, projectID: delta.projectID), [], "the erase folds the project's layers")

        // Retention (the generated data ends 2026-06-01, so 1 month drops every site).
        var options = Self.deltaOptions()
        options.retentionMonths = 1
        let (retained, _) = try withDeltas()
        _ = try Compactor(dataDirectory: retained, options: options, logger: quietLogger).run()
        let kept = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: retained))
        XCTAssertEqual(kept.segments(table: .sitesDelta), [])
        XCTAssertEqual(try WarehouseTestSupport.tableRows(retained, .sites), [])
    }

    /// `trackhouse compact` killed at each point of a fold (and at random moments of a run
    /// that writes deltas and folds), then rerun: the same tables as an uninterrupted run.
    func testKilledFoldFinishesWithTheSameTables() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("trackhouse binary not built; set TRACKHOUSE_BIN") }
        let reference = try reference()
        let wantSites = try WarehouseTestSupport.tableRows(reference, .sites)
        let wantEvents = try WarehouseTestSupport.tableRows(reference, .events)
        func compact(_ directory: String, _ arguments: [String], crashAfter: Int? = nil) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["compact", "--data", directory, "--quiet", "--chunk-events", "200", "--row-group-rows", "1024",
                                 "--segment-rows", "2000"] + arguments
            var environment = ProcessInfo.processInfo.environment
            environment["TRACKHOUSE_TEST_FOLD_CRASH_AFTER"] = crashAfter.map(String.init)
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        for step in 1...3 {
            let directory = try WarehouseTestSupport.copyOfRawData(Self.source, "fold-crash-\(step)")
            XCTAssertEqual(try compact(directory, ["--no-sites-fold", "--sites-fold-ratio", "1000"]), 0)
            let layout = WarehouseLayout(dataDirectory: directory)
            XCTAssertFalse(try WarehouseLog.load(layout: layout).segments(table: .sitesDelta).isEmpty)
            XCTAssertEqual(try compact(directory, [], crashAfter: step), 9, "killed at fold step \(step)")
            XCTAssertEqual(try compact(directory, []), 0)
            let state = try WarehouseLog.load(layout: layout)
            XCTAssertEqual(state.segments(table: .sitesDelta), [], "step \(step)")
            XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .sites), wantSites, "step \(step)")
            XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .events), wantEvents, "step \(step)")
            let leftovers = WarehouseLayout.tableFolders.flatMap { FileIO.walkFiles(layout.root + "/" + $0, includeHidden: true) }
                .filter { FileIO.lastComponent($0).hasPrefix(".tmp-") }
            XCTAssertEqual(leftovers, [], "step \(step)")
            XCTAssertEqual(state.segments(table: .sites).count, 3)
        }
    }

    /// The README's DuckDB view over `sites*/` (base + deltas, newest file per site wins)
    /// reads our table; DuckDB over `sites/` alone reads it too once `compact` has folded.
    func testDuckDBViewOverBaseAndDeltasEqualsOurTable() throws {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"], !python.isEmpty else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with duckdb")
        }
        let (directory, _) = try withDeltas()
        let ours = try WarehouseTestSupport.tableRows(directory, .sites)
        let columns = TableSchema.sites.columns.map(\.name).joined(separator: ",")
        let script = WarehouseInteropTests.interop.appendingPathComponent("warehouse_rows.py").path
        func rows(_ engine: String) throws -> [String] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script, engine, directory + "/warehouse", "sites", columns]
            var environment = ProcessInfo.processInfo.environment
            environment["PYTHONIOENCODING"] = "utf-8"
            process.environment = environment
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "\(engine) failed")
            return WarehouseTestSupport.sortedByBytes(WarehouseInteropTests.lines(String(decoding: data, as: UTF8.self)))
        }
        let viewRows = try rows("duckdb-view")
        XCTAssertEqual(viewRows.count, ours.count)
        XCTAssertEqual(viewRows, ours, "the DuckDB view reads different sites rows")
        // Before a fold, `sites/` alone is the older base: the view is what makes deltas visible.
        XCTAssertNotEqual(try rows("duckdb"), ours)

        _ = try Compactor(dataDirectory: directory, logger: quietLogger).run()
        XCTAssertEqual(try rows("duckdb"), ours, "DuckDB over sites/ alone after compact")
    }
}
