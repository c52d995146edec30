import Core
import Foundation
import Synchronization
import XCTest
import TrackhouseTestSupport
@testable import ColumnStore
@testable import Ingest
@testable import Query
@testable import Server
import Workload

/// The rollups against the scan: every chart the dashboard can ask for, over ranges that are
/// and are not hour-aligned, must come out identical from `RollupChartQueries` and from
/// `WarehouseChartQueries`, both on a warehouse built in one go and on one the rollups
/// followed commit by commit.
final class RollupChartQueriesTests: XCTestCase {
    static let hour: Int64 = 3_600_000_000
    static let day = APIFixture.day

    static func charts(_ dataDirectory: String, windowDays: Int = ProjectRollup.windowDaysDefault) throws
        -> (rollups: RollupChartQueries, scan: WarehouseChartQueries, store: RollupStore) {
        let engine = QueryEngine(catalog: WarehouseCatalog(dataDirectory: dataDirectory), logger: quietLogger)
        let scan = WarehouseChartQueries(engine: engine)
        let store = RollupStore(warehouse: WarehouseReader(dataDirectory: dataDirectory), windowDays: windowDays, logger: quietLogger)
        try store.refresh()
        XCTAssertEqual(store.checkInvariants(), [], "a built rollup holds its invariants")
        return (RollupChartQueries(rollups: store, fallback: scan), scan, store)
    }

    /// Ranges ending at `end`: whole days, odd microseconds on both edges, one partial hour,
    /// a range before any data, and a long one.
    static func ranges(end: Int64) -> [TimeRange] {
        [TimeRange(from: end - 21 * day, to: end),
         TimeRange(from: end - 50 * day + 999, to: end - 9 * day - 12_345),
         TimeRange(from: end - 3 * day + 17 * hour + 5, to: end - 3 * day + 17 * hour + 1_800_000_000),
         TimeRange(from: end - 2 * day - 7 * hour, to: end - 1 * day + 3 * hour),
         TimeRange(from: end - 900 * day, to: end - 800 * day),
         TimeRange(from: end - 120 * day, to: end + 5 * day)]
    }

    static let breakdownColumns: [String?] = [nil, "php_minor", "wp_locale", "event", "wp_multisite", "reason_id", "project_version"]

    /// Asserts rollups == scan for stats, every metric × interval × breakdown, and breakdowns
    /// over several dimensions, instants and windows.
    func assertRollupsEqualScan(_ rollups: RollupChartQueries, _ scan: WarehouseChartQueries, projects: [String], end: Int64,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        for project in projects {
            for range in Self.ranges(end: end) {
                let label = "\(project) \(iso(range.from))…\(iso(range.to))"
                XCTAssertEqual(try rollups.stats(projectID: project, range: range), try scan.stats(projectID: project, range: range),
                               "stats \(label)", file: file, line: line)
                let short = range.to - range.from <= 4 * Self.day
                for interval in BucketInterval.allCases where interval != .hour || short {
                    for metric in TimeseriesMetric.allCases {
                        for column in Self.breakdownColumns {
                            if metric == .newSites && column != nil { continue } // new_sites breaks down by sites columns
                            let request = TimeseriesRequest(metric: metric, interval: interval, range: range, breakdown: column, limit: 4)
                            let fromRollups = try rollups.timeseries(projectID: project, request: request)
                            let fromScan = try scan.timeseries(projectID: project, request: request)
                            XCTAssertEqual(fromRollups, fromScan, "timeseries \(metric) \(interval) \(column ?? "-") \(label)", file: file, line: line)
                        }
                    }
                }
            }
            for at in [end, end - 10 * Self.day + 7 * Self.hour, end - 33 * Self.day + 123_456, end + 20 * Self.day] {
                for activeDays in [1, 7, 14, 30] {
                    for dimension in ["php_minor", "wp_locale", "event", "wp_multisite", "wp_version", "server_software"] {
                        for limit in [3, 1_000] {
                            let request = BreakdownRequest(dimension: dimension, at: at, activeDays: activeDays, limit: limit)
                            XCTAssertEqual(try rollups.breakdown(projectID: project, request: request),
                                           try scan.breakdown(projectID: project, request: request),
                                           "breakdown \(project) \(dimension) at \(iso(at)) \(activeDays)d limit \(limit)", file: file, line: line)
                        }
                    }
                }
            }
        }
    }

    func testRollupsMatchTheIndependentReference() throws {
        let (rollups, _, store) = try Self.charts(APIFixture.shared.dataDirectory)
        XCTAssertTrue(store.status.ready)
        try assertMatchesReference(rollups)
        XCTAssertEqual(rollups.counters.answered.scan, 0, "every reference question is one the rollups answer")
    }

    func testRollupsEqualTheScanOnEveryChart() throws {
        let fixture = APIFixture.shared
        let (rollups, scan, store) = try Self.charts(fixture.dataDirectory)
        XCTAssertEqual(store.status.events, fixture.events.count, "the rollups hold every committed event")
        try assertRollupsEqualScan(rollups, scan, projects: fixture.projects.map(\.id) + ["no-such-project"], end: APIFixture.end)
        XCTAssertEqual(rollups.counters.answered.scan, 0, "the rollups answered every one of these")
    }

    /// Rollups keeping only 20 of the fixture's 70 days: charts inside the window answer from
    /// them, charts reaching before it from the scan, and every answer is the scan's.
    func testChartsBeforeTheWindowGoToTheScanAndStayExact() throws {
        let fixture = APIFixture.shared
        let (rollups, scan, store) = try Self.charts(fixture.dataDirectory, windowDays: 20)
        let full = try Self.charts(fixture.dataDirectory)
        XCTAssertLessThan(store.status.events, full.store.status.events, "the window dropped the older hours")
        XCTAssertGreaterThan(store.status.events, 0)
        try assertRollupsEqualScan(rollups, scan, projects: fixture.projects.map(\.id), end: APIFixture.end)
        XCTAssertGreaterThan(rollups.counters.answered.scan, 0, "charts before the window were scanned")
        XCTAssertGreaterThan(rollups.counters.answered.rollup, 0, "charts inside the window were not")
        let recent = TimeRange(from: APIFixture.end - 5 * Self.day + 12_345, to: APIFixture.end - Self.hour)
        let before = rollups.counters.answered
        XCTAssertEqual(try rollups.stats(projectID: fixture.mainProject, range: recent), try scan.stats(projectID: fixture.mainProject, range: recent))
        XCTAssertEqual(rollups.counters.answered.rollup, before.rollup + 1, "a recent range is answered from the window")
    }

    /// The window while following commits: old hours leave as new ones arrive, and the
    /// followed rollups equal a fresh build with the same window and the scan.
    func testAWindowFollowsCompactionsCommitByCommit() throws {
        let store = try followCompactions(checkpointInterval: 100, refreshAfter: [0, 1, 2], windowDays: 15)
        XCTAssertEqual(store.buildCount, 1)
    }

    func testUnsupportedQuestionsFallBackToTheScan() throws {
        let fixture = APIFixture.shared
        let (rollups, scan, _) = try Self.charts(fixture.dataDirectory)
        let project = fixture.mainProject
        let range = TimeRange(from: APIFixture.end - 30 * Self.day, to: APIFixture.end)
        let request = TimeseriesRequest(metric: .events, interval: .day, range: range, breakdown: "url", limit: 5)
        XCTAssertEqual(try rollups.timeseries(projectID: project, request: request), try scan.timeseries(projectID: project, request: request))
        let breakdown = BreakdownRequest(dimension: "admin_email", at: APIFixture.end)
        XCTAssertEqual(try rollups.breakdown(projectID: project, request: breakdown), try scan.breakdown(projectID: project, request: breakdown))
        XCTAssertEqual(rollups.counters.answered.scan, 2)
        XCTAssertEqual(rollups.counters.answered.rollup, 0)
    }

    /// Raw hours copied into a data folder a third at a time, compacted (with merges, which
    /// replace files the rollups have not read yet) and followed by the same store: after
    /// each step the followed rollups equal a fresh build and the scan.
    func testRollupsFollowCompactionsCommitByCommit() throws {
        let store = try followCompactions(checkpointInterval: 100, refreshAfter: [0, 1, 2])
        XCTAssertEqual(store.buildCount, 1, "the store followed the log after its first build instead of rebuilding")
    }

    /// A store that misses a compaction while checkpoints remove the commits it would follow
    /// (one checkpoint per run here) rebuilds from the checkpoint and still equals the scan.
    func testRollupsRebuildWhenCheckpointsRemovedTheCommitsTheyNeed() throws {
        let store = try followCompactions(checkpointInterval: 1, refreshAfter: [0, 2])
        XCTAssertEqual(store.buildCount, 2, "commits removed by a checkpoint are not followed but rebuilt from")
    }

    /// Compacts a generated dataset in three steps, refreshing the store after the steps in
    /// `refreshAfter`, and checks the rollups against the scan and a fresh build each time.
    private func followCompactions(checkpointInterval: Int, refreshAfter: Set<Int>, windowDays: Int = ProjectRollup.windowDaysDefault) throws -> RollupStore {
        let source = makeTemporaryDirectory("rollup-source")
        let data = makeTemporaryDirectory("rollup-follow")
        let end = UTCTime.parseISO("2026-04-01T00:00:00Z")!
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: source, projects: 2, sites: 300, weeks: 6,
                                                                     seed: 11, endMicros: end))
        try FileIO.writeFileAtomically(data + "/projects.json", try FileIO.readFile(source + "/projects.json"))
        let rawFiles = FileIO.walkFiles(source + "/raw").sorted { a, b in
            // Hour folders first, so each third is a later slice of time (plus the odd late file).
            String(a.dropFirst(source.count).split(separator: "/").dropFirst(2).joined()) < String(b.dropFirst(source.count).split(separator: "/").dropFirst(2).joined())
        }
        let store = RollupStore(warehouse: WarehouseReader(dataDirectory: data), windowDays: windowDays, logger: quietLogger)
        let scan = WarehouseChartQueries(engine: QueryEngine(catalog: WarehouseCatalog(dataDirectory: data), logger: quietLogger))
        let rollups = RollupChartQueries(rollups: store, fallback: scan)
        let thirds = [0, rawFiles.count / 3, 2 * rawFiles.count / 3, rawFiles.count]
        var options = Compactor.Options()
        options.includeOpenHours = true
        options.segmentRowsTarget = 4_000 // small targets: every run merges
        options.checkpointInterval = checkpointInterval
        for step in 0..<3 {
            for path in rawFiles[thirds[step]..<thirds[step + 1]] {
                let target = data + path.dropFirst(source.count)
                try FileIO.makeDirectories(FileIO.parentDirectory(target))
                try FileIO.writeFileAtomically(target, try FileIO.readFile(path))
            }
            let report = try Compactor(dataDirectory: data, options: options, logger: quietLogger).run()
            XCTAssertGreaterThan(report.eventsOut, 0)
            guard refreshAfter.contains(step) else { continue }
            try store.refresh()
            XCTAssertEqual(store.checkInvariants(), [], "step \(step): a followed rollup holds its invariants")
            XCTAssertEqual(store.status.version, WarehouseReader(dataDirectory: data).newestVersion)
            let projects = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: "projects.json").projects.map(\.id)
            try assertRollupsEqualScan(rollups, scan, projects: projects, end: end)
            let fresh = try Self.charts(data, windowDays: windowDays)
            XCTAssertEqual(fresh.store.status.events, store.status.events, "step \(step): followed and rebuilt rollups hold the same events")
        }
        let merged = FileIO.walkFiles(data + "/warehouse/events", includeHidden: true).filter { FileIO.lastComponent($0).hasPrefix(".replaced-") }
        XCTAssertFalse(merged.isEmpty, "merges kept the files they replaced under hidden names for followers")
        return store
    }

    /// Two events of one site at the same microsecond whose ids share their first 8 bytes:
    /// the rollups cannot order them, so "latest event" questions go to the scan.
    func testUndecidableTiesFallBackToTheScan() throws {
        let data = makeTemporaryDirectory("rollup-ties")
        let end = UTCTime.parseISO("2026-04-01T00:00:00Z")!
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: data, projects: 1, sites: 50, weeks: 2, seed: 3, endMicros: end))
        let registry = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: "projects.json")
        let project = registry.projects[0]
        let time = end - 2 * Self.day
        let hourDirectory = RawLayout(dataDirectory: data).hourDirectory(route: .track, hourIndex: RawLayout.hourIndex(micros: time))
        try FileIO.makeDirectories(hourDirectory)
        var lines: [UInt8] = []
        for (id, version) in [("tie-0000-a", "7.4.1"), ("tie-0000-b", "8.2.1")] {
            let payload = #"{"hash":"\#(project.hash)","site":"Tie","url":"https://tie.example","admin_email":"t@tie.example","server":{"php_version":"\#(version)"}}"#
            lines += Envelope.line(id: id, receivedAtMicros: time, route: .track, ip: "192.0.2.1",
                                   userAgent: "test", payloadJSON: Array(payload.utf8))
        }
        try FileIO.writeFileAtomically(hourDirectory + "/ties-000001.ndjson", lines)
        _ = try Compactor(dataDirectory: data, options: Compactor.Options(), logger: quietLogger).run()
        let (rollups, scan, _) = try Self.charts(data)
        let request = BreakdownRequest(dimension: "php_minor", at: end)
        XCTAssertEqual(try rollups.breakdown(projectID: project.id, request: request), try scan.breakdown(projectID: project.id, request: request))
        XCTAssertEqual(rollups.counters.answered.scan, 1, "the tie sent the breakdown to the scan")
    }
}

/// The same HTTP calls against a server answering from rollups and one with `--no-rollups`:
/// identical bodies, and `/healthz` says which path answered.
final class RollupEndpointTests: XCTestCase {
    func testEndpointsAnswerTheSameWithAndWithoutRollups() async throws {
        let fixture = APIFixture.shared
        func components(rollups: Bool) throws -> TrackhouseComponents {
            var configuration = ServerConfiguration(dataDirectory: fixture.dataDirectory, writerID: "api")
            configuration.role = .query
            configuration.rollupsEnabled = rollups
            return try buildComponents(configuration: configuration, logger: quietLogger)
        }
        let withRollups = try components(rollups: true)
        try XCTUnwrap(withRollups.rollups).refresh()
        let plain = try components(rollups: false)
        XCTAssertNil(plain.rollups)
        let project = fixture.mainProject
        let token = fixture.adminToken
        let end = APIFixture.end, day = APIFixture.day
        var paths: [String] = []
        for (from, to) in [(end - 30 * day, end), (end - 45 * day + 7_000_000, end - 2 * day - 1)] {
            let range = "from=\(escaped(iso(from)))&to=\(escaped(iso(to)))"
            paths += ["stats?\(range)", "timeseries?metric=sites&interval=week&\(range)",
                      "timeseries?metric=events&interval=day&breakdown=php_minor&limit=3&\(range)",
                      "breakdown?dim=wp_locale&at=\(escaped(iso(to)))&limit=5",
                      "deactivations?\(range)", "deactivations?\(range)&page=2&per_page=3", "deactivations?\(range)&page=40&per_page=50"]
        }
        let allPaths = paths
        var bodies: [[String]] = []
        final class Answers: Sendable { let texts = Mutex<[String]>([]) }
        for components in [withRollups, plain] {
            let app = buildApplication(components: components, logger: quietLogger)
            let answers = Answers()
            try await app.test(.router) { client in
                for path in allPaths {
                    let answer = try await client.call("/api/v1/projects/\(project)/\(path)", token: token)
                    XCTAssertEqual(answer.status, 200, "\(path): \(answer.text)")
                    answers.texts.withLock { $0.append(answer.text) }
                }
                if components.rollups != nil {
                    let health = try await client.call("/healthz", token: nil).json
                    XCTAssertEqual(health["rollups"]?["ready"], .bool(true))
                    XCTAssertEqual(health["rollups"]?["answered_by_scan"]?.int, 0)
                    XCTAssertEqual(health["rollups"]?["answered_from_rollups"]?.int, Int64(allPaths.count))
                }
            }
            bodies.append(answers.texts.withLock { $0 })
        }
        for (index, path) in paths.enumerated() {
            XCTAssertEqual(bodies[0][index], bodies[1][index], path)
        }
    }
}
