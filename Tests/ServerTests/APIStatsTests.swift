import Core
import XCTest

final class APIStatsTests: XCTestCase {
    /// CONTRACT §7 `stats`, computed in plain Swift over every event.
    static func expectedStats(_ projectID: String, from: Int64, to: Int64) -> [String: Int64] {
        let fixture = APIFixture.shared
        let inRange = fixture.events(of: projectID).filter { $0.receivedAt >= from && $0.receivedAt < to }
        let optIn = Set(inRange.filter { $0.event == "track" }.compactMap(\.siteKey)).count
        let newSites = fixture.sites(of: projectID).values.filter { $0.firstSeen >= from && $0.firstSeen < to }.count
        let deactivations = inRange.filter { $0.event == "deactivate" }.count
        let skipped = Set(inRange.filter { $0.event == "skip" && $0.previouslySkipped != true }.compactMap(\.siteHash)).count
        let active = fixture.latestBefore(to, projectID: projectID).values
            .filter { $0.event == "track" && $0.receivedAt >= to - 14 * APIFixture.day }.count
        return ["opt_in_sites": Int64(optIn), "new_sites": Int64(newSites), "deactivations": Int64(deactivations),
                "skipped": Int64(skipped), "active_sites": Int64(active)]
    }

    func testStatsMatchAnIndependentComputation() async throws {
        let fixture = APIFixture.shared
        let end = APIFixture.end, day = APIFixture.day
        let ranges: [(Int64, Int64)] = [
            (end - 14 * day, end),
            (end - 70 * day, end),
            (UTCTime.parseISO("2026-04-03T05:17:00Z")!, UTCTime.parseISO("2026-05-17T13:30:00.5Z")!),
            (end - 3 * day, end - 2 * day),
            (end + day, end + 40 * day), // after the data: active_sites falls to zero past 14 days
        ]
        try await withAPI { client in
            for project in fixture.projects.map(\.id) {
                for (from, to) in ranges {
                    let answer = try await client.call("/api/v1/projects/\(project)/stats?from=\(iso(from))&to=\(iso(to))",
                                                       token: fixture.adminToken)
                    XCTAssertEqual(answer.status, 200, answer.text)
                    guard case .object(let object) = answer.json else { return XCTFail(answer.text) }
                    XCTAssertEqual(object.keys, ["opt_in_sites", "new_sites", "deactivations", "skipped", "active_sites"])
                    let expected = Self.expectedStats(project, from: from, to: to)
                    for (key, value) in expected {
                        XCTAssertEqual(object[key]?.int, value, "\(project) \(iso(from))..\(iso(to)) \(key)")
                    }
                }
            }
        }
        // The dataset must exercise every number, or the comparison above proves little.
        let busy = Self.expectedStats(fixture.mainProject, from: end - 70 * day, to: end)
        XCTAssertTrue(busy.values.allSatisfy { $0 > 0 }, "\(busy)")
    }

    func testConcurrentRequestsGetTheSameAnswer() async throws {
        let fixture = APIFixture.shared
        let path = "/api/v1/projects/\(fixture.mainProject)/stats?from=\(iso(APIFixture.end - 30 * APIFixture.day))&to=\(iso(APIFixture.end))"
        try await withAPI { client in
            let reference = try await client.call(path, token: fixture.adminToken).text
            let answers = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<16 { group.addTask { try await client.call(path, token: fixture.adminToken).text } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            XCTAssertEqual(answers, Array(repeating: reference, count: 16))
        }
    }
}
