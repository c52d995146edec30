import Core
import Foundation
import Prometheus
import XCTest
@testable import Server

/// `/metrics` (every metric with `# HELP` and `# TYPE`, the build, HTTP, query, compaction,
/// rollup and process metrics), `--log-format json` and `--access-log` (no token, email or query
/// string in the log).
final class ObservabilityTests: XCTestCase {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every metric label in the sources (`Counter(label: "…"`, `Timer(…`, …) has help text in
    /// `MetricsCatalog`: a metric added without one fails here even before any server runs it.
    func testEveryMetricInTheSourcesHasHelp() throws {
        let pattern = try NSRegularExpression(pattern: #"(?:Counter|Gauge|Timer|Recorder|Meter)\(\s*label:\s*"([^"]+)""#)
        var found: [String: String] = [:]
        for folder in ["Sources", "Benchmarks"] {
            let root = Self.sources.appendingPathComponent(folder)
            guard let files = FileManager.default.enumerator(atPath: root.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    let name = String(text[Range(match.range(at: 1), in: text)!])
                    found[name] = folder + "/" + file
                }
            }
        }
        XCTAssertGreaterThan(found.count, 10, "the scan found the metrics")
        for (name, file) in found.sorted(by: { $0.key < $1.key }) {
            XCTAssertNotNil(MetricsCatalog.help[name], "\(name) (\(file)) has no help text in MetricsCatalog")
            XCTAssertFalse((MetricsCatalog.help[name] ?? "").contains("\n"))
        }
    }

    /// The factory gives a metric its catalog help; one the catalog does not know has no
    /// `# HELP`, which `helpProblems` (used on live output below) reports.
    func testTheFactoryWritesHelpFromTheCatalog() {
        let registry = PrometheusCollectorRegistry()
        let factory = TrackhouseMetricsFactory(registry: registry)
        factory.makeCounter(label: "trackhouse_queries_total", dimensions: []).increment(by: 2)
        factory.makeTimer(label: "trackhouse_compaction_duration_seconds", dimensions: []).recordNanoseconds(1_500_000_000)
        factory.makeRecorder(label: "trackhouse_ingest_group_commit_batch_size", dimensions: [], aggregate: true).record(Int64(3))
        factory.makeMeter(label: "trackhouse_outbox_pending", dimensions: []).set(Int64(4))
        var text = registry.emitToString()
        XCTAssertTrue(text.contains("# HELP trackhouse_queries_total SQL statements run"), text)
        XCTAssertTrue(text.contains("# TYPE trackhouse_compaction_duration_seconds histogram"), text)
        XCTAssertTrue(text.contains("trackhouse_compaction_duration_seconds_bucket{le=\"2.0\"} 1"), text)
        XCTAssertEqual(Self.helpProblems(text), [])
        factory.makeCounter(label: "trackhouse_not_in_the_catalog_total", dimensions: []).increment(by: 1)
        text = registry.emitToString()
        XCTAssertEqual(Self.helpProblems(text), ["trackhouse_not_in_the_catalog_total has no # HELP"])
    }

    func testProcessMetricsReadProc() throws {
        XCTAssertEqual(ProcessMetrics.statFields("12 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22")?.first, "S")
        XCTAssertNil(ProcessMetrics.statFields("garbage"))
        let sample = ProcessMetrics.sample()
        guard FileManager.default.fileExists(atPath: "/proc/self/stat") else { throw XCTSkip("no /proc") }
        XCTAssertGreaterThan(sample.residentBytes ?? 0, 1 << 20)
        XCTAssertGreaterThan(sample.openFDs ?? 0, 2)
        XCTAssertNotNil(sample.cpuSeconds)
        let start = try XCTUnwrap(sample.startTimeSeconds)
        XCTAssertLessThan(abs(start - Date().timeIntervalSince1970), 24 * 3600, "started within the day")
        let text = ProcessMetrics.render(sample)
        XCTAssertTrue(text.contains("# TYPE process_cpu_seconds_total counter\n"), text)
        XCTAssertEqual(Self.helpProblems(text), [])
    }

    /// Families in exposition text that lack `# HELP` or `# TYPE`, or a sample whose family
    /// was never declared.
    static func helpProblems(_ text: String) -> [String] {
        var helped = Set<String>(), typed = [String: String]()
        var problems: [String] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 3)
            if line.hasPrefix("# HELP ") && parts.count >= 4 {
                helped.insert(String(parts[2]))
            } else if line.hasPrefix("# TYPE ") && parts.count >= 4 {
                typed[String(parts[2])] = String(parts[3])
            } else if !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                let family = ["_bucket", "_sum", "_count"].first { name.hasSuffix($0) && typed[String(name.dropLast($0.count))] == "histogram" }
                    .map { String(name.dropLast($0.count)) } ?? name
                if typed[family] == nil { problems.append("\(name) has no # TYPE") }
            }
        }
        for name in typed.keys.sorted() where !helped.contains(name) { problems.append("\(name) has no # HELP") }
        return Array(Set(problems)).sorted()
    }

    // MARK: The release server

    /// `trackhouse serve --log-format json --access-log` on demo-like data, with its stderr in
    /// a file; returns it, the data folder, the tokens and the stderr path.
    func startLoggingServer() throws -> (process: Process, port: Int, data: String, admin: String, project: String, log: String) {
        guard let binary = trackhouseBinary() else { throw XCTSkip("the trackhouse binary is not built; set TRACKHOUSE_BIN") }
        let data = makeTemporaryDirectory("observability")
        XCTAssertEqual(try runTrackhouse(["gen", "--out", data, "--projects", "2", "--sites", "60", "--weeks", "3",
                                          "--seed", "3", "--end", "now"]).status, 0)
        XCTAssertEqual(try runTrackhouse(["demo-setup", "--data", data]).status, 0)
        let admin = try String(contentsOfFile: data + "/.demo-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let created = try runTrackhouse(["token", "create", "--data", data, "--project", "acme-seo"])
        XCTAssertEqual(created.status, 0, created.stderr)
        let log = data + "/serve.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let port = freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--data", data, "--port", String(port), "--compact-interval", "1", "--access-log"]
        // The format from the environment: the config layers carry it like every setting.
        process.environment = ProcessInfo.processInfo.environment.merging(["TRACKHOUSE_LOG_FORMAT": "json"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        XCTAssertTrue(serverIsHealthy(port: port), "server did not become healthy")
        return (process, port, data, admin, created.stdout.trimmingCharacters(in: .whitespacesAndNewlines), log)
    }

    func testMetricsLogsAndAccessLogOfALiveServer() throws {
        let server = try startLoggingServer()
        defer { if server.process.isRunning { server.process.terminate(); server.process.waitUntilExit() } }
        let client = OneShotClient(port: server.port)
        let secret = "th_secret_in_the_query_\(UUID().uuidString.prefix(8))"
        let email = "private.person@example.org"
        for token in [server.admin, server.project] {
            // A secret in a query string (stats ignores parameters it does not take) and an email as a filter.
            XCTAssertEqual(try client.get("/api/v1/projects/acme-seo/stats?token=\(secret)", token: token).status, 200)
            XCTAssertEqual(try client.get("/api/v1/projects/acme-seo/sites?q=\(email)", token: token).status, 200)
            XCTAssertEqual(try client.post("/api/v1/query", body: Array("SELECT count(*) FROM events WHERE admin_email = '\(email)'".utf8),
                                           token: token).status, 200)
        }
        XCTAssertEqual(try client.post("/api/v1/query", body: Array("SELEC".utf8), token: server.admin).status, 400)
        XCTAssertEqual(try client.get("/api/v1/projects/acme-seo/stats", token: secret).status, 401)
        XCTAssertEqual(try client.get("/no/such/\(secret)", token: nil).status, 404)
        let registry = try ProjectRegistry.parse(try FileIO.readFile(server.data + "/projects.json"), path: "projects.json")
        let hash = try XCTUnwrap(registry.project(id: "acme-seo")).hash
        XCTAssertEqual(try client.post("/track", body: Array("hash=\(hash)&url=https%3A%2F%2Fobserved.example&admin_email=\(email)".utf8),
                                       contentType: "application/x-www-form-urlencoded", token: nil).status, 200)
        // A compaction and a rollup refresh run after the ingest (interval 1 s).
        let deadline = Date().addingTimeInterval(20)
        var metrics = ""
        repeat {
            usleep(300_000)
            metrics = String(decoding: try client.get("/metrics", token: nil).body, as: UTF8.self)
        } while Date() < deadline && !(metrics.contains("trackhouse_compaction_events_total ") && !metrics.contains("trackhouse_compaction_events_total 0\n")
                                         && metrics.contains("trackhouse_rollup_refresh_duration_seconds_count{kind=\"follow\"}"))

        XCTAssertEqual(Self.helpProblems(metrics), [], metrics)
        for expected in [
            "trackhouse_build_info{version=\"0.1.0\",commit=",
            "trackhouse_http_requests_total{method=\"GET\",route=\"/api/v1/projects/{id}/stats\",status=\"200\"} 2",
            "trackhouse_http_requests_total{method=\"GET\",route=\"/api/v1/projects/{id}/stats\",status=\"401\"} 1",
            "trackhouse_http_requests_total{method=\"POST\",route=\"/api/v1/query\",status=\"400\"} 1",
            "trackhouse_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
            "trackhouse_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/projects/{id}/sites\",status=\"200\",le=",
            "trackhouse_http_requests_total{method=\"POST\",route=\"/track\",status=\"200\"} 1",
            "trackhouse_ingest_requests_total{route=\"track\",status=\"200\"} 1",
            "trackhouse_query_errors_total{code=\"syntax_error\"} 1",
            "trackhouse_query_duration_seconds_count ",
            "trackhouse_query_rows_scanned_total ",
            "trackhouse_compaction_runs_total{result=\"ok\"} ",
            "trackhouse_compaction_duration_seconds_bucket{le=",
            "trackhouse_rollup_refresh_duration_seconds_count{kind=\"build\"} ",
            "trackhouse_rollup_lag_versions ",
            "process_resident_memory_bytes ", "process_cpu_seconds_total ", "process_open_fds ", "process_start_time_seconds ",
        ] {
            XCTAssertTrue(metrics.contains(expected), "no \(expected) in:\n\(metrics)")
        }
        XCTAssertFalse(metrics.contains(secret), "a path of an unmatched request became a label")

        server.process.terminate()
        server.process.waitUntilExit()
        let log = try String(contentsOfFile: server.log, encoding: .utf8)
        let lines = log.split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 10, log)
        var accessRoutes: [String] = []
        for line in lines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                XCTFail("not a JSON line: \(line)")
                continue
            }
            XCTAssertNotNil(object["time"] as? String, String(line))
            XCTAssertNotNil(Logger.Level(rawValue: object["level"] as? String ?? ""), String(line))
            XCTAssertNotNil(object["label"] as? String, String(line))
            XCTAssertNotNil(object["message"] as? String, String(line))
            if object["label"] as? String == "trackhouse.access", let metadata = object["metadata"] as? [String: Any] {
                accessRoutes.append("\(metadata["http.method"] ?? "") \(metadata["http.route"] ?? "") \(metadata["http.status"] ?? "")")
                XCTAssertNotNil(metadata["duration_ms"], String(line))
            }
        }
        XCTAssertTrue(accessRoutes.contains("GET /api/v1/projects/{id}/sites 200"), "\(accessRoutes)")
        XCTAssertTrue(accessRoutes.contains("POST /track 200"), "the SDK routes are logged too: \(accessRoutes)")
        XCTAssertTrue(accessRoutes.contains("GET unmatched 404"), "\(accessRoutes)")
        // Nothing secret: no token (valid or not), no email, no query string.
        for forbidden in [server.admin, server.project, secret, email, "q=", "token=", "private.person"] {
            XCTAssertFalse(log.contains(forbidden), "the log holds \(forbidden)")
        }
    }
}

import Logging
import Ingest

/// One request per connection (`Connection: close`), for tests that only need status and body.
struct OneShotClient {
    let port: Int

    func send(_ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil, token: String?) throws -> RawHTTPConnection.Response {
        var headers: [(String, String)] = [("Connection", "close")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if let contentType { headers.append(("Content-Type", contentType)) }
        let connection = try XCTUnwrap(RawHTTPConnection(port: port, timeoutSeconds: 30))
        XCTAssertTrue(connection.send(RawHTTPConnection.request(method: method, path: path, headers: headers, body: body)))
        return try XCTUnwrap(connection.readResponse(), "\(method) \(path): no answer")
    }

    func get(_ path: String, token: String?) throws -> RawHTTPConnection.Response {
        try send("GET", path, token: token)
    }

    func post(_ path: String, body: [UInt8], contentType: String = "text/plain", token: String?) throws -> RawHTTPConnection.Response {
        try send("POST", path, body: body, contentType: contentType, token: token)
    }
}
