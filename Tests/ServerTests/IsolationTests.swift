import Core
import Foundation
import Synchronization
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import Ingest

/// One tenant's damaged file or heavy queries never take down another's: tested on the
/// release binary over real sockets.
final class IsolationTests: XCTestCase {
    struct Warehouse {
        let data: String
        let projects: [String]
        let tokens: [String: String]
        let admin: String
    }

    /// A generated, compacted warehouse of two projects with a token each and an admin token.
    func makeWarehouse(sites: Int, weeks: Int, name: String = #function) throws -> Warehouse {
        let data = makeTemporaryDirectory(name)
        let gen = try runTrackhouse(["gen", "--out", data, "--projects", "2", "--sites", String(sites), "--weeks", String(weeks),
                                     "--seed", "7", "--end", "now", "--quiet"])
        XCTAssertEqual(gen.status, 0, gen.stderr)
        let compact = try runTrackhouse(["compact", "--data", data, "--include-open", "--quiet"])
        XCTAssertEqual(compact.status, 0, compact.stderr)
        let registry = try ProjectRegistry.parse(try FileIO.readFile(data + "/projects.json"), path: data + "/projects.json")
        let ids = registry.projects.map(\.id).sorted()
        var tokens: [String: String] = [:]
        for id in ids {
            let created = try runTrackhouse(["token", "create", "--data", data, "--project", id])
            XCTAssertEqual(created.status, 0, created.stderr)
            tokens[id] = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let admin = try runTrackhouse(["token", "create", "--data", data, "--admin"])
        return Warehouse(data: data, projects: ids, tokens: tokens, admin: admin.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func get(_ port: Int, _ path: String, token: String? = nil, method: String = "GET", body: String = "") -> RawHTTPConnection.Response? {
        guard let connection = RawHTTPConnection(port: port, timeoutSeconds: 60) else { return nil }
        let headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
        guard connection.send(RawHTTPConnection.request(method: method, path: path, headers: headers, body: Array(body.utf8))) else { return nil }
        return connection.readResponse()
    }

    /// A truncated segment of project B: B's queries that need it fail with a message that
    /// names no server path; A's charts and SQL answer as before and name nothing of B;
    /// `/healthz` says degraded and names the file.
    func testDamagedFileOfOneProjectFailsOnlyThatProject() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("trackhouse binary not built; set TRACKHOUSE_BIN") }
        let warehouse = try makeWarehouse(sites: 150, weeks: 6)
        let (projectA, projectB) = (warehouse.projects[0], warehouse.projects[1])
        let root = warehouse.data + "/warehouse/events/project=\(projectB)"
        let segments = try XCTUnwrap(FileManager.default.subpathsOfDirectory(atPath: root).filter { $0.hasSuffix(".parquet") }.sorted())
        let damaged = root + "/" + (try XCTUnwrap(segments.first))
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: damaged)[.size] as? Int)
        XCTAssertEqual(truncate(damaged, off_t(size / 2)), 0)

        let port = freePort()
        let server = try ServerProcess(binary: binary, dataDirectory: warehouse.data, port: port)
        defer { server.terminate() }
        XCTAssertTrue(server.waitUntilHealthy())
        let tokenA = try XCTUnwrap(warehouse.tokens[projectA]), tokenB = try XCTUnwrap(warehouse.tokens[projectB])
        let absolute = URL(fileURLWithPath: warehouse.data).standardizedFileURL.path

        for path in ["stats", "timeseries?metric=sites&interval=week", "breakdown?dim=wp_version", "deactivations", "sites"] {
            let answer = try XCTUnwrap(Self.get(port, "/api/v1/projects/\(projectA)/\(path)", token: tokenA))
            XCTAssertEqual(answer.status, 200, "\(path): \(answer.bodyText)")
        }
        let sqlA = try XCTUnwrap(Self.get(port, "/api/v1/query", token: tokenA, method: "POST", body: "SELECT count(*), sum(users_total) FROM events"))
        XCTAssertEqual(sqlA.status, 200, sqlA.bodyText)

        let sqlB = try XCTUnwrap(Self.get(port, "/api/v1/query", token: tokenB, method: "POST", body: "SELECT count(*), sum(users_total) FROM events"))
        XCTAssertEqual(sqlB.status, 500, sqlB.bodyText)
        XCTAssertEqual(try JSONParser.parse(sqlB.body).objectValue?["error"]?.stringValue, "io_error", sqlB.bodyText)
        for answer in [sqlA, sqlB] {
            XCTAssertFalse(answer.bodyText.contains(absolute), "an answer names the server's data folder: \(answer.bodyText)")
            XCTAssertFalse(answer.bodyText.contains(warehouse.data), answer.bodyText)
        }
        XCTAssertFalse(sqlA.bodyText.contains(projectB))
        XCTAssertTrue(sqlB.bodyText.contains("damaged"), sqlB.bodyText)

        let health = try XCTUnwrap(Self.get(port, "/healthz"))
        XCTAssertEqual(health.status, 200)
        let object = try XCTUnwrap(try JSONParser.parse(health.body).objectValue)
        XCTAssertEqual(object["status"]?.stringValue, "degraded", health.bodyText)
        XCTAssertTrue(health.bodyText.contains(String(damaged.dropFirst(warehouse.data.count + 1))), health.bodyText)
    }

    /// Ten heavy SQL queries at once (more than the pool admits): `/healthz`, `/metrics`,
    /// ingest and the projects list still answer within a fraction of a second, the
    /// queries beyond the admission limit get 503 or 429 with `Retry-After`, and every
    /// admitted one completes.
    func testHealthAndIngestStayFastWhileHeavyQueriesRun() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("trackhouse binary not built; set TRACKHOUSE_BIN") }
        let warehouse = try makeWarehouse(sites: 3000, weeks: 52)
        let port = freePort()
        let server = try ServerProcess(binary: binary, dataDirectory: warehouse.data, port: port)
        defer { server.terminate() }
        XCTAssertTrue(server.waitUntilHealthy())
        let registry = try ProjectRegistry.parse(try FileIO.readFile(warehouse.data + "/projects.json"), path: "projects.json")
        let hash = try XCTUnwrap(registry.projects.first?.hash)

        let heavy = "SELECT * FROM events ORDER BY plugins DESC, event_id LIMIT 10 OFFSET 40000"
        let statuses = Mutex<[Int]>([])
        let retryAfter = Mutex<[String?]>([])
        let group = DispatchGroup()
        for index in 0..<10 {
            let thread = Thread {
                // Half as the admin, half as one project: both limits are exercised.
                let token = index % 2 == 0 ? warehouse.admin : warehouse.tokens[warehouse.projects[0]]!
                let answer = Self.get(port, "/api/v1/query", token: token, method: "POST", body: heavy)
                statuses.withLock { $0.append(answer?.status ?? 0) }
                if answer?.status == 503 || answer?.status == 429 { retryAfter.withLock { $0.append(answer?.headers["retry-after"]) } }
                group.leave()
            }
            group.enter()
            thread.start()
        }
        Thread.sleep(forTimeInterval: 0.3)
        var slowest = 0.0
        for round in 0..<10 {
            for (method, path, body) in [("GET", "/healthz", ""), ("GET", "/metrics", ""), ("GET", "/api/v1/projects", ""),
                                         ("POST", "/track", "hash=\(hash)&url=https://busy\(round).example")] {
                let started = Date()
                let connection = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 30))
                var headers = [("Authorization", "Bearer \(warehouse.admin)")]
                if method == "POST" { headers.append(("Content-Type", "application/x-www-form-urlencoded")) }
                XCTAssertTrue(connection.send(RawHTTPConnection.request(method: method, path: path, headers: headers, body: Array(body.utf8))))
                let answer = connection.readResponse()
                let seconds = Date().timeIntervalSince(started)
                XCTAssertEqual(answer?.status, 200, "\(path) under load")
                slowest = max(slowest, seconds)
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertLessThan(slowest, 1.0, "a light request waited \(slowest) s behind heavy queries")
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success)
        let all = statuses.withLock { $0 }
        XCTAssertTrue(all.allSatisfy { [200, 429, 503].contains($0) }, "\(all)")
        XCTAssertTrue(all.contains(200), "\(all)")
        XCTAssertTrue(retryAfter.withLock { $0 }.allSatisfy { $0 != nil }, "every refusal says when to retry")

        // Freed memory goes back to the kernel once the pools are idle (glibc kept ~2.9 GB
        // after ten heavy queries before).
        Thread.sleep(forTimeInterval: 2)
        let (rss, peak) = try Self.memoryKB(pid: server.process.processIdentifier)
        XCTAssertLessThan(rss, max(peak / 2, 400 * 1024), "RSS \(rss) kB after the queries, peak \(peak) kB")
    }

    /// VmRSS and VmHWM of a process, in kB.
    static func memoryKB(pid: Int32) throws -> (rss: Int, peak: Int) {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func field(_ name: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return (field("VmRSS"), field("VmHWM"))
    }
}
