import Mail
import XCTest
@testable import Query
@testable import Server

/// The digest's figures come from the dashboard's own chart queries: checked against the
/// plain-Swift reference the API tests use, for each period kind.
final class DigestFiguresTests: XCTestCase {
    func testFiguresMatchTheDashboardReference() throws {
        let fixture = APIFixture.shared
        let engine = QueryEngine(catalog: WarehouseCatalog(dataDirectory: fixture.dataDirectory), logger: quietLogger)
        let query = DigestFiguresQuery(charts: WarehouseChartQueries(engine: engine), engine: engine)
        let day = APIFixture.day
        for project in fixture.projects {
            for frequency in DigestFrequency.allCases {
                let period = DigestPeriod.containing(APIFixture.end - 3 * day, frequency: frequency).previous
                let figures = try query.figures(projectID: project.id, projectName: project.name, period: period)
                let expected = APIStatsTests.expectedStats(project.id, from: period.start, to: period.end)
                XCTAssertEqual(figures.newSites, expected["new_sites"], "\(project.id) \(frequency)")
                XCTAssertEqual(figures.deactivations, expected["deactivations"])
                XCTAssertEqual(figures.activeSites, expected["active_sites"])
                XCTAssertEqual(figures.reportingSites, expected["opt_in_sites"])

                let deactivations = fixture.events(of: project.id).filter {
                    $0.event == "deactivate" && $0.receivedAt >= period.start && $0.receivedAt < period.end
                }
                var byReason: [String?: Int64] = [:]
                for event in deactivations { byReason[event.reasonID, default: 0] += 1 }
                XCTAssertEqual(Dictionary(uniqueKeysWithValues: figures.reasons.map { ($0.reasonID, $0.count) }), byReason)
                XCTAssertEqual(figures.reasons.map(\.count), figures.reasons.map(\.count).sorted(by: >), "most frequent first")

                let latest = fixture.latestBefore(period.end, projectID: project.id).values
                    .filter { $0.event == "track" && $0.receivedAt >= period.end - 14 * day }
                XCTAssertEqual(figures.phpVersions.total, Int64(latest.count))
                var byPHP: [String?: Int64] = [:]
                for event in latest { byPHP[event.phpMinor, default: 0] += 1 }
                let listed = figures.phpVersions.values
                XCTAssertLessThanOrEqual(listed.count, DigestFiguresQuery.versionsListed)
                for share in listed { XCTAssertEqual(share.sites, byPHP[share.value], "php \(share.value ?? "null")") }
                XCTAssertEqual(listed.reduce(0) { $0 + $1.sites } + figures.phpVersions.other, figures.phpVersions.total)
                XCTAssertEqual(figures.wordpressVersions.total, Int64(latest.count))
            }
        }
    }
}
