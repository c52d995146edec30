import Core
import XCTest

final class APIBreakdownTests: XCTestCase {
    func testBreakdownCountsActiveSitesByTheirLatestEvent() async throws {
        let fixture = APIFixture.shared
        let project = fixture.mainProject
        let end = APIFixture.end, day = APIFixture.day
        let cases: [(dim: String, at: Int64, activeDays: Int?, limit: Int?, key: @Sendable (APIFixture.EventRecord) -> String?)] = [
            ("php_minor", end, nil, nil, { $0.phpMinor }),
            ("php_minor", end - 20 * day + 12_345_678, 7, 2, { $0.phpMinor }),
            ("wp_locale", end - 40 * day, 30, 3, { $0.wpLocale }),
            ("event", end, 14, 5, { $0.event }),
        ]
        try await withAPI { client in
            for (dim, at, activeDays, limit, key) in cases {
                var path = "/api/v1/projects/\(project)/breakdown?dim=\(dim)&at=\(iso(at))"
                if let activeDays { path += "&active_days=\(activeDays)" }
                if let limit { path += "&limit=\(limit)" }
                let answer = try await client.call(path, token: fixture.tokens[project]!)
                XCTAssertEqual(answer.status, 200, answer.text)
                guard case .object(let object) = answer.json else { return XCTFail(answer.text) }
                XCTAssertEqual(object.keys, ["total", "values", "other"])

                let window = Int64(activeDays ?? 14) * day
                let counted = fixture.latestBefore(at, projectID: project).values
                    .filter { $0.event == "track" && $0.receivedAt >= at - window }
                var sites: [String: Int64] = [:]
                for event in counted { sites[key(event) ?? "∅", default: 0] += 1 }
                let ordered = sites.sorted { a, b in
                    if a.value != b.value { return a.value > b.value }
                    if a.key == "∅" || b.key == "∅" { return b.key == "∅" && a.key != "∅" }
                    return a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
                }.prefix(limit ?? 20)
                let expectedValues: [JSONValue] = ordered.map {
                    .object(JSONObject([("value", $0.key == "∅" ? .null : .string($0.key)), ("sites", .number(String($0.value)))]))
                }
                XCTAssertEqual(object["total"]?.int, Int64(counted.count), path)
                XCTAssertEqual(object["values"]?.array, expectedValues, path)
                XCTAssertEqual(object["other"]?.int, Int64(counted.count) - ordered.reduce(0) { $0 + $1.value }, path)
                XCTAssertGreaterThan(counted.count, 0, path)
            }
        }
    }

    func testBreakdownOfATypedColumnRendersTypedValues() async throws {
        let fixture = APIFixture.shared
        let project = fixture.mainProject
        try await withAPI { client in
            let answer = try await client.call("/api/v1/projects/\(project)/breakdown?dim=wp_multisite&at=\(iso(APIFixture.end))",
                                               token: fixture.adminToken)
            XCTAssertEqual(answer.status, 200, answer.text)
            for item in answer.json["values"]?.array ?? [] {
                let value = item["value"]
                XCTAssertTrue(value == .bool(true) || value == .bool(false) || value == .null, "\(String(describing: value))")
            }
        }
    }
}
