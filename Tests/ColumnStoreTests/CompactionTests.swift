import Core
import Foundation
import XCTest
@testable import ColumnStore
@testable import Ingest
import Workload

final class CompactionTests: XCTestCase {
    func compact(_ directory: String, configure: (inout Compactor.Options) -> Void = { _ in }) throws -> CompactionReport {
        var options = Compactor.Options()
        configure(&options)
        return try Compactor(dataDirectory: directory, options: options, logger: quietLogger).run()
    }

    /// The events table equals an independent computation: every raw line decoded and
    /// normalized, unknown projects dropped, first copy of each id kept.
    func testEventsAndSitesMatchAnIndependentComputation() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory)
        let report = try compact(directory)
        XCTAssertGreaterThan(report.duplicatesDropped, 0, "the generator writes duplicate ids")
        XCTAssertGreaterThan(report.unknownProjectEvents, 0)

        let registry = try ProjectRegistry.parse(try FileIO.readFile(directory + "/projects.json"), path: "p")
        var expected: [String: EventRow] = [:]
        for file in RawLayout(dataDirectory: directory).listFiles() {
            try RawFileReader.forEachLine(path: file.path) { line in
                let envelope = try Envelope.decode(line.bytes)
                if case .event(let row, _) = EventNormalizer.normalize(envelope: envelope, registry: registry), expected[row.eventID] == nil {
                    expected[row.eventID] = row
                }
            }
        }
        let rows = try WarehouseTestSupport.tableRows(directory, .events)
        XCTAssertEqual(rows.count, expected.count)
        XCTAssertEqual(report.eventsOut, expected.count)
        let ids = Set(rows.map { String($0.split(separator: "|", maxSplits: 1)[0]) })
        XCTAssertEqual(ids, Set(expected.keys))

        // sites: one row per (project, site_key) with the latest event and the counts.
        var latest: [String: (row: EventRow, first: Int64, count: Int)] = [:]
        for row in expected.values {
            guard let key = row.siteKey else { continue }
            let siteID = row.projectID + "|" + key
            if var current = latest[siteID] {
                current.count += 1
                current.first = min(current.first, row.receivedAtMicros)
                if (row.receivedAtMicros, row.eventID) > (current.row.receivedAtMicros, current.row.eventID) { current.row = row }
                latest[siteID] = current
            } else {
                latest[siteID] = (row, row.receivedAtMicros, 1)
            }
        }
        let sites = try WarehouseTestSupport.tableRows(directory, .sites)
        XCTAssertEqual(sites.count, latest.count)
        let siteColumns = TableSchema.sites.columns.map(\.name)
        for line in sites {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let siteID = cells[2] + "|" + cells[4]
            guard let want = latest[siteID] else { XCTFail("unexpected site \(siteID)"); continue }
            XCTAssertEqual(cells[0], want.row.eventID, siteID)
            XCTAssertEqual(cells[siteColumns.firstIndex(of: "first_seen")!], String(want.first))
            XCTAssertEqual(cells[siteColumns.firstIndex(of: "last_seen")!], String(want.row.receivedAtMicros))
            XCTAssertEqual(cells[siteColumns.firstIndex(of: "event_count")!], String(want.count))
            XCTAssertEqual(cells[siteColumns.firstIndex(of: "status")!], WarehouseSchema.status(event: want.row.event))
        }
    }

    /// Many small commits plus merges give the same tables as one big run; a rerun adds nothing.
    func testIncrementalRunsEqualOneRunAndRerunsAreNoOps() throws {
        let one = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: one, sites: 200, weeks: 6, seed: 5)
        let many = try WarehouseTestSupport.copyOfRawData(one)

        _ = try compact(one)
        let report = try compact(many) { $0.chunkEventsMax = 50; $0.segmentRowsTarget = 400; $0.rowGroupRows = 128; $0.checkpointInterval = 4 }
        XCTAssertGreaterThan(report.commits, 5)
        XCTAssertGreaterThan(report.segmentsMerged, 0)
        // The tables below are read back through the checkpoint this run wrote at its end.
        XCTAssertEqual(report.checkpoints, 1)
        let checkpoint = WarehouseLayout(dataDirectory: many).logDirectory + "/" + WarehouseLog.checkpointName(version: report.warehouseVersion)
        XCTAssertTrue(FileIO.exists(checkpoint))
        XCTAssertEqual(try WarehouseTestSupport.tableRows(one, .events), try WarehouseTestSupport.tableRows(many, .events))
        XCTAssertEqual(try WarehouseTestSupport.tableRows(one, .sites), try WarehouseTestSupport.tableRows(many, .sites))

        let before = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: one)).version
        let again = try compact(one)
        XCTAssertEqual(again.eventsIn, 0)
        XCTAssertEqual(try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: one)).version, before)
    }

    /// Raw retention (`compact --raw-retention-days N`) deletes only compacted raw files of
    /// hours that ended over N days ago and the folders that left empty, never changes the
    /// tables, and the checkpoint written after it forgets the deleted files (step 9a), so the
    /// log does not grow with every raw file ever compacted. A deleted file put back is read
    /// again and every event in it is dropped as a duplicate.
    func testRawRetentionDeletesOldCompactedFilesAndTheLogForgetsThem() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 150, weeks: 4, seed: 21)
        let reference = try WarehouseTestSupport.copyOfRawData(directory)
        _ = try compact(reference)

        // Keep the last two weeks of the generated four.
        let day: Int64 = 86_400_000_000
        let days = Int((UTCTime.nowMicros() - (WarehouseTestSupport.end - 14 * day)) / day)
        let files = RawLayout(dataDirectory: directory).listFiles()
        let cutoffBefore = UTCTime.nowMicros() - Int64(days) * day
        let report = try compact(directory) { $0.rawRetentionDays = days; $0.checkpointInterval = 1 }
        let cutoffAfter = UTCTime.nowMicros() - Int64(days) * day
        let old = files.filter { ($0.hourIndex + 1) * 3_600_000_000 <= cutoffBefore }
        let recent = files.filter { ($0.hourIndex + 1) * 3_600_000_000 > cutoffAfter }
        XCTAssertGreaterThan(old.count, 10)
        XCTAssertGreaterThan(recent.count, 10)
        XCTAssertTrue(old.allSatisfy { !FileIO.exists($0.path) }, "old compacted raw files are deleted")
        XCTAssertTrue(old.allSatisfy { !FileIO.exists(($0.path as NSString).deletingLastPathComponent) }, "and their emptied hour folders")
        XCTAssertTrue(recent.allSatisfy { FileIO.exists($0.path) }, "raw files inside the window stay")
        XCTAssertGreaterThanOrEqual(report.rawFilesDeleted, old.count)
        XCTAssertLessThanOrEqual(report.rawFilesDeleted, files.count - recent.count)
        XCTAssertEqual(report.checkpoints, 1)
        XCTAssertEqual(report.rawProgressPruned, report.rawFilesDeleted)

        let remaining = Set(RawLayout(dataDirectory: directory).listFiles().map(\.key))
        XCTAssertEqual(Set(try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory)).raw.keys), remaining,
                       "the log keeps progress for the raw files that exist, and only those")
        let events = try WarehouseTestSupport.tableRows(reference, .events)
        let sites = try WarehouseTestSupport.tableRows(reference, .sites)
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .events), events)
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .sites), sites)
        XCTAssertEqual(try compact(directory).eventsIn, 0, "a rerun reads nothing")

        // An operator restores one deleted file from a backup: it is read from its start and
        // adds nothing.
        let restored = try XCTUnwrap(old.first)
        let source = reference + "/raw/" + restored.path.dropFirst((directory + "/raw/").count)
        try FileIO.makeDirectories((restored.path as NSString).deletingLastPathComponent)
        try WarehouseTestSupport.copyTree(source, restored.path)
        let again = try compact(directory)
        XCTAssertGreaterThan(again.eventsIn, 0)
        XCTAssertEqual(again.eventsOut, 0)
        XCTAssertEqual(again.duplicatesDropped, again.eventsIn)
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .events), events)
        XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .sites), sites)
    }

    /// Parsing on worker threads changes nothing: the same files with the same bytes as a
    /// single-threaded run, with small chunks so several commits overlap the lookahead.
    func testParseThreadsGiveByteIdenticalFiles() throws {
        let single = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: single, sites: 200, weeks: 6, seed: 9)
        let threaded = try WarehouseTestSupport.copyOfRawData(single)

        let small: (inout Compactor.Options) -> Void = { $0.chunkEventsMax = 300; $0.segmentRowsTarget = 2_000; $0.rowGroupRows = 256 }
        let one = try compact(single) { small(&$0); $0.parseThreads = 1 }
        let three = try compact(threaded) { small(&$0); $0.parseThreads = 3 }
        XCTAssertGreaterThan(one.commits, 5)
        XCTAssertEqual(one.commits, three.commits)
        XCTAssertEqual(one.eventsOut, three.eventsOut)
        XCTAssertEqual(one.linesRead, three.linesRead)
        XCTAssertEqual(one.castFailures, three.castFailures)
        XCTAssertEqual(one.unknownProjectEvents, three.unknownProjectEvents)

        func files(_ directory: String) throws -> [String: [UInt8]] {
            let root = directory + "/warehouse"
            var contents: [String: [UInt8]] = [:]
            for path in FileIO.walkFiles(root, includeHidden: true) where path.hasSuffix(".parquet") {
                contents[String(path.dropFirst(root.count))] = try FileIO.readFile(path)
            }
            return contents
        }
        let a = try files(single), b = try files(threaded)
        XCTAssertGreaterThan(a.count, 3)
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for (path, bytes) in a { XCTAssertTrue(bytes == b[path], "\(path) differs") }
    }

    /// Only committed files count, hidden leftovers are removed, committed-but-hidden files are
    /// rolled forward.
    func testRecoveryRollsForwardAndCleansLeftovers() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 50, weeks: 3, seed: 3)
        _ = try compact(directory)
        let layout = WarehouseLayout(dataDirectory: directory)
        let state = try WarehouseLog.load(layout: layout)
        let victim = state.segments(table: .events).first!.path
        // Simulate a crash after the commit and before the rename.
        XCTAssertEqual(rename(layout.absolute(victim), layout.absolute(WarehouseLayout.temporaryName(victim))), 0)
        // And an uncommitted leftover.
        let leftover = layout.absolute(FileIO.parentDirectory(victim) + "/.tmp-part-99999999-1.parquet")
        try FileIO.writeFileAtomically(leftover, [1, 2, 3])
        _ = try compact(directory)
        XCTAssertTrue(FileIO.exists(layout.absolute(victim)))
        XCTAssertFalse(FileIO.exists(leftover))
    }

    /// A plain raw file that keeps growing is compacted from where the last run stopped: every
    /// line once, a torn tail only when it is completed.
    func testGrowingOpenFileIsReadFromItsOffset() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        let registry = WorkloadGenerator.sampleRegistry(seed: 3)
        try FileIO.writeFileAtomically(directory + "/projects.json", registry.serialized())
        let now = UTCTime.nowMicros()
        let hourDirectory = RawLayout(dataDirectory: directory).hourDirectory(route: .track, hourIndex: RawLayout.hourIndex(micros: now))
        try FileIO.makeDirectories(hourDirectory)
        let path = hourDirectory + "/w1-000001.ndjson"
        func event(_ index: Int) -> [UInt8] {
            var envelope = WorkloadGenerator.sampleEvent(seed: UInt64(index), route: .track, atMicros: now)
            envelope.id = "grow-\(index)"
            envelope.payload["hash"] = .string(registry.projects[0].hash)
            return envelope.line()
        }
        let handle = FileHandle(forWritingAtPath: { FileManager.default.createFile(atPath: path, contents: nil); return path }())!
        handle.write(Data(event(1) + event(2)))
        let second = event(3)
        handle.write(Data(second.prefix(40)))  // torn: the writer is mid-append
        let open: (inout Compactor.Options) -> Void = { $0.includeOpenHours = true }
        XCTAssertEqual(try compact(directory, configure: open).eventsOut, 2)
        handle.write(Data(second.dropFirst(40) + event(4)))
        try handle.close()
        XCTAssertEqual(try compact(directory, configure: open).eventsOut, 2)
        XCTAssertEqual(try compact(directory, configure: open).eventsIn, 0)
        let ids = try WarehouseTestSupport.tableRows(directory, .events).map { String($0.split(separator: "|")[0]) }
        XCTAssertEqual(ids.sorted(), ["grow-1", "grow-2", "grow-3", "grow-4"])
    }

    func testTwoCompactorsAtOnceAreRefused() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 10, weeks: 1, seed: 2)
        let lock = try CompactionLock(path: directory + "/warehouse/.compact.lock")
        XCTAssertThrowsError(try compact(directory)) { error in
            XCTAssertEqual((error as? WarehouseError)?.code, .locked)
        }
        lock.release()
        XCTAssertNoThrow(try compact(directory))
    }

    func testDamagedCommitLogIsAClearError() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 10, weeks: 1, seed: 2)
        _ = try compact(directory)
        let log = WarehouseLayout(dataDirectory: directory).logDirectory + "/00000000000000000001.json"
        try FileIO.writeFileAtomically(log, Array("{\"version\":".utf8))
        XCTAssertThrowsError(try compact(directory)) { error in
            XCTAssertEqual((error as? WarehouseError)?.code, .corruptLog)
            XCTAssertTrue("\(error)".contains("00000000000000000001.json"))
        }
    }
    /// Step 4 sorts and dedupes ids by their bytes when they are ASCII; the result must be
    /// what `String` order and equality give (the rule compaction always had), also for ids
    /// that are canonically equivalent but byte-different (é / e + U+0301, K / KELVIN SIGN).
    func testEventIDOrderAndDedupeByBytesEqualStringSemantics() {
        var random = SeededRandom(seed: 17)
        let alphabets: [[String]] = [
            ["a", "b", "0", "1", "-", "Z"],
            ["a", "b", "\u{e9}", "e\u{301}", "K", "\u{212A}", "z"],
        ]
        for alphabet in alphabets {
            for _ in 0..<200 {
                let ids: [String] = (0..<Int(random.next() % 40 + 1)).map { _ in
                    (0..<Int(random.next() % 4 + 1)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }.joined()
                }
                let column = StringColumn(ids)
                let existing = Set(ids.filter { _ in random.next() % 5 == 0 })
                let order = (0..<Int32(ids.count)).shuffled(using: &random)

                var expectedSeen = Set<String>()
                let expected = order.filter { expectedSeen.insert(ids[Int($0)]).inserted && !existing.contains(ids[Int($0)]) }
                XCTAssertEqual(Compactor.firstOccurrences(order, ids: column, existing: existing), expected, "\(ids)")

                for a in ids.indices {
                    for b in ids.indices {
                        let sign = ids[a].utf8.withContiguousStorageIfAvailable { x in
                            ids[b].utf8.withContiguousStorageIfAvailable { y in
                                EventColumns.compareEventIDs(UnsafeRawBufferPointer(x), UnsafeRawBufferPointer(y)).signum()
                            }
                        }
                        XCTAssertEqual(sign, ids[a] < ids[b] ? -1 : (ids[a] == ids[b] ? 0 : 1), "\(ids[a]) vs \(ids[b])")
                    }
                }
            }
        }
    }
}
