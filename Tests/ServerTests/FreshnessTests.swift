import Core
import Foundation
import XCTest
@testable import ColumnStore
@testable import Ingest
@testable import Query
@testable import Server
import Workload

/// An accepted event is visible in SQL and `sites` within one compaction interval of its 200,
/// and counted once, also after its hour is sealed and compacted again.
final class FreshnessTests: XCTestCase {
    func count(_ data: String, _ sql: String) throws -> Int64 {
        let engine = QueryEngine(catalog: WarehouseCatalog(dataDirectory: data), logger: quietLogger)
        guard case .int64(let value)? = try engine.execute(sql: sql).rows.first?.first else { return -1 }
        return value
    }

    func testLiveServerShowsEventsWithinTheInterval() throws {
        let (server, data, port) = try startServerOnFreshData(extraArguments: ["--compact-interval", "2"])
        defer { server.terminate() }
        var acknowledged = 0
        for index in 0..<20 {
            let connection = RawHTTPConnection(port: port)!
            XCTAssertTrue(connection.send(RawHTTPConnection.request(path: "/track",
                headers: [("Content-Type", "application/x-www-form-urlencoded")], body: sdkTrackBody(marker: "fresh\(index)"))))
            if connection.readResponse()?.status == 200 { acknowledged += 1 }
        }
        XCTAssertEqual(acknowledged, 20)
        let acceptedAt = Date()
        var seen: Int64 = 0
        while Date().timeIntervalSince(acceptedAt) < 60 {
            seen = (try? count(data, "SELECT count(*) FROM events")) ?? 0
            if seen >= 20 { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertEqual(seen, 20, "events not visible within 60 s")
        XCTAssertLessThan(Date().timeIntervalSince(acceptedAt), 60)
        XCTAssertEqual(try count(data, "SELECT count(*) FROM sites"), 20)
        // Stop (seals the open files) and compact again: nothing is counted twice.
        server.terminate()
        var options = Compactor.Options()
        options.includeOpenHours = true
        _ = try Compactor(dataDirectory: data, options: options, logger: quietLogger).run()
        XCTAssertEqual(try count(data, "SELECT count(*) FROM events"), 20)
        XCTAssertEqual(try count(data, "SELECT count(DISTINCT event_id) FROM events"), 20)
        XCTAssertEqual(try count(data, "SELECT sum(event_count) FROM sites"), 20)
    }

    /// `serve --raw-retention-days N` hands the window to its in-process compaction, which
    /// deletes the compacted raw files behind it; a negative window is refused at the door.
    func testServeCompactionAppliesRawRetention() async throws {
        let data = makeTemporaryDirectory()
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: data, projects: 2, sites: 60, weeks: 2, seed: 3,
                                                                     endMicros: UTCTime.parseISO("2026-06-01T00:00:00Z")!))
        let files = RawLayout(dataDirectory: data).listFiles()
        XCTAssertGreaterThan(files.count, 10)
        let service = CompactionService(dataDirectory: data, intervalSeconds: 15, rawRetentionDays: 1, logger: quietLogger)
        let run = await service.runOnce()
        let report = try XCTUnwrap(run.report, run.error ?? "no report")
        XCTAssertGreaterThan(report.eventsOut, 0)
        XCTAssertEqual(report.rawFilesDeleted, files.count, "every generated hour is months old")
        XCTAssertEqual(RawLayout(dataDirectory: data).listFiles(), [])
        XCTAssertEqual(try count(data, "SELECT count(*) FROM events"), Int64(report.eventsOut), "the tables keep every event")

        guard trackhouseBinary() != nil else { return }
        let refused = try runTrackhouse(["serve", "--data", data, "--raw-retention-days=-1"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--raw-retention-days must be 0 or more"), refused.stderr)
    }
}
