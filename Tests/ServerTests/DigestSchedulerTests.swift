import Core
import Ingest
import Integrations
import Mail
import XCTest
@testable import Query
@testable import Server

/// Digests go into the outbox once per closed period, with the dashboard's figures, and a
/// second pass (a restart) adds nothing.
final class DigestSchedulerTests: XCTestCase {
    func testEveryClosedPeriodOnceWithTheDashboardFigures() throws {
        let fixture = APIFixture.shared
        let directory = makeTemporaryDirectory(name)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let engine = QueryEngine(catalog: WarehouseCatalog(dataDirectory: fixture.dataDirectory), logger: quietLogger)
        let query = DigestFiguresQuery(charts: WarehouseChartQueries(engine: engine), engine: engine)
        let outboxes = OutboxStore(dataDirectory: directory)
        let registry = RegistryStore(path: fixture.dataDirectory + "/projects.json")
        let scheduler = DigestScheduler(outboxes: outboxes, figures: query, registry: registry, settleSeconds: 60, logger: quietLogger)
        let project = fixture.projects[0]
        let day = APIFixture.day
        let since = APIFixture.end - 30 * day
        let settings = IntegrationSettings(projectID: project.id, id: "digest", kind: EmailDigestKind.name, sinceMicros: since,
                                           fields: ["smtp_host": "smtp.example.com", "from": "a@x.test", "to": "b@y.test", "period": "weekly"])
        let catalog = IntegrationCatalog(byProject: [project.id: [settings]])

        // Now: 30 s after a week ended: still settling, so that week is not added yet.
        let lastWeekEnd = DigestPeriod.containing(APIFixture.end, frequency: .weekly).start
        let expected = DigestPeriod.closed(since: since, now: lastWeekEnd - 1, frequency: .weekly)
        XCTAssertEqual(scheduler.step(catalog: catalog, nowMicros: lastWeekEnd + 30_000_000), expected.count)
        XCTAssertEqual(scheduler.step(catalog: catalog, nowMicros: lastWeekEnd + 30_000_000), 0, "a second pass adds nothing")
        XCTAssertEqual(scheduler.step(catalog: catalog, nowMicros: lastWeekEnd + 61_000_000), 1, "the settled week comes next")

        let entries = try outboxes.log(projectID: project.id, integrationID: "digest").entries()
        let periods = DigestPeriod.closed(since: since, now: lastWeekEnd, frequency: .weekly)
        XCTAssertEqual(entries.map(\.id), periods.map { EmailDigestKind.deliveryID(projectID: project.id, integrationID: "digest", period: $0) })
        XCTAssertEqual(periods.first?.start, DigestPeriod.containing(since, frequency: .weekly).start, "the period holding since is the first")
        for (entry, period) in zip(entries, periods) {
            XCTAssertEqual(entry.type, EmailDigestKind.entryType)
            let figures = try XCTUnwrap(entry.body.flatMap(DigestFigures.init(json:)))
            XCTAssertEqual(figures, try query.figures(projectID: project.id, projectName: project.name, period: period))
        }
    }
}
