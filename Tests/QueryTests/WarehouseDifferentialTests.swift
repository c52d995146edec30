import Core
import Foundation
import Logging
import XCTest
@testable import ColumnStore
@testable import Query
import Workload

/// Differential: every query of `differential/queries.sql` runs on our engine and on DuckDB
/// over the same compacted `trackhouse gen` warehouse; answers must be identical (doubles
/// within 1e-9 relative, approx_count_distinct within 5% of each other).
final class WarehouseDifferentialTests: XCTestCase {
    struct Answer: Decodable {
        var rows: [[String]]?
        var error: String?
    }

    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    func loadQueries() throws -> [(sql: String, ordered: Bool, approx: Bool)] {
        let text = try String(contentsOf: Self.here.appendingPathComponent("differential/queries.sql"), encoding: .utf8)
        var queries: [(String, Bool, Bool)] = []
        for block in text.components(separatedBy: "\n;\n") {
            let lines = block.split(separator: "\n").map(String.init)
            let ordered = lines.contains("-- ordered")
            let approx = lines.contains("-- approx")
            let sql = lines.filter { !$0.hasPrefix("--") }.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if !sql.isEmpty { queries.append((sql, ordered, approx)) }
        }
        return queries
    }

    func render(_ value: Value) -> String {
        switch value {
        case .null: return "NULL"
        case .bool(let flag): return flag ? "true" : "false"
        case .int64(let number): return String(number)
        case .double(let number): return "d:" + String(number)
        case .string(let text): return text
        case .timestamp(let micros): return "t:" + String(micros)
        }
    }

    func same(_ a: String, _ b: String, approx: Bool) -> Bool {
        if a == b { return true }
        func number(_ text: String) -> Double? { Double(text.hasPrefix("d:") ? String(text.dropFirst(2)) : text) }
        guard let x = number(a), let y = number(b) else { return false }
        let tolerance = approx ? 0.05 : 1e-9
        return abs(x - y) <= tolerance * max(1, abs(x), abs(y))
    }

    /// A generated three-project dataset, compacted with `configure`'s options.
    func makeWarehouse(sites: Int, weeks: Int, seed: UInt64,
                       configure: (inout Compactor.Options) -> Void) throws -> (directory: String, logger: Logger) {
        let directory = NSTemporaryDirectory() + "trackhouse-diff-\(UUID().uuidString.prefix(8))"
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: directory, projects: 3, sites: sites, weeks: weeks,
                                                                     seed: seed, endMicros: UTCTime.parseISO("2026-06-01T00:00:00Z")!))
        var logger = Logger(label: "diff")
        logger.logLevel = .critical
        var options = Compactor.Options()
        configure(&options)
        _ = try Compactor(dataDirectory: directory, options: options, logger: logger).run()
        return (directory, logger)
    }

    func testOurEngineAgreesWithDuckDBOnTheWarehouse() throws {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"], !python.isEmpty else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with duckdb")
        }
        let (directory, logger) = try makeWarehouse(sites: 400, weeks: 12, seed: 17) { options in
            options.rowGroupRows = 1024  // many row groups: exercises pruning and parallel merge
            options.chunkEventsMax = 2000
            options.segmentRowsTarget = 4096
        }

        let queries = try loadQueries()
        XCTAssertGreaterThanOrEqual(queries.count, 60)
        let queriesURL = URL(fileURLWithPath: directory + "/queries.json")
        let answersURL = URL(fileURLWithPath: directory + "/answers.json")
        try JSONSerialization.data(withJSONObject: queries.map(\.sql)).write(to: queriesURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.here.deletingLastPathComponent().appendingPathComponent("interop/duckdb_queries.py").path,
                             directory + "/warehouse", queriesURL.path, answersURL.path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let answers = try JSONDecoder().decode([Answer].self, from: Data(contentsOf: answersURL))

        let engine = QueryEngine(catalog: WarehouseCatalog(dataDirectory: directory), options: QueryOptions(threadsMax: 2), logger: logger)
        var compared = 0
        for (index, query) in queries.enumerated() {
            guard let expected = answers[index].rows else {
                XCTFail("DuckDB refused query \(index): \(answers[index].error ?? "?")\n\(query.sql)")
                continue
            }
            let result: QueryResult
            do { result = try engine.execute(sql: query.sql) } catch {
                XCTFail("our engine refused query \(index): \(error)\n\(query.sql)")
                continue
            }
            var ours = result.rows.map { $0.map(render) }
            var theirs = expected
            if !query.ordered {
                ours.sort { $0.joined(separator: "\u{1}") < $1.joined(separator: "\u{1}") }
                theirs.sort { $0.joined(separator: "\u{1}") < $1.joined(separator: "\u{1}") }
            }
            guard ours.count == theirs.count else {
                XCTFail("query \(index): \(ours.count) rows, DuckDB \(theirs.count)\n\(query.sql)")
                continue
            }
            var mismatch: String? = nil
            for (row, (a, b)) in zip(ours, theirs).enumerated() where mismatch == nil {
                if a.count != b.count || !zip(a, b).allSatisfy({ same($0, $1, approx: query.approx) }) {
                    mismatch = "row \(row): ours \(a) DuckDB \(b)"
                }
            }
            if let mismatch { XCTFail("query \(index) differs: \(mismatch)\n\(query.sql)") } else { compared += 1 }
        }
        XCTAssertEqual(compared, queries.count)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Top-N late materialisation (`TopNRowNarrowing`) returns exactly what reading whole
    /// columns returns: same rows, same order, ties broken by scan order, NULL keys, OFFSET,
    /// more candidates than a batch, filters that pass nothing, hidden sort columns.
    func testLateMaterializedTopNEqualsWholeColumnReads() throws {
        let (directory, logger) = try makeWarehouse(sites: 300, weeks: 8, seed: 23) { $0.rowGroupRows = 4096 }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queries = [
            "SELECT * FROM events ORDER BY received_at DESC, event_id DESC LIMIT 50",
            "SELECT * FROM events WHERE event = 'deactivate' ORDER BY received_at DESC, event_id DESC LIMIT 20 OFFSET 7",
            "SELECT event_id, site_name, php_version FROM events ORDER BY php_version NULLS FIRST LIMIT 30",
            "SELECT event_id, php_version FROM events ORDER BY php_version DESC NULLS LAST, wp_locale LIMIT 25",
            "SELECT url, lower(wp_locale) AS l FROM events WHERE wp_locale LIKE 'de%' ORDER BY users_total DESC LIMIT 100",
            "SELECT * FROM events ORDER BY site_name, received_at LIMIT 3000",
            "SELECT * FROM events WHERE event = 'no-such-event' ORDER BY received_at LIMIT 5",
            "SELECT event_id FROM events ORDER BY received_at LIMIT 0",
            "SELECT url FROM events ORDER BY received_at DESC LIMIT 10",
            "SELECT * FROM events ORDER BY project_version LIMIT 5000",
            "SELECT site_key, status, last_seen FROM sites WHERE status = 'active' ORDER BY last_seen DESC LIMIT 10",
            "SELECT event, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC LIMIT 2",
        ]
        var plain = QueryOptions(threadsMax: 2)
        plain.lateMaterialization = false
        let narrowed = QueryEngine(catalog: WarehouseCatalog(dataDirectory: directory), options: QueryOptions(threadsMax: 2), logger: logger)
        let whole = QueryEngine(catalog: WarehouseCatalog(dataDirectory: directory), options: plain, logger: logger)
        for sql in queries {
            let a = try narrowed.execute(sql: sql).rows.map { $0.map(render) }
            let b = try whole.execute(sql: sql).rows.map { $0.map(render) }
            XCTAssertEqual(a, b, sql)
            if !sql.contains("no-such") && !sql.contains("LIMIT 0") { XCTAssertFalse(a.isEmpty, sql) }
        }
    }

    /// Units proven to pass the filter on every row (`UnitPruner.isAlwaysTrue`) are scanned
    /// without it: the same answers as evaluating it everywhere, for a project's own scope,
    /// partition and statistics proofs (equality, ranges, IN, IS [NOT] NULL, OR, NOT-proven
    /// terms beside proven ones), and the proof is really taken on this warehouse.
    /// `count(*)` by one string column from storage's counts per dictionary entry gives the
    /// answers of reading the column (`entryCountsFromStorage` off), with NULL keys, over
    /// events and sites, under a project's scope (proven filter) and under a filter that
    /// still reads rows; and the counting path is taken (fewer columns decoded per row).
    func testCountsPerEntryFromStorageEqualReadingTheColumn() throws {
        let (directory, logger) = try makeWarehouse(sites: 300, weeks: 8, seed: 31) { $0.rowGroupRows = 4096 }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queries = [
            "SELECT status, count(*) FROM sites GROUP BY 1 ORDER BY 1",
            "SELECT php_version, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC, 1 NULLS FIRST",
            "SELECT count(*) AS n, wp_version FROM events GROUP BY wp_version HAVING count(*) > 1 ORDER BY 2 NULLS LAST",
            "SELECT wp_locale, count(*) FROM events WHERE project_id = 'acme-seo' GROUP BY 1 ORDER BY 1 NULLS FIRST",
            "SELECT wp_locale, count(*) FROM events WHERE php_version LIKE '8%' GROUP BY 1 ORDER BY 1 NULLS FIRST",
            "SELECT project_id, count(*) FROM events GROUP BY 1 ORDER BY 1",
            "SELECT wp_theme_slug, count(*), count(*) FROM sites GROUP BY ALL ORDER BY 2 DESC, 1 NULLS FIRST LIMIT 5",
        ]
        var reading = QueryOptions(threadsMax: 2)
        reading.entryCountsFromStorage = false
        let fromStorage = QueryEngine(catalog: WarehouseCatalog(dataDirectory: directory), options: QueryOptions(threadsMax: 2), logger: logger)
        let read = QueryEngine(catalog: WarehouseCatalog(dataDirectory: directory), options: reading, logger: logger)
        for sql in queries {
            for scope in [AccessScope.all, AccessScope.project("acme-seo")] {
                let a = try fromStorage.execute(sql: sql, scope: scope).rows.map { $0.map(render) }
                XCTAssertEqual(a, try read.execute(sql: sql, scope: scope).rows.map { $0.map(render) }, sql)
                XCTAssertFalse(a.isEmpty, sql)
            }
        }
        let sql = "SELECT php_version, count(*) FROM events GROUP BY 1"
        let counted = try fromStorage.execute(sql: sql).stats, decoded = try read.execute(sql: sql).stats
        XCTAssertEqual(counted.unitsScanned, decoded.unitsScanned)
        XCTAssertEqual(counted.rowsScanned, decoded.rowsScanned)
        XCTAssertEqual(counted.unitsCountedByEntry, counted.unitsScanned, "every unit counted from its pages")
        XCTAssertEqual(decoded.unitsCountedByEntry, 0)
        let filtered = try fromStorage.execute(sql: "SELECT wp_locale, count(*) FROM events WHERE php_version LIKE '8%' GROUP BY 1").stats
        XCTAssertEqual(filtered.unitsCountedByEntry, 0, "a filter that reads rows reads the column")
        let scoped = try fromStorage.execute(sql: "SELECT status, count(*) FROM sites GROUP BY 1", scope: .project("acme-seo")).stats
        XCTAssertGreaterThan(scoped.unitsCountedByEntry, 0, "a project's own scope is proven on its own files")
        func explained(_ sql: String) throws -> [String] {
            try fromStorage.execute(sql: "EXPLAIN " + sql).rows.compactMap { row -> String? in
                if case .string(let line) = row[0] { return line } else { return nil }
            }
        }
        XCTAssertTrue(try explained(sql).contains { $0.contains("COUNT_PER_ENTRY") })
        XCTAssertFalse(try explained("SELECT php_version, count(*), min(event) FROM events GROUP BY 1").contains { $0.contains("COUNT_PER_ENTRY") })
        XCTAssertFalse(try explained("SELECT users_total, count(*) FROM events GROUP BY 1").contains { $0.contains("COUNT_PER_ENTRY") })
    }

    func testScansWithoutProvenFiltersEqualEvaluatingThem() throws {
        let (directory, logger) = try makeWarehouse(sites: 300, weeks: 8, seed: 29) { $0.rowGroupRows = 4096 }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let queries = [
            "SELECT count(*) FROM events WHERE project_id = 'acme-seo'",
            "SELECT event, count(*), count(php_version) FROM events WHERE project_id IN ('acme-seo', 'nope') GROUP BY 1 ORDER BY 1",
            "SELECT count(*), min(received_at) FROM events WHERE received_at >= TIMESTAMP '2000-01-01' AND received_at < TIMESTAMP '2100-01-01'",
            "SELECT count(*) FROM events WHERE received_at IS NOT NULL AND php_version LIKE '8%'",
            "SELECT count(*) FROM events WHERE project_id = 'acme-seo' OR php_version = '7.4'",
            "SELECT count(*) FROM events WHERE project_id <> 'zzz' AND event = 'track'",
            "SELECT project_id, count(DISTINCT site_key) FROM events WHERE project_id >= 'a' GROUP BY 1 ORDER BY 1",
            "SELECT status, count(*) FROM sites WHERE project_id = 'acme-seo' AND event_count >= 1 GROUP BY 1 ORDER BY 1",
            "SELECT event_id FROM events WHERE project_id = 'acme-seo' ORDER BY received_at DESC, event_id LIMIT 7",
            "SELECT count(*) FROM events",
            "SELECT count(*), count(*) + 1 FROM events WHERE project_id IN ('acme-seo', 'nimbus-forms') HAVING count(*) > 0",
            "SELECT count(*) FROM events WHERE project_id = 'acme-seo' AND received_at >= TIMESTAMP '2000-01-01'",
        ]
        var plain = QueryOptions(threadsMax: 2)
        plain.provenFilters = false
        plain.rowCountsFromLog = false
        let proven = QueryEngine(catalog: WarehouseCatalog(dataDirectory: directory), options: QueryOptions(threadsMax: 2), logger: logger)
        let evaluated = QueryEngine(catalog: WarehouseCatalog(dataDirectory: directory), options: plain, logger: logger)
        // Row counts from the log stay on here: without proven filters they must not apply.
        var unprovenOptions = QueryOptions(threadsMax: 2)
        unprovenOptions.provenFilters = false
        let unproven = QueryEngine(catalog: WarehouseCatalog(dataDirectory: directory), options: unprovenOptions, logger: logger)
        for sql in queries {
            let a = try proven.execute(sql: sql).rows.map { $0.map(render) }
            let b = try evaluated.execute(sql: sql).rows.map { $0.map(render) }
            XCTAssertEqual(a, b, sql)
            XCTAssertEqual(try unproven.execute(sql: sql).rows.map { $0.map(render) }, b, sql)
            XCTAssertFalse(a.isEmpty, sql)
            for scope in [AccessScope.all, AccessScope.project("acme-seo")] {
                XCTAssertEqual(try proven.execute(sql: sql, scope: scope).rows.map { $0.map(render) },
                               try evaluated.execute(sql: sql, scope: scope).rows.map { $0.map(render) }, sql)
            }
        }
        let explain = try proven.execute(sql: "EXPLAIN SELECT count(*) FROM events WHERE project_id = 'acme-seo'").rows
            .compactMap { row -> String? in if case .string(let line) = row[0] { return line } else { return nil } }
        XCTAssertTrue(explain.contains { $0.hasPrefix("filter true on every row of ") }, explain.joined(separator: "\n"))
        // count(*) under partition filters counts the log's rows per file, opening none;
        // a filter on a column the log does not describe reads the row groups.
        func kept(_ sql: String) throws -> [String] {
            try proven.execute(sql: "EXPLAIN " + sql).rows
                .compactMap { row -> String? in if case .string(let line) = row[0], line.hasPrefix("kept: ") { return line } else { return nil } }
        }
        let counted = try kept("SELECT count(*) FROM events WHERE project_id = 'acme-seo'")
        XCTAssertFalse(counted.isEmpty)
        XCTAssertTrue(counted.allSatisfy { $0.contains("#rows-from-log") }, counted.joined(separator: "\n"))
        let scanned = try kept("SELECT count(*) FROM events WHERE project_id = 'acme-seo' AND received_at >= TIMESTAMP '2000-01-01'")
        XCTAssertTrue(scanned.allSatisfy { $0.contains("#rg") }, scanned.joined(separator: "\n"))
        XCTAssertTrue(try kept("SELECT count(*) FROM sites").allSatisfy { !$0.contains("#rows-from-log") })
    }
}
