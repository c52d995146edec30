import Core
import XCTest
@testable import ColumnStore
@testable import Ingest
@testable import Query
@testable import Server
import Workload

/// `SitesIndex` (the in-memory path of `GET …/sites`) against `SitesQuery`'s SQL over the
/// engine, on every sort column in both directions and a spread of filters and pages.
final class SitesIndexTests: XCTestCase {
    func assertSame(_ queryString: String, store: SitesIndexStore, engine: QueryEngine, project: String,
                    pages: [(limit: Int?, offset: Int)], file: StaticString = #filePath, line: UInt = #line) throws {
        let query = try SitesQuery(APIParameters(query: queryString))
        let index = try XCTUnwrap(try store.index(projectID: project), file: file, line: line)
        let expectedTotal = try query.count(engine: engine, projectID: project)
        for (limit, offset) in pages {
            let page = try index.page(query, limit: limit, offset: offset)
            XCTAssertEqual(Int64(page.total), expectedTotal, "total of \(queryString)", file: file, line: line)
            let expected = try query.rows(engine: engine, projectID: project, limit: limit, offset: offset)
            XCTAssertEqual(expected.columns, SitesIndex.resultColumns, file: file, line: line)
            XCTAssertEqual(page.rows, expected.rows, "rows of \(queryString) limit \(limit ?? -1) offset \(offset)", file: file, line: line)
        }
    }

    func testIndexEqualsSQLOnEverySortAndFilter() throws {
        let fixture = APIFixture.shared
        let catalog = WarehouseCatalog(dataDirectory: fixture.dataDirectory)
        let engine = QueryEngine(catalog: catalog, options: QueryOptions(resultRowsMax: 10_000_000), logger: quietLogger)
        let store = SitesIndexStore(warehouse: catalog.warehouse)
        let project = fixture.mainProject
        let pages: [(limit: Int?, offset: Int)] = [(50, 0), (7, 93), (1_000, 0), (nil, 0), (50, 100_000)]
        for column in TableSchema.sites.columns.map(\.name) {
            for sort in [column, "-" + column] {
                try assertSame("sort=\(sort)", store: store, engine: engine, project: project, pages: [(25, 0), (13, 200)])
            }
        }
        let locale = fixture.events(of: project).compactMap(\.wpLocale).first!
        let someKey = fixture.events(of: project).compactMap(\.siteKey).first!
        for filters in ["", "status=active", "status=deactivated&sort=first_seen", "wp_locale=\(escaped(locale))",
                        "wp_locale=\(escaped(locale))&wp_locale=", "wp_locale=", "php_minor=8.1&php_minor=7.4&sort=-php_version",
                        "q=\(escaped(String(someKey.prefix(6)).uppercased()))", "q=%25", "q=_", "q=.com&status=active&sort=site_name",
                        "wp_multisite=true", "wp_multisite=0", "event_count=1", "users_total=1&sort=-users_total",
                        "first_seen=\(escaped(iso(APIFixture.end)))", "status=skipped", "site_key=\(escaped(someKey))"] {
            try assertSame(filters, store: store, engine: engine, project: project, pages: pages)
        }
        // Memory: after every sort and filter, only the last few decoded columns are held.
        XCTAssertLessThanOrEqual(try XCTUnwrap(try store.index(projectID: project)).cachedColumnCount, SitesIndex.cachedColumnsMax)
        // A project without a snapshot has no index (the endpoint answers an empty list).
        XCTAssertNil(try store.index(projectID: "no-such-project"))
    }

    func testIndexIsReloadedWhenASnapshotIsReplaced() throws {
        let data = makeTemporaryDirectory("sites-index-reload")
        let end = UTCTime.parseISO("2026-04-01T00:00:00Z")!
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: data, projects: 1, sites: 40, weeks: 2, seed: 9, endMicros: end))
        let hours = FileIO.walkFiles(data + "/raw").sorted()
        let held = hours.suffix(hours.count / 2)
        var heldBytes: [(String, [UInt8])] = []
        for path in held {
            heldBytes.append((path, try FileIO.readFile(path)))
            FileIO.remove(path)
        }
        _ = try Compactor(dataDirectory: data, options: Compactor.Options(), logger: quietLogger).run()
        let catalog = WarehouseCatalog(dataDirectory: data)
        let store = SitesIndexStore(warehouse: catalog.warehouse)
        let project = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: "p").projects[0].id
        let before = try XCTUnwrap(try store.index(projectID: project))
        let engine = QueryEngine(catalog: catalog, logger: quietLogger)
        try assertSame("", store: store, engine: engine, project: project, pages: [(nil, 0)])
        XCTAssertGreaterThan(store.rowReadCache.chunkCount, 0, "a page read keeps its chunks' page tables")
        for (path, bytes) in heldBytes { try FileIO.writeFileAtomically(path, bytes) }
        _ = try Compactor(dataDirectory: data, options: Compactor.Options(), logger: quietLogger).run()
        let after = try XCTUnwrap(try store.index(projectID: project))
        XCTAssertNotEqual(before.path, after.path, "a new snapshot is a new index")
        XCTAssertFalse(before.filePaths.subtracting(after.filePaths).isEmpty, "the commit replaced a file")
        XCTAssertTrue(store.rowReadCache.paths.isSubset(of: after.filePaths), "the replaced index's files are forgotten")
        try assertSame("", store: store, engine: engine, project: project, pages: [(nil, 0)])
        XCTAssertGreaterThan(store.rowReadCache.chunkCount, 0)
    }

    /// `sites` as a base plus many deltas: the index and SQL both read the merged rows, and
    /// equal what a warehouse compacted in one run (one base) answers.
    func testIndexAndSQLOverBaseAndDeltasEqualOneFullSnapshot() throws {
        let source = makeTemporaryDirectory("sites-index-deltas")
        let end = UTCTime.parseISO("2026-04-01T00:00:00Z")!
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: source, projects: 1, sites: 150, weeks: 4, seed: 3, endMicros: end))
        let copy = makeTemporaryDirectory("sites-index-deltas-copy")
        for path in FileIO.walkFiles(source) {
            let target = copy + String(path.dropFirst(source.count))
            try FileIO.makeDirectories(FileIO.parentDirectory(target))
            try FileIO.writeFileAtomically(target, try FileIO.readFile(path))
        }
        var options = Compactor.Options()
        options.chunkEventsMax = 100
        options.sitesFold.foldAtEnd = false
        options.sitesFold.deltaRowsRatioMax = 1_000
        options.sitesFold.deltasMax = 10_000
        options.sitesFold.deltaAgeSecondsMax = 1_000_000
        options.sitesFold.rowGroupRowsMax = 16
        let report = try Compactor(dataDirectory: source, options: options, logger: quietLogger).run()
        XCTAssertGreaterThan(report.sitesDeltas, 1)
        _ = try Compactor(dataDirectory: copy, logger: quietLogger).run()

        let project = try ProjectRegistry.parse(try FileIO.readFile(source + "/projects.json"), path: "p").projects[0].id
        let catalog = WarehouseCatalog(dataDirectory: source)
        let engine = QueryEngine(catalog: catalog, options: QueryOptions(resultRowsMax: 10_000_000), logger: quietLogger)
        let reference = QueryEngine(catalog: WarehouseCatalog(dataDirectory: copy), options: QueryOptions(resultRowsMax: 10_000_000), logger: quietLogger)
        let store = SitesIndexStore(warehouse: catalog.warehouse)
        for sql in ["SELECT * FROM sites ORDER BY site_key", "SELECT count(*), sum(event_count), min(first_seen), max(last_seen) FROM sites",
                    "SELECT status, count(*) FROM sites GROUP BY 1 ORDER BY 1", "SELECT site_key FROM sites ORDER BY last_seen DESC, site_key LIMIT 7"] {
            XCTAssertEqual(try engine.execute(sql: sql).rows, try reference.execute(sql: sql).rows, sql)
        }
        for query in ["", "sort=-last_seen", "sort=first_seen", "status=active&sort=-event_count", "q=a"] {
            try assertSame(query, store: store, engine: engine, project: project, pages: [(25, 0), (13, 40), (nil, 0)])
            try assertSame(query, store: SitesIndexStore(warehouse: WarehouseCatalog(dataDirectory: copy).warehouse), engine: engine,
                           project: project, pages: [(nil, 0)])
        }
    }

    /// A listing page's rows of one row group become ranges split at gaps over a page of the
    /// sites files, so rows far apart never decode the pages between them.
    func testRowsFarApartAreReadAsSeparateRanges() {
        let gap = SitesIndex.rangeGapRowsMax
        XCTAssertEqual(SitesIndex.clusters([]), [])
        XCTAssertEqual(SitesIndex.clusters([7]), [7..<8])
        XCTAssertEqual(SitesIndex.clusters([30_000, 5, 9]), [5..<10, 30_000..<30_001], "sorted, then split")
        XCTAssertEqual(SitesIndex.clusters([0, gap]), [0..<(gap + 1)], "a gap of a page is one range")
        XCTAssertEqual(SitesIndex.clusters([0, gap + 1]), [0..<1, (gap + 1)..<(gap + 2)])
        XCTAssertEqual(SitesIndex.clusters([3, 3, 4]), [3..<5], "a row twice")
    }
}

extension SitesIndexStore {
    /// The index at the newest commit (the endpoint takes one snapshot per request instead).
    func index(projectID: String) throws -> SitesIndex? {
        try index(projectID: projectID, in: try warehouse.snapshot())
    }
}
