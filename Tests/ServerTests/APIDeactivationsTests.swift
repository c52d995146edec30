import Core
import XCTest

final class APIDeactivationsTests: XCTestCase {
    func testReasonsTotalAndPagesNewestFirst() async throws {
        let fixture = APIFixture.shared
        let project = fixture.mainProject
        let end = APIFixture.end, day = APIFixture.day
        let from = end - 68 * day, to = end - 2 * day
        let expected = fixture.events(of: project)
            .filter { $0.event == "deactivate" && $0.receivedAt >= from && $0.receivedAt < to }
            .sorted { $0.isAfter($1) }
        XCTAssertGreaterThan(expected.count, 7, "the dataset should hold deactivations to page through")
        var reasons: [String: Int64] = [:]
        for event in expected { reasons[event.reasonID ?? "∅", default: 0] += 1 }
        let orderedReasons = reasons.sorted { a, b in
            if a.value != b.value { return a.value > b.value }
            if a.key == "∅" || b.key == "∅" { return b.key == "∅" && a.key != "∅" }
            return a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
        }
        let perPage = 7
        try await withAPI { client in
            var seen: [String] = []
            var page = 1
            while true {
                let path = "/api/v1/projects/\(project)/deactivations?from=\(iso(from))&to=\(iso(to))&page=\(page)&per_page=\(perPage)"
                let answer = try await client.call(path, token: fixture.tokens[project]!)
                XCTAssertEqual(answer.status, 200, answer.text)
                guard case .object(let object) = answer.json else { return XCTFail(answer.text) }
                XCTAssertEqual(object.keys, ["reasons", "total", "events"])
                XCTAssertEqual(object["total"]?.int, Int64(expected.count))
                let expectedReasons: [JSONValue] = orderedReasons.map {
                    .object(JSONObject([("reason_id", $0.key == "∅" ? .null : .string($0.key)), ("count", .number(String($0.value)))]))
                }
                XCTAssertEqual(object["reasons"]?.array, expectedReasons)
                let events = object["events"]?.array ?? []
                for event in events {
                    guard case .object(let columns) = event else { return XCTFail("event is not an object") }
                    XCTAssertEqual(columns.keys, TableSchema.events.columns.map(\.name))
                    XCTAssertEqual(columns["event"]?.string, "deactivate")
                    XCTAssertEqual(columns["project_id"]?.string, project)
                    XCTAssertTrue(columns["received_at"]?.string?.hasSuffix("Z") ?? false)
                }
                seen += events.compactMap { $0["event_id"]?.string }
                if events.count < perPage { break }
                page += 1
            }
            XCTAssertEqual(seen, expected.map(\.eventID))
            // Default pagination is 50 a page.
            let first = try await client.call("/api/v1/projects/\(project)/deactivations?from=\(iso(from))&to=\(iso(to))",
                                              token: fixture.adminToken)
            XCTAssertEqual(first.json["events"]?.array?.count, min(50, expected.count))
        }
    }
}
