import Core
import Foundation
import XCTest
@testable import ColumnStore

/// The commit log with checkpoints (`WarehouseLog` steps 1–3): loading from a checkpoint gives
/// the same state as replaying every commit, superseded files go, and a damaged checkpoint
/// falls back to the previous one.
final class WarehouseLogTests: XCTestCase {
    var layout = WarehouseLayout(dataDirectory: "/nonexistent")
    /// The state built in memory from every commit appended so far: what `load` must return.
    var expected = WarehouseState()

    override func setUpWithError() throws {
        layout = WarehouseLayout(dataDirectory: TrackhouseTestSupport.makeTemporaryDirectory())
        try FileIO.makeDirectories(layout.logDirectory)
        expected = WarehouseState()
    }

    /// Commit `expected.version + 1`: adds a segment, removes the one added three commits
    /// earlier, and moves one raw file's progress.
    func appendCommit() throws {
        let version = expected.version + 1
        var commit = WarehouseCommit(version: version, timestampMicros: 1_780_000_000_000_000 + Int64(version), operation: .compact)
        commit.add = [SegmentEntry(path: "events/project=p/month=2026-05/part-\(version)-1.parquet", table: .events,
                                   projectID: "p", month: "2026-05", rows: version, bytes: Int64(version * 100),
                                   receivedAtMin: Int64(version), receivedAtMax: Int64(version + 1))]
        if version > 3 { commit.remove = ["events/project=p/month=2026-05/part-\(version - 3)-1.parquet"] }
        commit.raw = [RawProgress(key: "track/2026/05/01/\(version % 4)/w-000001.ndjson", bytes: Int64(version), complete: version % 2 == 0)]
        try WarehouseLog.append(commit, layout: layout)
        expected.apply(commit)
    }

    func assertLoadsExpected(file: StaticString = #filePath, line: UInt = #line) throws {
        let state = try WarehouseLog.load(layout: layout)
        XCTAssertEqual(state.version, expected.version, file: file, line: line)
        XCTAssertEqual(state.segments, expected.segments, file: file, line: line)
        XCTAssertEqual(state.raw, expected.raw, file: file, line: line)
        XCTAssertEqual(state.removedAtMicros, expected.removedAtMicros, file: file, line: line)
    }

    func checkpointNow() throws {
        var state = try WarehouseLog.load(layout: layout)
        try WarehouseLog.checkpoint(&state, layout: layout, nowMicros: 1_780_000_000_000_000 + Int64(state.version))
        XCTAssertEqual(state.checkpointVersion, expected.version)
    }

    func names() -> [String] { FileIO.list(layout.logDirectory) }

    func testCheckpointsKeepTheStateAndBoundTheFolder() throws {
        for _ in 1...10 { try appendCommit() }
        try assertLoadsExpected()  // no checkpoint yet: a plain replay (a log written before checkpoints)
        try checkpointNow()
        XCTAssertEqual(WarehouseLog.Listing(layout: layout).checkpoints, [10])
        XCTAssertEqual(WarehouseLog.Listing(layout: layout).commits, Array(1...10), "nothing is superseded by the first checkpoint")

        for _ in 11...15 { try appendCommit() }
        try assertLoadsExpected()
        XCTAssertEqual(try WarehouseLog.load(layout: layout).checkpointVersion, 10)
        // A temp of an interrupted write is ignored, and removed with the superseded files.
        try FileIO.writeFileAtomically(layout.logDirectory + "/probe", [1])
        XCTAssertEqual(rename(layout.logDirectory + "/probe", layout.logDirectory + "/.tmp-00000000000000000016.json-1-2"), 0)
        try assertLoadsExpected()
        try checkpointNow()
        let listing = WarehouseLog.Listing(layout: layout)
        XCTAssertEqual(listing.checkpoints, [10, 15])
        XCTAssertEqual(listing.commits, Array(11...15), "commits up to the previous checkpoint are removed")
        XCTAssertFalse(names().contains { $0.hasPrefix(".tmp-") })
        XCTAssertEqual(WarehouseLog.newestVersion(layout: layout), 15)
        try assertLoadsExpected()

        for _ in 16...20 { try appendCommit() }
        try checkpointNow()
        XCTAssertEqual(WarehouseLog.Listing(layout: layout).checkpoints, [15, 20])
        XCTAssertEqual(WarehouseLog.Listing(layout: layout).commits, Array(16...20))
        try assertLoadsExpected()
        // Following the log commit by commit still works for what is kept.
        XCTAssertEqual(try WarehouseLog.commit(version: 17, layout: layout).version, 17)
    }

    /// `load(continuing:)` gives what a whole load gives: after commits, after checkpoints of
    /// its own, after another process checkpointed past the commits it needs, and on a log
    /// rebuilt under the same version numbers (whose commit at its version differs).
    func testContinuingAStateEqualsAWholeLoad() throws {
        var kept: WarehouseState?
        func continueAndCompare(_ note: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let continued = try WarehouseLog.load(layout: layout, continuing: kept)
            XCTAssertEqual(continued, try WarehouseLog.load(layout: layout), note, file: file, line: line)
            XCTAssertEqual(continued.segments, expected.segments, note, file: file, line: line)
            XCTAssertEqual(continued.versionTimestampMicros != nil, continued.version > 0, note, file: file, line: line)
            kept = continued
        }
        try continueAndCompare("an empty log")
        for version in 1...12 {
            try appendCommit()
            try continueAndCompare("after commit \(version)")
            if version % 4 == 0 {
                var state = try XCTUnwrap(kept)
                try WarehouseLog.checkpoint(&state, layout: layout, nowMicros: 1_780_000_000_000_000 + 100)
                kept = state
                try continueAndCompare("after the checkpoint at \(version)")
            }
        }
        // A checkpoint a month later forgets the old removal times, in the kept state too (a
        // server's state would otherwise gather every removal of its life).
        var late = try XCTUnwrap(kept)
        XCTAssertFalse(late.removedAtMicros.isEmpty)
        try WarehouseLog.checkpoint(&late, layout: layout, nowMicros: 1_780_000_000_000_000 + 30 * 86_400_000_000)
        XCTAssertEqual(late.removedAtMicros, [:])
        kept = late
        try continueAndCompare("after a checkpoint that forgot the removal times")
        // Another process commits and checkpoints twice: the commits after `kept` are gone.
        let behind = kept
        for _ in 1...5 { try appendCommit() }
        try checkpointNow()
        for _ in 1...5 { try appendCommit() }
        try checkpointNow()
        kept = behind
        try continueAndCompare("the commits it needs were removed")

        // The same version numbers in another log: its commit at that version differs.
        let other = WarehouseLayout(dataDirectory: TrackhouseTestSupport.makeTemporaryDirectory())
        try FileIO.makeDirectories(other.logDirectory)
        var commit = WarehouseCommit(version: 1, timestampMicros: 1_790_000_000_000_000, operation: .compact)
        commit.add = [SegmentEntry(path: "events/project=q/month=2026-06/part-1-1.parquet", table: .events, projectID: "q",
                                   month: "2026-06", rows: 1, bytes: 1, receivedAtMin: 0, receivedAtMax: 1)]
        try WarehouseLog.append(commit, layout: other)
        var first = WarehouseState()
        first.apply(WarehouseCommit(version: 1, timestampMicros: 1_780_000_000_000_001, operation: .compact))
        XCTAssertEqual(try WarehouseLog.load(layout: other, continuing: first), try WarehouseLog.load(layout: other))
        XCTAssertEqual(try WarehouseLog.load(layout: other, continuing: first).segments.count, 1)
    }

    func testDamagedCheckpointFallsBackToThePreviousOne() throws {
        for _ in 1...6 { try appendCommit() }
        try checkpointNow()
        for _ in 7...9 { try appendCommit() }
        try checkpointNow()
        try appendCommit()
        let newest = layout.logDirectory + "/" + WarehouseLog.checkpointName(version: 9)
        try FileIO.writeFileAtomically(newest, Array(#"{"version":9,"operation":"checkpoint","#.utf8))  // torn
        try assertLoadsExpected()  // checkpoint 6 + commits 7–10

        // Both checkpoints damaged and the commits before 7 gone: an error naming the gap and
        // the checkpoints, not a silently partial table.
        try FileIO.writeFileAtomically(layout.logDirectory + "/" + WarehouseLog.checkpointName(version: 6), Array("[]".utf8))
        XCTAssertThrowsError(try WarehouseLog.load(layout: layout)) { error in
            guard let error = error as? WarehouseError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .corruptLog)
            XCTAssertTrue(error.message.contains("commit 1 is missing"), error.message)
            XCTAssertTrue(error.message.contains("no checkpoint is usable"), error.message)
        }
    }

    func testACheckpointNewerThanTheNewestCommitIsNotUsed() throws {
        for _ in 1...4 { try appendCommit() }
        try checkpointNow()
        // A log whose newest commit was lost (restored from an older backup, say) must not
        // be read as the checkpoint's newer state.
        let four = try String(decoding: FileIO.readFile(layout.logDirectory + "/" + WarehouseLog.checkpointName(version: 4)), as: UTF8.self)
        XCTAssertTrue(four.hasPrefix(#"{"version":4,"#), four)
        let seven = #"{"version":7,"# + four.dropFirst(#"{"version":4,"#.count)
        try FileIO.writeFileAtomically(layout.logDirectory + "/" + WarehouseLog.checkpointName(version: 7), Array(seven.utf8))
        XCTAssertEqual(try WarehouseLog.readCheckpoint(version: 7, layout: layout).version, 7)
        try assertLoadsExpected()
    }

    /// Removal times older than the kept window leave the checkpoint (recovery then treats
    /// their hidden copies as expired); a longer configured retention keeps them.
    func testCheckpointKeepsRemovalTimesForTheRetentionWindow() throws {
        for _ in 1...6 { try appendCommit() }
        XCTAssertEqual(expected.removedAtMicros.count, 3)
        let day: Int64 = 86_400_000_000
        let later = 1_780_000_000_000_000 + 8 * day
        var state = try WarehouseLog.load(layout: layout)
        var longer = state
        try WarehouseLog.checkpoint(&state, layout: layout, nowMicros: later)
        XCTAssertEqual(try WarehouseLog.readCheckpoint(version: 6, layout: layout).removedAtMicros.count, 0, "older than the default week")
        XCTAssertEqual(state.removedAtMicros.count, 0, "the state forgets them too")
        try WarehouseLog.checkpoint(&longer, layout: layout, nowMicros: later, removedKeptMicros: 30 * day)
        XCTAssertEqual(try WarehouseLog.readCheckpoint(version: 6, layout: layout).removedAtMicros, expected.removedAtMicros)
        XCTAssertEqual(try WarehouseLog.load(layout: layout).segments, expected.segments)
    }

    /// A files-only load (`parts: .files`, the query engine and the server) gives the full
    /// load's segments, from commits and from a checkpoint, without reading the raw progress
    /// and removal times the writer puts last; a commit laid out otherwise (its `add` after
    /// `raw`) is still read whole, never with its files missing.
    func testFilesOnlyLoadGivesTheSegmentsWhateverTheMemberOrder() throws {
        for _ in 0..<5 { try appendCommit() }
        try checkpointNow()
        for _ in 0..<3 { try appendCommit() }
        let files = try WarehouseLog.load(layout: layout, parts: .files)
        XCTAssertEqual(files.version, expected.version)
        XCTAssertEqual(files.segments, expected.segments)
        XCTAssertTrue(files.raw.isEmpty, "the raw progress is not read by a files-only load")

        let version = expected.version + 1
        let reordered = #"{"version":\#(version),"timestamp":"2026-05-29T00:00:00Z","operation":"compact","raw":[{"key":"r","bytes":1,"complete":false}],"#
            + #""add":[{"path":"events/p/x.parquet","table":"events","project_id":"p","month":"2026-05","rows":1,"bytes":2,"received_at_min":3,"received_at_max":4}],"remove":[]}"#
        XCTAssertTrue(try FileIO.createExclusively(layout.logDirectory + "/" + WarehouseLog.fileName(version: version), Array((reordered + "\n").utf8)))
        let commit = try WarehouseLog.commit(version: version, layout: layout, parts: .files)
        XCTAssertEqual(commit.add.map(\.path), ["events/p/x.parquet"])
        XCTAssertEqual(try WarehouseLog.load(layout: layout, parts: .files).segments["events/p/x.parquet"]?.rows, 1)
    }
}
