import Core
import Foundation
import Ingest
import XCTest

/// The release server (`TRACKHOUSE_BIN`) on demo-like data, held to its OpenAPI document:
/// representative requests per route validated against the schemas, then schemathesis
/// generating requests (valid and invalid) as a project token and as an admin token: no 5xx,
/// every status, content type, header and body as documented.
final class OpenAPILiveTests: XCTestCase {
    /// The server and what the requests need, started once for both tests.
    struct Live {
        let server: ServerProcess
        let url: String
        let adminToken: String
        let projectToken: String
        let project: String
        let otherProject: String
        let hash: String
    }

    nonisolated(unsafe) static var live: Live?

    static func python() throws -> String {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"], !python.isEmpty else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with jsonschema and schemathesis")
        }
        return python
    }

    /// Generated telemetry for three projects (8 weeks up to now), compacted, with the demo's
    /// admin token and a read token for `acme-seo`, served on a free port.
    static func start() throws -> Live {
        if let live { return live }
        guard let binary = trackhouseBinary() else { throw XCTSkip("the trackhouse binary is not built; set TRACKHOUSE_BIN") }
        let data = makeTemporaryDirectory("openapi-live")
        XCTAssertEqual(try runTrackhouse(["gen", "--out", data, "--projects", "3", "--sites", "200", "--weeks", "8",
                                          "--seed", "7", "--end", "now"]).status, 0)
        let setup = try runTrackhouse(["demo-setup", "--data", data])
        XCTAssertEqual(setup.status, 0, setup.stderr)
        let adminToken = try String(contentsOfFile: data + "/.demo-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let created = try runTrackhouse(["token", "create", "--data", data, "--project", "acme-seo"])
        XCTAssertEqual(created.status, 0, created.stderr)
        let compact = try runTrackhouse(["compact", "--data", data, "--include-open", "--quiet"])
        XCTAssertEqual(compact.status, 0, compact.stderr)
        let registry = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: "projects.json")
        let project = try XCTUnwrap(registry.project(id: "acme-seo"))
        let other = try XCTUnwrap(registry.projects.first { $0.id != project.id })
        let port = freePort()
        // In-process compaction every second while schemathesis sends SDK requests too: queries
        // race commits and merges (a committed file under its .tmp- or .replaced- name once
        // answered 500 here), and must not fail.
        let server = try ServerProcess(binary: binary, dataDirectory: data, port: port, extraArguments: ["--compact-interval", "1"])
        guard server.waitUntilHealthy() else { throw XCTSkip("the server did not become healthy") }
        let started = Live(server: server, url: "http://127.0.0.1:\(port)", adminToken: adminToken,
                           projectToken: created.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                           project: project.id, otherProject: other.id, hash: project.hash)
        live = started
        return started
    }

    override class func tearDown() {
        live?.server.terminate()
        live = nil
        super.tearDown()
    }

    func testLiveAnswersMatchTheDocument() throws {
        let python = try Self.python()
        let live = try Self.start()
        let result = try runPython(python, [OpenAPIDocumentTests.interop("openapi_check.py"), "live", live.url, live.adminToken,
                                            live.projectToken, live.project, live.otherProject, live.hash])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("every answer as documented"), result.output)
        XCTAssertTrue(result.output.contains("GET /api/v1/openapi.json -> 200"), result.output)
    }

    /// schemathesis 4 against the document the server serves: `--checks all` but
    /// `positive_data_acceptance`, which expects every schema-valid request to pass, and the
    /// API has constraints OpenAPI cannot state (`from` before `to`, at most 10,000 buckets,
    /// SQL that parses, a `hash` some project has). Path ids and the SDK `hash` are pinned to a
    /// real project (Tests/interop/schemathesis.toml) so requests reach the data, not only 403/404.
    /// Bounded: a fixed seed, few examples per operation, about a minute per token; one worker
    /// (hypothesis 6.170 with two worker threads fails now and then inside its own code).
    func testSchemathesisFindsNoServerErrorAndNoUndocumentedAnswer() throws {
        let python = try Self.python()
        let schemathesis = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("schemathesis").path
        guard FileManager.default.isExecutableFile(atPath: schemathesis) else {
            throw XCTSkip("schemathesis is not installed next to TRACKHOUSE_PYTHON (scripts/ensure-venv.sh)")
        }
        let live = try Self.start()
        let reports = makeTemporaryDirectory("schemathesis-reports")
        for (who, token) in [("project", live.projectToken), ("admin", live.adminToken)] {
            let started = Date()
            let result = try runPython(schemathesis, [
                "--config-file", OpenAPIDocumentTests.interop("schemathesis.toml"),
                "run", live.url + "/api/v1/openapi.json",
                "-H", "Authorization: Bearer \(token)",
                "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                "--max-examples", "15", "--max-time", "60", "--seed", "20261206", "--no-shrink",
                "--workers", "1", "--request-timeout", "30",
                "--report", "junit", "--report-dir", reports + "/" + who,
            ], environment: ["TRACKHOUSE_ST_PROJECT": live.project, "TRACKHOUSE_ST_HASH": live.hash, "NO_COLOR": "1"],
               directory: reports)  // its `.schemathesis/` cache goes there, not into the checkout
            XCTAssertEqual(result.status, 0, "schemathesis as the \(who) token found failures:\n" + String(result.output.suffix(12_000)))
            XCTAssertTrue(result.output.contains("Open API 3.1"), result.output)
            XCTAssertLessThan(Date().timeIntervalSince(started), 110, "schemathesis ran longer than its budget")
        }
        // After all that, the server is still healthy.
        XCTAssertTrue(serverIsHealthy(port: live.server.port, timeoutSeconds: 5))
    }
}
