import HTTPTypes
import HummingbirdTesting
import XCTest
@testable import Ingest
@testable import Server

final class APIAuthTests: XCTestCase {
    func testMissingOrInvalidTokenIs401() async throws {
        let fixture = APIFixture.shared
        let project = fixture.mainProject
        try await withAPI { client in
            for path in ["/api/v1/projects", "/api/v1/projects/\(project)/stats", "/api/v1/projects/\(project)/sites"] {
                let none = try await client.call(path, token: nil)
                XCTAssertEqual(none.status, 401, path)
                XCTAssertEqual(none.json["error"]?.string, "unauthorized")
                XCTAssertNotNil(none.json["message"]?.string)
                XCTAssertEqual(none.headers[.wwwAuthenticate]?.hasPrefix("Bearer"), true)
                let wrong = try await client.call(path, token: "th_not_a_real_token")
                XCTAssertEqual(wrong.status, 401, path)
                XCTAssertEqual(wrong.json["error"]?.string, "unauthorized")
            }
            let basic = try await client.call("/api/v1/projects", token: nil, headers: [(.authorization, "Basic dXNlcjpwYXNz")])
            XCTAssertEqual(basic.status, 401)
            let query = try await client.call("/api/v1/query", method: .post, token: nil, body: "SELECT 1 FROM events")
            XCTAssertEqual(query.status, 401)
        }
    }

    func testProjectTokenSeesOnlyItsProject() async throws {
        let fixture = APIFixture.shared
        let mine = fixture.mainProject, theirs = fixture.otherProject
        let token = fixture.tokens[mine]!
        try await withAPI { client in
            let list = try await client.call("/api/v1/projects", token: token)
            XCTAssertEqual(list.status, 200)
            let ids = list.json["projects"]?.array?.compactMap { $0["id"]?.string }
            XCTAssertEqual(ids, [mine])
            let project = fixture.projects.first { $0.id == mine }!
            XCTAssertEqual(list.json["projects"]?.array?.first?["name"]?.string, project.name)
            XCTAssertEqual(list.json["projects"]?.array?.first?["type"]?.string, project.type)

            for endpoint in ["stats", "timeseries", "breakdown?dim=php_minor", "deactivations", "sites"] {
                let other = try await client.call("/api/v1/projects/\(theirs)/\(endpoint)", token: token)
                XCTAssertEqual(other.status, 403, endpoint)
                XCTAssertEqual(other.json["error"]?.string, "forbidden")
                let own = try await client.call("/api/v1/projects/\(mine)/\(endpoint)", token: token)
                XCTAssertEqual(own.status, 200, endpoint + " " + own.text)
            }
            // A project that does not exist is still "not yours" for a project token.
            let missing = try await client.call("/api/v1/projects/no-such-project/stats", token: token)
            XCTAssertEqual(missing.status, 403)
        }
    }

    func testAdminSeesEveryProjectAndUnknownIs404() async throws {
        let fixture = APIFixture.shared
        try await withAPI { client in
            let list = try await client.call("/api/v1/projects", token: fixture.adminToken)
            XCTAssertEqual(list.json["projects"]?.array?.compactMap { $0["id"]?.string }, fixture.projects.map(\.id))
            for project in fixture.projects {
                let stats = try await client.call("/api/v1/projects/\(project.id)/stats", token: fixture.adminToken)
                XCTAssertEqual(stats.status, 200)
            }
            let missing = try await client.call("/api/v1/projects/no-such-project/stats", token: fixture.adminToken)
            XCTAssertEqual(missing.status, 404)
            XCTAssertEqual(missing.json["error"]?.string, "not_found")
        }
    }

    func testProjectTokenSQLCannotSeeOtherProjects() async throws {
        let fixture = APIFixture.shared
        let mine = fixture.mainProject
        try await withAPI { client in
            for table in ["events", "sites"] {
                let scoped = try await client.call("/api/v1/query", method: .post, token: fixture.tokens[mine]!,
                                                   body: "SELECT DISTINCT project_id FROM \(table)")
                XCTAssertEqual(scoped.status, 200, scoped.text)
                XCTAssertEqual(scoped.json["rows"]?.array, [.array([.string(mine)])])
                // Naming another project in WHERE finds nothing rather than leaking rows.
                let theirs = try await client.call("/api/v1/query", method: .post, token: fixture.tokens[mine]!,
                                                   body: "SELECT count(*) FROM \(table) WHERE project_id = '\(fixture.otherProject)' OR true")
                let count = theirs.json["rows"]?.array?.first?.array?.first?.int
                let expected = table == "events" ? fixture.events(of: mine).count : fixture.sites(of: mine).count
                XCTAssertEqual(count, Int64(expected))
            }
            // EXPLAIN and the stats of a result do not reveal other projects' files either.
            let explain = try await client.call("/api/v1/query?format=csv", method: .post, token: fixture.tokens[mine]!,
                                                body: "EXPLAIN SELECT count(*) FROM events WHERE received_at > TIMESTAMP '2026-05-20 00:00:00'")
            XCTAssertEqual(explain.status, 200, explain.text)
            XCTAssertTrue(explain.text.contains("events/project=\(mine)/"), explain.text)
            for other in fixture.projects.map(\.id) where other != mine {
                XCTAssertFalse(explain.text.contains(other), explain.text)
            }
            let stats = try await client.call("/api/v1/query", method: .post, token: fixture.tokens[mine]!, body: "SELECT count(*) FROM events")
            let adminStats = try await client.call("/api/v1/query", method: .post, token: fixture.adminToken, body: "SELECT count(*) FROM events")
            XCTAssertLessThan(stats.json["stats"]?["units_total"]?.int ?? .max, adminStats.json["stats"]?["units_total"]?.int ?? 0)
            let admin = try await client.call("/api/v1/query", method: .post, token: fixture.adminToken,
                                              body: "SELECT DISTINCT project_id FROM events ORDER BY 1")
            XCTAssertEqual(admin.json["rows"]?.array?.compactMap { $0.array?.first?.string }, fixture.projects.map(\.id).sorted())
            let narrowed = try await client.call("/api/v1/query?project=\(mine)", method: .post, token: fixture.adminToken,
                                                 body: "SELECT DISTINCT project_id FROM events")
            XCTAssertEqual(narrowed.json["rows"]?.array, [.array([.string(mine)])])
            let forbidden = try await client.call("/api/v1/query?project=\(fixture.otherProject)", method: .post,
                                                  token: fixture.tokens[mine]!, body: "SELECT count(*) FROM events")
            XCTAssertEqual(forbidden.status, 403)
        }
    }

    func testGrantComparesEveryDigest() {
        let registry = ProjectRegistry(projects: [
            Project(id: "a", name: "A", hash: "h1", tokens: [.init(sha256: AccessTokens.sha256Hex("t1"), scope: "read")]),
            Project(id: "b", name: "B", hash: "h2", tokens: [.init(sha256: AccessTokens.sha256Hex("t1"), scope: "read"),
                                                             .init(sha256: AccessTokens.sha256Hex("t2"), scope: "read")]),
        ], adminTokenHashes: [AccessTokens.sha256Hex("root")])
        XCTAssertEqual(APIAccess.grant(tokenDigest: AccessTokens.sha256Hex("t1"), registry: registry), .projects(["a", "b"]))
        XCTAssertEqual(APIAccess.grant(tokenDigest: AccessTokens.sha256Hex("t2"), registry: registry), .projects(["b"]))
        XCTAssertEqual(APIAccess.grant(tokenDigest: AccessTokens.sha256Hex("root"), registry: registry), .admin)
        XCTAssertNil(APIAccess.grant(tokenDigest: AccessTokens.sha256Hex("nope"), registry: registry))
    }
}
