import Core
import HTTPTypes
import HummingbirdTesting
import Integrations
import XCTest
@testable import Ingest
@testable import Server

/// `GET /api/v1/projects/{id}/deliveries` (CONTRACT §8): the JSON shape, the status filter,
/// pages, 400 on bad parameters, and the same token rules as the other project routes.
final class APIDeliveriesTests: XCTestCase {
    func testDeliveriesShapeFilterPagesAndAccess() async throws {
        let data = makeTemporaryDirectory()
        let acmeToken = "th_acme_token", betaToken = "th_beta_token", adminToken = "th_admin_token"
        let registry = ProjectRegistry(projects: [
            Project(id: "acme", name: "Acme", hash: "h-acme", tokens: [.init(sha256: AccessTokens.sha256Hex(acmeToken), scope: "read")]),
            Project(id: "beta", name: "Beta", hash: "h-beta", tokens: [.init(sha256: AccessTokens.sha256Hex(betaToken), scope: "read")]),
        ], adminTokenHashes: [AccessTokens.sha256Hex(adminToken)])
        try FileIO.writeFileAtomically(data + "/projects.json", registry.serialized())
        let store = OutboxStore(dataDirectory: data)
        let log = store.log(projectID: "acme", integrationID: "hooks")
        func event(_ id: String, _ seconds: Int64, _ type: LifecycleEvent.EventType = .activated) -> LifecycleEvent {
            LifecycleEvent(id: id, type: type, projectID: "acme", siteKey: "s-\(id)", occurredAtMicros: seconds * 1_000_000,
                           body: JSONObject([("id", .string(id)), ("site", .object(JSONObject([("admin_email", .string("x@example.com"))])))]))
        }
        try log.add([event("e1", 1_780_000_000), event("e2", 1_780_000_100, .deactivated), event("e3", 1_780_000_200)])
        try log.record("e1", outcome: AttemptRecord(kind: .delivered, atMicros: 1_780_000_500_000_000, status: 200, error: nil))
        try log.record("e2", outcome: AttemptRecord(kind: .dead, atMicros: 1_780_000_600_000_000, status: 400, error: "webhook: HTTP 400"))
        try log.record("e3", outcome: AttemptRecord(kind: .attempt, atMicros: 1_780_000_700_000_000, status: 503, error: "webhook: HTTP 503",
                                                    nextAttemptAtMicros: 1_780_000_800_000_000))

        var configuration = ServerConfiguration(dataDirectory: data, writerID: "api")
        configuration.role = .query
        configuration.compactionIntervalSeconds = nil
        let components = try buildComponents(configuration: configuration, logger: quietLogger)
        let app = buildApplication(components: components, logger: quietLogger)
        try await app.test(.router) { client in
            let all = try await client.call("/api/v1/projects/acme/deliveries", token: acmeToken)
            XCTAssertEqual(all.status, 200, all.text)
            guard case .object(let root) = all.json else { return XCTFail(all.text) }
            XCTAssertEqual(root.keys, ["total", "deliveries"])
            XCTAssertEqual(all.json["total"]?.int, 3)
            let list = all.json["deliveries"]?.array ?? []
            XCTAssertEqual(list.compactMap { $0["id"]?.string }, ["e3", "e2", "e1"], "newest first")
            guard case .object(let first)? = list.first else { return XCTFail() }
            XCTAssertEqual(first.keys, ["id", "integration", "type", "status", "attempts", "last_status", "last_error",
                                        "next_attempt_at", "delivered_at"])
            XCTAssertEqual(list[0]["status"]?.string, "pending")
            XCTAssertEqual(list[0]["attempts"]?.int, 1)
            XCTAssertEqual(list[0]["last_status"]?.int, 503)
            XCTAssertEqual(list[0]["next_attempt_at"]?.string, "2026-05-28T20:40:00Z")
            XCTAssertEqual(list[0]["delivered_at"]?.isNull, true)
            XCTAssertEqual(list[1]["status"]?.string, "dead")
            XCTAssertEqual(list[1]["type"]?.string, "site.deactivated")
            XCTAssertEqual(list[1]["last_error"]?.string, "webhook: HTTP 400")
            XCTAssertEqual(list[1]["next_attempt_at"]?.isNull, true)
            XCTAssertEqual(list[2]["status"]?.string, "delivered")
            XCTAssertEqual(list[2]["integration"]?.string, "hooks")
            XCTAssertEqual(list[2]["delivered_at"]?.string, "2026-05-28T20:35:00Z")
            XCTAssertEqual(list[2]["last_error"]?.isNull, true)
            XCTAssertFalse(all.text.contains("x@example.com"), "no body, no email in the list")

            let dead = try await client.call("/api/v1/projects/acme/deliveries?status=dead", token: adminToken)
            XCTAssertEqual(dead.json["total"]?.int, 1)
            XCTAssertEqual(dead.json["deliveries"]?.array?.first?["id"]?.string, "e2")
            let paged = try await client.call("/api/v1/projects/acme/deliveries?page=2&per_page=2", token: acmeToken)
            XCTAssertEqual(paged.json["total"]?.int, 3)
            XCTAssertEqual(paged.json["deliveries"]?.array?.compactMap { $0["id"]?.string }, ["e1"])
            let none = try await client.call("/api/v1/projects/beta/deliveries", token: betaToken)
            XCTAssertEqual(none.status, 200)
            XCTAssertEqual(none.text, "{\"total\":0,\"deliveries\":[]}")

            for bad in ["status=failed", "page=0", "per_page=abc"] {
                let answer = try await client.call("/api/v1/projects/acme/deliveries?\(bad)", token: acmeToken)
                XCTAssertEqual(answer.status, 400, bad)
                XCTAssertEqual(answer.json["error"]?.string, "bad_request", bad)
            }
            let anonymous = try await client.call("/api/v1/projects/acme/deliveries", token: nil)
            XCTAssertEqual(anonymous.status, 401)
            let wrong = try await client.call("/api/v1/projects/acme/deliveries", token: "th_nope")
            XCTAssertEqual(wrong.status, 401)
            let other = try await client.call("/api/v1/projects/acme/deliveries", token: betaToken)
            XCTAssertEqual(other.status, 403)
            XCTAssertEqual(other.json["error"]?.string, "forbidden")
            let missing = try await client.call("/api/v1/projects/nope/deliveries", token: adminToken)
            XCTAssertEqual(missing.status, 404)
        }
    }
}
