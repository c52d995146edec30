import Core
import Foundation
import XCTest
@testable import ColumnStore
@testable import Ingest
@testable import Server
import Workload

/// The server's compaction cycles list only the raw hours after the ones they found complete
/// (`Compactor.Options.rawListedFromHour`): a cycle costs the new files, not years of raw
/// folders, and still finds what `trackhouse import` adds to past hours.
final class CompactionListingTests: XCTestCase {
    func testCyclesListRecentHoursAndAnImportBringsAWholeListing() async throws {
        let data = makeTemporaryDirectory()
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: data, projects: 2, sites: 60, weeks: 2, seed: 3,
                                                                     endMicros: UTCTime.parseISO("2026-06-01T00:00:00Z")!))
        let layout = RawLayout(dataDirectory: data)
        let files = layout.listFiles()
        let service = CompactionService(dataDirectory: data, intervalSeconds: 15, logger: quietLogger)
        func openBound() -> Int64 { RawLayout.hourIndex(micros: UTCTime.nowMicros() - 300_000_000) - 1 }
        let boundBefore = openBound()
        let firstRun = await service.runOnce()
        let first = try XCTUnwrap(firstRun.report, firstRun.error ?? "no report")
        XCTAssertEqual(first.rawFilesListed, files.count, "the first cycle lists the whole tree")
        XCTAssertGreaterThan(first.eventsOut, 0)
        XCTAssertTrue((boundBefore...openBound()).contains(first.rawSettledBeforeHour), "every generated file is complete")
        let secondRun = await service.runOnce()
        let second = try XCTUnwrap(secondRun.report, secondRun.error ?? "no report")
        XCTAssertEqual(second.rawFilesListed, 0, "every generated hour is complete and months old")
        XCTAssertEqual(second.eventsIn, 0)

        // New events in a past hour: through `trackhouse import`, the next cycle lists them.
        let source = makeTemporaryDirectory()
        var lines: [UInt8] = []
        var count = 0
        try RawFileReader.forEachLine(path: files.first { $0.route == .track }!.path) { line in
            var envelope = try Envelope.decode(line.bytes)
            envelope.id = "imported-\(count)"
            lines += envelope.line()
            count += 1
        }
        try FileIO.writeFileAtomically(source + "/late.ndjson", lines)
        let imported = try RawImporter(layout: layout, logger: quietLogger).importTree(source) { XCTFail("\($0.message)") }
        XCTAssertEqual(imported.filesWritten, 1)
        let thirdRun = await service.runOnce()
        let third = try XCTUnwrap(thirdRun.report, thirdRun.error ?? "no report")
        XCTAssertEqual(third.rawFilesListed, files.count + 1)
        XCTAssertEqual(third.rawFilesPlanned, 1)
        XCTAssertEqual(third.eventsIn, count)
        let fourthRun = await service.runOnce()
        let fourth = try XCTUnwrap(fourthRun.report, fourthRun.error ?? "no report")
        XCTAssertEqual(fourth.rawFilesListed, 0)
    }

    /// A run that listed part of the tree must not take the rest for deleted: its checkpoint
    /// keeps every raw file's progress, so the next whole listing reads nothing again.
    func testAPartialListingsCheckpointKeepsTheProgressOfEarlierHours() throws {
        let data = makeTemporaryDirectory()
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: data, projects: 1, sites: 40, weeks: 1, seed: 4,
                                                                     endMicros: UTCTime.parseISO("2026-06-01T00:00:00Z")!))
        var options = Compactor.Options()
        options.checkpointInterval = 1
        // Each run continues the state the one before ended with (as `serve`'s cycles do),
        // which must equal the log loaded whole.
        var kept: WarehouseState?
        let warehouse = WarehouseLayout(dataDirectory: data)
        func run() throws -> CompactionReport {
            let compactor = Compactor(dataDirectory: data, options: options, logger: quietLogger, continuing: kept)
            let report = try compactor.run()
            kept = compactor.warehouseState
            XCTAssertEqual(kept, try WarehouseLog.load(layout: warehouse))
            return report
        }
        let whole = try run()
        XCTAssertGreaterThan(whole.eventsOut, 0)
        // A new file in the open hour: the partial run commits it, and its checkpoint is due.
        let layout = RawLayout(dataDirectory: data)
        let now = UTCTime.nowMicros()
        var lines: [UInt8] = []
        var count = 0
        try RawFileReader.forEachLine(path: layout.listFiles().first { $0.route == .track }!.path) { line in
            var envelope = try Envelope.decode(line.bytes)
            envelope.id = "fresh-\(count)"
            count += 1
            envelope.receivedAtMicros = now
            lines += envelope.line()
        }
        let directory = layout.hourDirectory(route: .track, hourIndex: RawLayout.hourIndex(micros: now))
        try FileIO.makeDirectories(directory)
        try FileIO.writeFileAtomically(directory + "/w9-000001.ndjson", lines)
        options.includeOpenHours = true
        options.rawListedFromHour = whole.rawSettledBeforeHour
        let partial = try run()
        XCTAssertEqual(partial.rawFilesListed, 1)
        XCTAssertGreaterThan(partial.eventsOut, 0)
        XCTAssertEqual(partial.checkpoints, 1)
        XCTAssertEqual(partial.rawProgressPruned, 0)
        options.rawListedFromHour = nil
        let again = try run()
        XCTAssertEqual(again.rawFilesPlanned, 1, "only the open hour's file, which may still grow")
        XCTAssertEqual(again.rawBytesIn, 0)
        XCTAssertEqual(again.eventsIn, 0)
    }
}
