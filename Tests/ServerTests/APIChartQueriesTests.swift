import XCTest
@testable import Query
@testable import Server

/// `ChartQueries` called directly, without HTTP: the reference every other implementation
/// (e.g. a rollup-backed one) should be checked against with `assertMatchesReference`.
final class APIChartQueriesTests: XCTestCase {
    static func warehouseCharts() -> WarehouseChartQueries {
        let engine = QueryEngine(catalog: WarehouseCatalog(dataDirectory: APIFixture.shared.dataDirectory), logger: quietLogger)
        return WarehouseChartQueries(engine: engine)
    }

    func testWarehouseChartQueriesMatchTheReference() throws {
        try assertMatchesReference(Self.warehouseCharts())
    }

    func testSeriesAssemblerFillsBucketsAndFoldsTheRest() {
        let starts: [Int64] = [0, 10, 20]
        let assembler = SeriesAssembler(bucketStarts: starts)
        let cells: [SeriesAssembler.Cell] = [
            .init(bucket: 0, key: .string("b"), count: 5), .init(bucket: 20, key: .string("a"), count: 5),
            .init(bucket: 10, key: .null, count: 7), .init(bucket: 10, key: .string("c"), count: 1),
            .init(bucket: 20, key: .string("c"), count: 2),
        ]
        let series = assembler.brokenDown(cells, limit: 2)
        // null (7) first; a and b tie at 5 and sort by key; c is folded into __other__.
        XCTAssertEqual(series.map(\.key), [.value(.null), .value(.string("a")), .other])
        XCTAssertEqual(series.map { $0.points.map(\.count) }, [[0, 7, 0], [0, 0, 5], [5, 1, 2]])
        XCTAssertEqual(assembler.brokenDown(cells, limit: 4).map(\.key).last, .value(.string("c")))
        XCTAssertEqual(assembler.single([]).first?.points.map(\.count), [0, 0, 0])
    }
}

extension XCTestCase {
    /// Compares `charts` with plain-Swift computations over every event of every project.
    func assertMatchesReference(_ charts: some ChartQueries, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = APIFixture.shared
        let end = APIFixture.end, day = APIFixture.day
        for project in fixture.projects.map(\.id) {
            for (from, to) in [(end - 21 * day, end), (end - 50 * day + 999, end - 9 * day)] {
                let stats = try charts.stats(projectID: project, range: TimeRange(from: from, to: to))
                let expected = APIStatsTests.expectedStats(project, from: from, to: to)
                XCTAssertEqual([stats.optInSites, stats.newSites, stats.deactivations, stats.skipped, stats.activeSites],
                               ["opt_in_sites", "new_sites", "deactivations", "skipped", "active_sites"].map { expected[$0]! },
                               "\(project) stats", file: file, line: line)
                for metric in TimeseriesMetric.allCases {
                    let request = TimeseriesRequest(metric: metric, interval: .day, range: TimeRange(from: from, to: to))
                    let series = try charts.timeseries(projectID: project, request: request)
                    let cells = APITimeseriesTests.expectedCells(project, metric: metric.rawValue, interval: "day", from: from, to: to) { _ in nil }
                    XCTAssertEqual(series.count, 1, file: file, line: line)
                    XCTAssertEqual(series.first?.points.map(\.count), series.first?.points.map { cells["∅"]?[$0.start] ?? 0 },
                                   "\(project) \(metric)", file: file, line: line)
                }
                let breakdown = try charts.breakdown(projectID: project, request: BreakdownRequest(dimension: "wp_locale", at: to, limit: 1_000))
                let latest = fixture.latestBefore(to, projectID: project).values.filter { $0.event == "track" && $0.receivedAt >= to - 14 * day }
                XCTAssertEqual(breakdown.total, Int64(latest.count), file: file, line: line)
                XCTAssertEqual(breakdown.other, 0, file: file, line: line)
                var byLocale: [Value: Int64] = [:]
                for event in latest { byLocale[event.wpLocale.map(Value.string) ?? .null, default: 0] += 1 }
                XCTAssertEqual(Dictionary(uniqueKeysWithValues: breakdown.values.map { ($0.value, $0.sites) }), byLocale, file: file, line: line)
            }
        }
    }
}
