import Core
import Foundation
import XCTest
@testable import Ingest
@testable import Server

/// `trackhouse token create` through the built binary (skipped when it is not built).
final class APITokenCommandTests: XCTestCase {
    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runTrackhouse(arguments)
    }

    func testCreatedTokensAreStoredAsDigestsAndWork() async throws {
        let data = makeDataDirectory()
        let project = try run(["token", "create", "--data", data, "--project", "acme-seo"])
        XCTAssertEqual(project.status, 0, project.stderr)
        let projectToken = project.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(projectToken.hasPrefix("th_"), project.stdout)
        let admin = try run(["token", "create", "--data", data, "--admin"])
        XCTAssertEqual(admin.status, 0, admin.stderr)
        let adminToken = admin.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let path = data + "/projects.json"
        let text = String(decoding: try FileIO.readFile(path), as: UTF8.self)
        XCTAssertFalse(text.contains(projectToken), "the token itself must never be stored")
        XCTAssertFalse(text.contains(adminToken))
        let registry = try ProjectRegistry.parse(try FileIO.readFile(path), path: path)
        XCTAssertEqual(registry.project(id: "acme-seo")?.tokens.map(\.sha256), [AccessTokens.sha256Hex(projectToken)])
        XCTAssertEqual(registry.adminTokenHashes, [AccessTokens.sha256Hex(adminToken)])
        XCTAssertEqual(registry.project(id: "acme-seo")?.extraFields.map(\.key), ["total_posts"], "the rest of the project is kept")

        let unknown = try run(["token", "create", "--data", data, "--project", "nope"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("nope"), unknown.stderr)
        let neither = try run(["token", "create", "--data", data])
        XCTAssertNotEqual(neither.status, 0)

        var configuration = ServerConfiguration(dataDirectory: data, writerID: "api")
        configuration.role = .query
        let components = try buildComponents(configuration: configuration, logger: quietLogger)
        let app = buildApplication(components: components, logger: quietLogger)
        try await app.test(.router) { client in
            let own = try await client.call("/api/v1/projects", token: projectToken)
            XCTAssertEqual(own.status, 200, own.text)
            XCTAssertEqual(own.json["projects"]?.array?.compactMap { $0["id"]?.string }, ["acme-seo"])
            let all = try await client.call("/api/v1/projects", token: adminToken)
            XCTAssertEqual(all.status, 200)
            // No warehouse yet: the charts answer zeros rather than failing.
            let stats = try await client.call("/api/v1/projects/acme-seo/stats", token: projectToken)
            XCTAssertEqual(stats.status, 200, stats.text)
            XCTAssertEqual(stats.json["opt_in_sites"]?.int, 0)
        }
    }
}
