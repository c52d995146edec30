import Core
import Foundation
import XCTest
import TrackhouseTestSupport
@testable import ColumnStore
@testable import Ingest
@testable import Query
@testable import Server
import Workload

/// The rollups' state file: a start reads it instead of the segments, follows only the
/// commits after it, and anything wrong with it means a build from the segments — the charts
/// equal the scan in every case.
final class RollupStateFileTests: XCTestCase {
    static let day = APIFixture.day

    /// A store over `data` saving its state in `stateDirectory`, refreshed once.
    private func store(_ data: String, _ stateDirectory: String) throws -> (RollupStore, RollupChartQueries, WarehouseChartQueries) {
        let store = RollupStore(warehouse: WarehouseReader(dataDirectory: data), stateDirectory: stateDirectory, logger: quietLogger)
        try store.refresh()
        XCTAssertEqual(store.checkInvariants(), [])
        let scan = WarehouseChartQueries(engine: QueryEngine(catalog: WarehouseCatalog(dataDirectory: data), logger: quietLogger))
        return (store, RollupChartQueries(rollups: store, fallback: scan), scan)
    }

    /// A few charts of every kind over ranges that are and are not hour-aligned.
    private func assertEqualsScan(_ rollups: RollupChartQueries, _ scan: WarehouseChartQueries, projects: [String], end: Int64,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        for project in projects {
            for range in [TimeRange(from: end - 21 * Self.day, to: end), TimeRange(from: end - 40 * Self.day + 999, to: end - 3 * Self.day - 12_345)] {
                XCTAssertEqual(try rollups.stats(projectID: project, range: range), try scan.stats(projectID: project, range: range), file: file, line: line)
                for (metric, column) in [(TimeseriesMetric.sites, "php_minor"), (.events, "wp_locale"), (.skips, nil), (.deactivations, "reason_id")] as [(TimeseriesMetric, String?)] {
                    let request = TimeseriesRequest(metric: metric, interval: .week, range: range, breakdown: column, limit: 3)
                    XCTAssertEqual(try rollups.timeseries(projectID: project, request: request), try scan.timeseries(projectID: project, request: request),
                                   "\(metric) by \(column ?? "-")", file: file, line: line)
                }
            }
            for dimension in ["wp_version", "php_minor", "event"] {
                let request = BreakdownRequest(dimension: dimension, at: end - 2 * Self.day + 12_345, activeDays: 14, limit: 3)
                XCTAssertEqual(try rollups.breakdown(projectID: project, request: request), try scan.breakdown(projectID: project, request: request),
                               file: file, line: line)
            }
        }
        XCTAssertEqual(rollups.counters.answered.scan, 0, "the rollups answered every chart", file: file, line: line)
    }

    func testARestartReadsTheStateFileAndAnswersTheSame() throws {
        let fixture = APIFixture.shared
        let stateDirectory = makeTemporaryDirectory("rollup-state")
        let (first, _, _) = try store(fixture.dataDirectory, stateDirectory)
        let newest = WarehouseReader(dataDirectory: fixture.dataDirectory).newestVersion
        XCTAssertEqual(first.buildCount, 1)
        XCTAssertEqual(first.persistedVersion, newest, "a build writes the state file")
        XCTAssertTrue(FileIO.exists(stateDirectory + "/" + RollupStateFile.fileName))

        let (second, rollups, scan) = try store(fixture.dataDirectory, stateDirectory)
        XCTAssertEqual(second.restoreCount, 1, "the second start read the file")
        XCTAssertEqual(second.buildCount, 0, "and did not read the segments")
        XCTAssertEqual(second.status.version, newest)
        XCTAssertEqual(second.status.events, first.status.events)
        try assertEqualsScan(rollups, scan, projects: fixture.projects.map(\.id), end: APIFixture.end)
    }

    /// The file is read through a buffer (and large arrays straight from the file): with
    /// buffers from 16 bytes (every value refills it; every array past it read directly) to
    /// the default, the rollups read back write a byte-identical file.
    func testAnyReadBufferReadsTheSameRollups() throws {
        let fixture = APIFixture.shared
        let stateDirectory = makeTemporaryDirectory("rollup-state-buffers")
        _ = try store(fixture.dataDirectory, stateDirectory)
        let path = stateDirectory + "/" + RollupStateFile.fileName
        let original = try FileIO.readFile(path)
        XCTAssertGreaterThan(original.count, 4096)
        for bufferBytes in [16, 100, 4096, RollupStateFile.Reader.bufferBytesDefault] {
            let (header, projects) = try RollupStateFile.read(path: path, windowHours: Int64(RollupStore.windowDaysDefault) * 24, bufferBytes: bufferBytes)
            let copy = stateDirectory + "/copy-\(bufferBytes).bin"
            try RollupStateFile.write(path: copy, header: header, projects: projects)
            XCTAssertEqual(try FileIO.readFile(copy), original, "buffer of \(bufferBytes) bytes")
        }
        // A flipped bit in the stored digest: every length and value decodes, only the digest
        // (of the bytes streamed through) refuses the file.
        var flipped = original
        flipped[flipped.count - 1] ^= 0x01
        try FileIO.writeFileAtomically(path, flipped)
        XCTAssertThrowsError(try RollupStateFile.read(path: path, windowHours: Int64(RollupStore.windowDaysDefault) * 24, bufferBytes: 100))
    }

    func testADamagedTruncatedOrForeignStateFileIsRebuiltFrom() throws {
        let fixture = APIFixture.shared
        let stateDirectory = makeTemporaryDirectory("rollup-state-damaged")
        let path = stateDirectory + "/" + RollupStateFile.fileName
        _ = try store(fixture.dataDirectory, stateDirectory)
        let good = try FileIO.readFile(path)

        var flipped = good
        flipped[flipped.count / 2] ^= 0x10
        var truncated = good
        truncated.removeLast(good.count / 3)
        // An intact file of another warehouse: its commit is not this log's (version too new).
        let other = makeTemporaryDirectory("rollup-state-other-data")
        let otherState = makeTemporaryDirectory("rollup-state-other")
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: other, projects: 1, sites: 40, weeks: 2, seed: 9,
                                                                     endMicros: APIFixture.end))
        var options = Compactor.Options()
        options.includeOpenHours = true
        options.segmentRowsTarget = 500
        for _ in 0..<3 { _ = try Compactor(dataDirectory: other, options: options, logger: quietLogger).run() }
        _ = try store(other, otherState)
        let foreign = try FileIO.readFile(otherState + "/" + RollupStateFile.fileName)

        for (name, bytes) in [("flipped byte", flipped), ("truncated", truncated), ("empty", []), ("another warehouse's", foreign),
                              ("garbage", Array(repeating: UInt8(0x41), count: 4096))] {
            try FileIO.writeFileAtomically(path, bytes)
            let (store, rollups, scan) = try store(fixture.dataDirectory, stateDirectory)
            XCTAssertEqual(store.restoreCount, 0, "\(name): not read")
            XCTAssertEqual(store.buildCount, 1, "\(name): built from the segments")
            try assertEqualsScan(rollups, scan, projects: [fixture.mainProject], end: APIFixture.end)
            XCTAssertEqual(try FileIO.readFile(path), good, "\(name): the rebuild wrote the file again, as the first build did")
        }
    }

    /// `trackhouse privacy erase` (no server up) removes the state file: the next start builds.
    func testRemovingTheStateFileMeansABuild() throws {
        let fixture = APIFixture.shared
        let data = makeTemporaryDirectory("rollup-state-erase")
        let stateDirectory = RollupStore.stateDirectory(dataDirectory: data)
        _ = try store(fixture.dataDirectory, stateDirectory)
        XCTAssertTrue(FileIO.exists(stateDirectory + "/" + RollupStateFile.fileName))
        RollupStore.removeStateFile(dataDirectory: data)
        XCTAssertFalse(FileIO.exists(stateDirectory + "/" + RollupStateFile.fileName))
        let (again, _, _) = try store(fixture.dataDirectory, stateDirectory)
        XCTAssertEqual(again.restoreCount, 0)
        XCTAssertEqual(again.buildCount, 1)
    }

    /// A file written at one commit; compactions commit more; a new start reads the file and
    /// follows only the later commits, and equals a fresh build and the scan.
    func testAStartAppliesTheCommitsAfterTheFilesVersion() throws {
        let source = makeTemporaryDirectory("rollup-state-source")
        let data = makeTemporaryDirectory("rollup-state-follow")
        let stateDirectory = makeTemporaryDirectory("rollup-state-follow-state")
        let end = UTCTime.parseISO("2026-04-01T00:00:00Z")!
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: source, projects: 2, sites: 200, weeks: 6, seed: 21, endMicros: end))
        try FileIO.writeFileAtomically(data + "/projects.json", try FileIO.readFile(source + "/projects.json"))
        let rawFiles = FileIO.walkFiles(source + "/raw").sorted()
        var options = Compactor.Options()
        options.includeOpenHours = true
        options.segmentRowsTarget = 3_000
        func compact(_ files: ArraySlice<String>) throws {
            for path in files {
                let target = data + path.dropFirst(source.count)
                try FileIO.makeDirectories(FileIO.parentDirectory(target))
                try FileIO.writeFileAtomically(target, try FileIO.readFile(path))
            }
            _ = try Compactor(dataDirectory: data, options: options, logger: quietLogger).run()
        }
        try compact(rawFiles[0..<rawFiles.count / 2])
        let (first, _, _) = try store(data, stateDirectory)
        let written = first.persistedVersion
        XCTAssertGreaterThan(written, 0)
        try compact(rawFiles[(rawFiles.count / 2)...])
        let newest = WarehouseReader(dataDirectory: data).newestVersion
        XCTAssertGreaterThan(newest, written, "the second half brought commits after the file's version")

        let (second, rollups, scan) = try store(data, stateDirectory)
        XCTAssertEqual(second.restoreCount, 1)
        XCTAssertEqual(second.buildCount, 0, "the commits after the file were followed, not rebuilt")
        XCTAssertEqual(second.status.version, newest)
        let projects = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: "projects.json").projects.map(\.id)
        try assertEqualsScan(rollups, scan, projects: projects, end: end)
        let fresh = RollupStore(warehouse: WarehouseReader(dataDirectory: data), logger: quietLogger)
        try fresh.refresh()
        XCTAssertEqual(fresh.status.events, second.status.events, "followed from the file and built from scratch hold the same events")

        // The follow did not rewrite the file yet (interval); stopping does.
        second.persistNow()
        XCTAssertEqual(second.persistedVersion, newest)
        let (third, _, _) = try store(data, stateDirectory)
        XCTAssertEqual(third.restoreCount, 1)
        XCTAssertEqual(third.status.version, newest)
        XCTAssertEqual(third.status.events, fresh.status.events)
    }

    /// `trackhouse compact` (the release binary) brings the state file up to its commit, so the
    /// first `serve` start after it reads the file instead of every segment; a run that commits
    /// nothing leaves an existing file alone, and `--no-rollups` writes none.
    func testTheCompactCommandSavesTheStateFileAStartReads() throws {
        let data = makeTemporaryDirectory("rollup-state-compact")
        let end = "2026-04-01T00:00:00Z"
        let gen = try runTrackhouse(["gen", "--out", data, "--projects", "2", "--sites", "150", "--weeks", "5", "--seed", "31",
                                     "--end", end, "--quiet"])
        XCTAssertEqual(gen.status, 0, gen.stderr)
        let stateDirectory = RollupStore.stateDirectory(dataDirectory: data)
        let statePath = RollupStore.statePath(dataDirectory: data)

        let skipped = try runTrackhouse(["compact", "--data", data, "--include-open", "--quiet", "--json", "--no-rollups"])
        XCTAssertEqual(skipped.status, 0, skipped.stderr)
        XCTAssertFalse(FileIO.exists(statePath), "--no-rollups writes no state file")
        XCTAssertNil(try JSONParser.parse(skipped.stdout).objectValue?["rollups"])

        // Nothing new to compact, no file yet: the run saves the rollups of what is there.
        let compact = try runTrackhouse(["compact", "--data", data, "--include-open", "--quiet", "--json"])
        XCTAssertEqual(compact.status, 0, compact.stderr)
        let summary = try XCTUnwrap(try JSONParser.parse(compact.stdout).objectValue)
        let rollupsSaved = try XCTUnwrap(summary["rollups"]?.objectValue, compact.stdout)
        let newest = WarehouseReader(dataDirectory: data).newestVersion
        XCTAssertEqual(rollupsSaved["version"]?.scalarText.flatMap { Int($0) }, newest)
        XCTAssertNil(rollupsSaved["error"])
        XCTAssertTrue(FileIO.exists(statePath))

        let (started, rollups, scan) = try store(data, stateDirectory)
        XCTAssertEqual(started.restoreCount, 1, "a start reads the file compact wrote")
        XCTAssertEqual(started.buildCount, 0, "and reads no segment")
        XCTAssertEqual(started.status.version, newest)
        XCTAssertEqual(started.status.events, rollupsSaved["events"]?.scalarText.flatMap { Int($0) })
        let projects = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: "projects.json").projects.map(\.id)
        try assertEqualsScan(rollups, scan, projects: projects, end: try XCTUnwrap(UTCTime.parseISO(end)))

        // A run with nothing to commit leaves the file as it is.
        let modified = try FileManager.default.attributesOfItem(atPath: statePath)[.modificationDate] as? Date
        let again = try runTrackhouse(["compact", "--data", data, "--include-open", "--quiet", "--json"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertNil(try JSONParser.parse(again.stdout).objectValue?["rollups"], "nothing committed: nothing saved")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: statePath)[.modificationDate] as? Date, modified)
    }
}
