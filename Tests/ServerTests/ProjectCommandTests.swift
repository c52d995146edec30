import Core
import Foundation
import XCTest
@testable import Ingest
@testable import Server

/// `trackhouse project …` and `token list|revoke` through the built binary (skipped when it
/// is not built; `TRACKHOUSE_BIN` names the release build).
final class ProjectCommandTests: XCTestCase {
    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runTrackhouse(arguments)
    }

    func registryJSON(_ data: String) throws -> JSONValue {
        try JSONParser.parse(try FileIO.readFile(data + "/projects.json"), depthMax: 64)
    }

    func testAddListShowUpdateRemoveRoundTrip() throws {
        let data = makeTemporaryDirectory()
        let added = try run(["project", "add", "--data", data, "--id", "acme-seo", "--name", "Acme SEO",
                             "--hash", "A4A8DA5B-B419-4656-98E9-4A42E9044891", "--server-url", "https://th.example.org/"])
        XCTAssertEqual(added.status, 0, added.stderr)
        XCTAssertTrue(added.stdout.contains("new Appsero\\Client( 'a4a8da5b-b419-4656-98e9-4a42e9044891', 'Acme SEO', __FILE__ )"), added.stdout)
        XCTAssertTrue(added.stdout.contains("add_filter( 'appsero_endpoint'"), added.stdout)
        XCTAssertTrue(added.stdout.contains("return 'https://th.example.org';"), added.stdout)
        XCTAssertTrue(added.stdout.contains("GLOBAL") && added.stdout.contains("pre_http_request"), added.stdout)

        let generated = try run(["project", "add", "--data", data, "--id", "beta_theme", "--name", "Beta", "--type", "theme"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        XCTAssertTrue(generated.stdout.contains("Replace https://trackhouse.example.com"), generated.stdout)

        let registry = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: "projects.json")
        XCTAssertEqual(registry.projects.map(\.id), ["acme-seo", "beta_theme"])
        XCTAssertEqual(registry.project(hash: "a4a8da5b-b419-4656-98e9-4a42e9044891")?.id, "acme-seo")
        let beta = try XCTUnwrap(registry.project(id: "beta_theme"))
        XCTAssertEqual(beta.type, "theme")
        XCTAssertNotNil(UUID(uuidString: beta.hash), "a generated hash is a UUID like Appsero's: \(beta.hash)")
        XCTAssertEqual(beta.hash, beta.hash.lowercased())

        let listed = try run(["project", "list", "--data", data, "--format", "json"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let projects = try JSONParser.parse(listed.stdout)["projects"]
        guard case .array(let entries)? = projects else { return XCTFail(listed.stdout) }
        XCTAssertEqual(entries.compactMap { $0["id"]?.stringValue }, ["acme-seo", "beta_theme"])
        XCTAssertEqual(entries.first?["hash"]?.stringValue, "a4a8da5b-b419-4656-98e9-4a42e9044891")
        let table = try run(["project", "list", "--data", data])
        XCTAssertTrue(table.stdout.hasPrefix("ID"), table.stdout)
        XCTAssertTrue(table.stdout.contains("beta_theme"), table.stdout)

        let updated = try run(["project", "update", "acme-seo", "--data", data, "--name", "Acme SEO Pro",
                               "--add-extra-field", "total_posts:int", "--add-reason", "too-expensive"])
        XCTAssertEqual(updated.status, 0, updated.stderr)
        let shown = try run(["project", "show", "acme-seo", "--data", data, "--format", "json"])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        let project = try JSONParser.parse(shown.stdout)
        XCTAssertEqual(project["name"]?.stringValue, "Acme SEO Pro")
        XCTAssertEqual(project["hash"]?.stringValue, "a4a8da5b-b419-4656-98e9-4a42e9044891")
        let after = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: "projects.json")
        XCTAssertEqual(after.project(id: "acme-seo")?.extraFields, [.init(key: "total_posts", type: .int)])
        XCTAssertEqual(after.project(id: "acme-seo")?.deactivationReasons, ["too-expensive"])
        let text = try run(["project", "show", "acme-seo", "--data", data])
        XCTAssertTrue(text.stdout.contains("total_posts:int") && text.stdout.contains("appsero_endpoint"), text.stdout)

        let unconfirmed = try run(["project", "remove", "beta_theme", "--data", data])
        XCTAssertNotEqual(unconfirmed.status, 0)
        XCTAssertTrue(unconfirmed.stderr.contains("--yes"), unconfirmed.stderr)
        let removed = try run(["project", "remove", "beta_theme", "--data", data, "--yes"])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        let final = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: "projects.json")
        XCTAssertEqual(final.projects.map(\.id), ["acme-seo"])
        XCTAssertTrue(FileIO.list(data).allSatisfy { !$0.hasPrefix(".tmp-") }, "no temp file is left behind")
    }

    func testInvalidInputIsRefusedWithAFix() throws {
        let data = makeDataDirectory()
        let before = try FileIO.readFile(data + "/projects.json")
        let cases: [([String], String)] = [
            (["project", "add", "--id", "Acme SEO", "--name", "X"], "acme-seo"),
            (["project", "add", "--id", "_lead", "--name", "X"], "a-z 0-9"),
            (["project", "add", "--id", String(repeating: "a", count: 65), "--name", "X"], "1–64"),
            (["project", "add", "--id", "acme-seo", "--name", "Again"], "already exists"),
            (["project", "add", "--id", "other", "--name", "X", "--hash", demoHash.uppercased()], "acme-seo"),
            (["project", "add", "--id", "other", "--name", "X", "--hash", "has space"], "omit --hash"),
            (["project", "add", "--id", "other", "--name", "  "], "--name"),
            (["project", "add", "--id", "other", "--name", "X", "--type", "bundle"], "plugin or theme"),
            (["project", "update", "nope", "--name", "X"], "known: acme-seo"),
            (["project", "update", "acme-seo"], "nothing to change"),
            (["project", "update", "acme-seo", "--add-extra-field", "k:date"], "string, int, float, bool"),
            (["project", "show", "nope"], "nope"),
            (["project", "remove", "nope", "--yes"], "nope"),
            (["token", "revoke", "0123456789ab"], "token list"),
        ]
        for (arguments, expected) in cases {
            let result = try run(arguments + ["--data", data])
            XCTAssertNotEqual(result.status, 0, "\(arguments) should fail")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
        XCTAssertEqual(try FileIO.readFile(data + "/projects.json"), before, "a refused edit writes nothing")

        // A registry serve would refuse is reported, and left alone.
        try FileIO.writeFileAtomically(data + "/projects.json", Array("{\"projects\": [{\"id\": \"x\"}]}".utf8))
        let broken = try run(["project", "add", "--data", data, "--id", "other", "--name", "X"])
        XCTAssertNotEqual(broken.status, 0)
        XCTAssertTrue(broken.stderr.contains("hash") && broken.stderr.contains("The registry"), broken.stderr)
    }

    func testEditsKeepFieldsTheyDoNotManage() throws {
        let data = makeTemporaryDirectory()
        let original = """
        {"version": 2, "projects": [
          {"id": "acme-seo", "name": "Acme", "type": "plugin", "hash": "\(demoHash)", "color": "#ff0000",
           "extra_fields": [{"key": "total_posts", "type": "int", "label": "Posts"}],
           "deactivation_reasons": ["too-expensive"],
           "tokens": [{"sha256": "\(String(repeating: "ab", count: 32))", "scope": "read", "note": "ci"}],
           "integrations": [{"id": "hooks", "kind": "webhook", "url": "https://crm.example.com/in",
                             "secret_env": "ACME_HOOK_SECRET", "since": "2026-12-01T00:00:00Z", "retry": {"max": 1.50}}]},
          {"id": "gone", "name": "Gone", "hash": "11111111-2222-3333-4444-555555555555"}],
         "admin_tokens": [{"sha256": "\(String(repeating: "cd", count: 32))", "owner": "ops"}],
         "settings": {"future": [1, 2.50, null, true]}}
        """
        try FileIO.writeFileAtomically(data + "/projects.json", Array(original.utf8))
        let before = try registryJSON(data)

        for arguments in [["project", "add", "--id", "new-one", "--name", "New"],
                          ["project", "update", "acme-seo", "--name", "Acme SEO"],
                          ["token", "create", "--project", "acme-seo"],
                          ["token", "create", "--admin"],
                          ["project", "remove", "gone", "--yes"],
                          ["project", "remove", "new-one", "--yes"]] {
            let result = try run(arguments + ["--data", data])
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
        }
        let after = try registryJSON(data)
        XCTAssertEqual(after["version"], .number("2"))
        XCTAssertEqual(after["settings"], before["settings"], "unknown top-level keys survive, numbers as written")
        guard case .array(let projects)? = after["projects"], let acme = projects.first?.objectValue else { return XCTFail() }
        XCTAssertEqual(projects.count, 1)
        XCTAssertEqual(acme["name"]?.stringValue, "Acme SEO")
        XCTAssertEqual(acme["color"]?.stringValue, "#ff0000")
        guard case .array(let beforeProjects)? = before["projects"] else { return XCTFail() }
        XCTAssertEqual(acme["integrations"], beforeProjects[0]["integrations"])
        XCTAssertEqual(acme["extra_fields"], beforeProjects[0]["extra_fields"])
        guard case .array(let tokens)? = acme["tokens"] else { return XCTFail() }
        XCTAssertEqual(tokens.count, 2)
        XCTAssertEqual(tokens[0], beforeProjects[0]["tokens"].flatMap { if case .array(let a) = $0 { return a[0] } else { return nil } })
        guard case .array(let admin)? = after["admin_tokens"] else { return XCTFail() }
        XCTAssertEqual(admin.first?["owner"]?.stringValue, "ops")
        XCTAssertEqual(admin.count, 2)

        // Revoking the old token (created before tokens had ids) by its derived id.
        let list = try run(["token", "list", "--data", data, "--format", "json"])
        XCTAssertTrue(list.stdout.contains("\"id\":\"abababababab\""), list.stdout)
        XCTAssertTrue(list.stdout.contains("\"created_at\":null"), list.stdout)
        let revoked = try run(["token", "revoke", "abababababab", "--data", data])
        XCTAssertEqual(revoked.status, 0, revoked.stderr)
        let last = try registryJSON(data)
        XCTAssertEqual(last["settings"], before["settings"])
        guard case .array(let lastProjects)? = last["projects"], case .array(let lastTokens)? = lastProjects[0]["tokens"] else { return XCTFail() }
        XCTAssertEqual(lastTokens.count, 1)
    }

    func testTokenListHidesSecretsAndARevokedTokenIsRefusedByARunningServer() throws {
        let (server, data, port) = try startServerOnFreshData()
        defer { server.terminate() }
        let created = try run(["token", "create", "--data", data, "--project", "acme-seo"])
        XCTAssertEqual(created.status, 0, created.stderr)
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let admin = try run(["token", "create", "--data", data, "--admin"])
        let adminToken = admin.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let digest = AccessTokens.sha256Hex(token)
        let id = String(digest.prefix(12))
        XCTAssertTrue(created.stderr.contains(id), created.stderr)

        for format in ["table", "json"] {
            let list = try run(["token", "list", "--data", data, "--format", format])
            XCTAssertEqual(list.status, 0, list.stderr)
            XCTAssertTrue(list.stdout.contains(id), list.stdout)
            XCTAssertTrue(list.stdout.contains("acme-seo") && list.stdout.contains("admin"), list.stdout)
            for secret in [token, adminToken, digest, AccessTokens.sha256Hex(adminToken),
                           String(token.dropFirst(3)), String(digest.prefix(13))] {
                XCTAssertFalse(list.stdout.contains(secret) || list.stderr.contains(secret), "\(format) shows a secret")
            }
        }

        func status(_ bearer: String) -> Int? {
            guard let connection = RawHTTPConnection(port: port, timeoutSeconds: 5),
                  connection.send(RawHTTPConnection.request(method: "GET", path: "/api/v1/projects",
                                                             headers: [("Authorization", "Bearer \(bearer)")], body: [])) else { return nil }
            return connection.readResponse()?.status
        }
        func waitFor(_ expected: Int, _ bearer: String) -> Int? {
            let deadline = Date().addingTimeInterval(10)
            var last: Int?
            while Date() < deadline {
                last = status(bearer)
                if last == expected { break }
                usleep(100_000)
            }
            return last
        }
        XCTAssertEqual(waitFor(200, token), 200, "the server picks up a new token")
        let revoked = try run(["token", "revoke", id, "--data", data])
        XCTAssertEqual(revoked.status, 0, revoked.stderr)
        XCTAssertEqual(waitFor(401, token), 401, "a revoked token is refused")
        XCTAssertEqual(status(adminToken), 200, "other tokens keep working")

        // The SDK's license and update routes get a JSON 404 that says why.
        for path in ["/public/license/\(demoHash)/check", "/public/license/\(demoHash)/activate", "/update/\(demoHash)/check"] {
            let connection = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 5))
            XCTAssertTrue(connection.send(RawHTTPConnection.request(
                method: "POST", path: path, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: Array("license_key=abc&url=https%3A%2F%2Fexample.com".utf8))))
            let response = try XCTUnwrap(connection.readResponse(), path)
            XCTAssertEqual(response.status, 404, path)
            XCTAssertEqual(response.headers["content-type"]?.hasPrefix("application/json"), true, "\(response.headers)")
            let body = try JSONParser.parse(response.bodyText)
            XCTAssertEqual(body["error"]?.stringValue, "not_found")
            XCTAssertTrue(body["message"]?.stringValue?.contains("only telemetry") == true, response.bodyText)
        }
        XCTAssertEqual(waitFor(200, adminToken), 200, "the server still answers")
    }

    func testConcurrentAddsLoseNoProject() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("the trackhouse binary is not built") }
        let data = makeTemporaryDirectory()
        let count = 12
        var processes: [Process] = []
        for index in 0..<count {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["project", "add", "--data", data, "--id", "p\(index)", "--name", "Project \(index)"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            processes.append(process)
        }
        for process in processes {
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0)
        }
        let registry = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: "projects.json")
        XCTAssertEqual(Set(registry.projects.map(\.id)), Set((0..<count).map { "p\($0)" }))
        XCTAssertEqual(Set(registry.projects.map(\.hash)).count, count)
    }
}
