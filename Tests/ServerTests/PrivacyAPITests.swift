import Core
import Foundation
import Logging
import XCTest
@testable import ColumnStore
@testable import Ingest
@testable import Server
import Workload

/// CONTRACT §9 through a real `trackhouse serve`: admin-only endpoints, field-naming 400s, the
/// export's shape, charts after an erase equal those of a warehouse built without the
/// subject, and an erase while events flow loses none of them.
final class PrivacyAPITests: XCTestCase {
    static let end = UTCTime.parseISO("2026-06-01T00:00:00Z")!

    func call(_ port: Int, _ method: String, _ path: String, token: String?, body: String = "") -> RawHTTPConnection.Response? {
        guard let connection = RawHTTPConnection(port: port, timeoutSeconds: 60) else { return nil }
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        guard connection.send(RawHTTPConnection.request(method: method, path: path, headers: headers, body: Array(body.utf8))) else { return nil }
        return connection.readResponse()
    }

    func registry(_ directory: String) throws -> ProjectRegistry {
        try ProjectRegistry.parse(try FileIO.readFile(directory + "/projects.json"), path: directory + "/projects.json")
    }

    /// The admin_email (project, email) of most lines.
    func pickEmail(_ directory: String) throws -> (project: String, email: String) {
        let registry = try registry(directory)
        var counts: [String: Int] = [:]
        for envelope in try readAllEnvelopes(directory) {
            guard let hash = envelope.payload["hash"]?.stringValue, let project = registry.project(hash: hash),
                  let email = envelope.payload["admin_email"]?.stringValue?.lowercased(), !email.isEmpty else { continue }
            counts["\(project.id) \(email)", default: 0] += 1
        }
        let best = counts.max { ($0.value, $1.key) < ($1.value, $0.key) }!.key.split(separator: " ")
        return (String(best[0]), String(best[1]))
    }

    func removeSubjectLines(_ directory: String, project: String, subject: PrivacySubject) throws {
        let matcher = RawSubjectMatcher(projectID: project, subject: subject, registry: try registry(directory))
        for file in RawLayout(dataDirectory: directory).listFiles() {
            let content = try FileIO.readFile(file.path)
            let matches = matcher.matches(in: content)
            guard !matches.isEmpty else { continue }
            var kept: [UInt8] = []
            var position = 0
            for match in matches {
                kept.append(contentsOf: content[position..<match.range.lowerBound])
                position = match.range.upperBound + 1
            }
            kept.append(contentsOf: content[position...])
            try FileIO.writeFileAtomically(file.path, kept)
        }
    }

    func filesContaining(_ needle: String, in directory: String) throws -> [String] {
        let lowered = Array(needle.lowercased().utf8)
        func contains(_ bytes: [UInt8]) -> Bool {
            let haystack = RawSubjectMatcher.asciiLowercased(bytes)
            return haystack.withUnsafeBytes { h in lowered.withUnsafeBytes { n in RawSubjectMatcher.find(n, in: h, from: 0) != nil } }
        }
        var found: [String] = []
        for path in FileIO.walkFiles(directory, includeHidden: true) where !path.hasSuffix("/privacy/audit.ndjson") {
            let bytes = try FileIO.readFile(path)
            var hit = contains(bytes)
            if !hit, path.hasSuffix(".gz"), let inflated = try? Gzip.inflate(bytes) { hit = contains(inflated) }
            if !hit, path.contains(".parquet"), let reader = try? ParquetFileReader(path: path) {
                for group in 0..<reader.rowGroups.count where !hit {
                    for column in try reader.readRowGroup(group) where column.kind == .string && !hit {
                        for row in 0..<column.count where !hit { if let value = column.string(at: row) { hit = contains(Array(value.utf8)) } }
                    }
                }
            }
            if hit { found.append(path) }
        }
        return found
    }

    static func trackBody(hash: String, url: String, email: String) -> String {
        [("hash", hash), ("url", url), ("admin_email", email), ("site", "Flow"), ("client", "2.0.4")]
            .map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
    }

    static func send(_ port: Int, _ body: String) -> Int? {
        guard let connection = RawHTTPConnection(port: port) else { return nil }
        guard connection.send(RawHTTPConnection.request(path: "/track", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                        body: Array(body.utf8))) else { return nil }
        return connection.readResponse()?.status
    }

    func testPrivacyAPI() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("trackhouse binary not built; set TRACKHOUSE_BIN") }
        let logger = Logger(label: "privacy-api-tests")
        let source = makeTemporaryDirectory()
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: source, projects: 2, sites: 150, weeks: 6, seed: 41,
                                                                     endMicros: Self.end))
        var registry = try registry(source)
        let adminToken = AccessTokens.generate()
        let projectToken = AccessTokens.generate()
        let (project, email) = try pickEmail(source)
        var owner = registry.project(id: project)!
        owner.tokens.append(.init(sha256: AccessTokens.sha256Hex(projectToken), scope: "read"))
        registry.replaceProject(owner)
        registry.addAdminTokenHash(AccessTokens.sha256Hex(adminToken))
        try FileIO.writeFileAtomically(source + "/projects.json", registry.serialized())

        var options = Compactor.Options()
        options.includeOpenHours = true
        let erased = makeTemporaryDirectory() + "/erased"
        let reference = makeTemporaryDirectory() + "/reference"
        try WarehouseTestSupportCopy.copy(source, erased)
        try WarehouseTestSupportCopy.copy(source, reference)
        _ = try Compactor(dataDirectory: erased, options: options, logger: logger).run()
        try removeSubjectLines(reference, project: project, subject: .email(email))
        _ = try Compactor(dataDirectory: reference, options: options, logger: logger).run()

        let portA = freePort(), portB = freePort()
        let serverA = try ServerProcess(binary: binary, dataDirectory: erased, port: portA, extraArguments: ["--compact-interval", "1"])
        defer { serverA.terminate() }
        let serverB = try ServerProcess(binary: binary, dataDirectory: reference, port: portB, extraArguments: ["--compact-interval", "0"])
        defer { serverB.terminate() }
        XCTAssertTrue(serverA.waitUntilHealthy())
        XCTAssertTrue(serverB.waitUntilHealthy())
        let base = "/api/v1/projects/\(project)/privacy"
        let body = "{\"email\": \"\(email.uppercased())\"}"

        // Admin only; the body's errors name their field.
        XCTAssertEqual(call(portA, "POST", base + "/export", token: projectToken, body: body)?.status, 403)
        XCTAssertEqual(call(portA, "POST", base + "/erase", token: projectToken, body: body)?.status, 403)
        XCTAssertEqual(call(portA, "POST", base + "/erase", token: nil, body: body)?.status, 401)
        for (bad, field) in [("{}", "email"), ("{\"email\": 5}", "email"), ("{\"site_key\": \"\"}", "site_key"),
                             ("{\"email\": \"a@b.c\", \"site_key\": \"b.c\"}", "site_key"), ("{\"mail\": \"a@b.c\"}", "mail"), ("nope", "email")] {
            let response = call(portA, "POST", base + "/erase", token: adminToken, body: bad)
            XCTAssertEqual(response?.status, 400, bad)
            XCTAssertTrue(response?.bodyText.contains(field) == true, "\(bad): \(response?.bodyText ?? "")")
            XCTAssertEqual((try? JSONParser.parse(response?.body ?? []))?["error"], .string("bad_request"))
        }

        // Export: the contract's shape.
        let exported = try JSONParser.parse(call(portA, "POST", base + "/export", token: adminToken, body: body)?.body ?? [])
        XCTAssertEqual(Set(exported.objectValue?.keys ?? []), ["events", "sites", "raw_lines"])
        guard case .array(let events)? = exported["events"], case .number(let rawLines)? = exported["raw_lines"] else {
            return XCTFail("export shape: \(exported)")
        }
        XCTAssertGreaterThan(events.count, 0)
        XCTAssertGreaterThan(Int(rawLines) ?? 0, 0)
        XCTAssertTrue(events.allSatisfy { $0["admin_email"]?.stringValue?.lowercased() == email })

        // Erase: the summary, then the same charts as the warehouse built without the subject.
        let erase = call(portA, "POST", base + "/erase", token: adminToken, body: body)
        XCTAssertEqual(erase?.status, 200, erase?.bodyText ?? "")
        let summary = try JSONParser.parse(erase?.body ?? [])
        XCTAssertEqual(Set(summary.objectValue?.keys ?? []), ["events_removed", "sites_removed", "raw_lines_removed", "files_rewritten"])
        XCTAssertEqual(summary["events_removed"], .number(String(events.count)))
        let from = "2026-04-01T00:00:00Z", to = "2026-06-01T00:00:00Z"
        let charts = ["stats?from=\(from)&to=\(to)", "timeseries?metric=events&interval=week&from=\(from)&to=\(to)",
                      "timeseries?metric=sites&interval=day&from=\(from)&to=\(to)", "timeseries?metric=new_sites&interval=week&from=\(from)&to=\(to)",
                      "timeseries?metric=deactivations&interval=month&from=\(from)&to=\(to)&breakdown=reason_id",
                      "breakdown?dim=wp_locale&at=\(to)&active_days=60", "breakdown?dim=php_minor&at=\(to)&active_days=30",
                      "sites?per_page=1000", "deactivations?from=\(from)&to=\(to)&per_page=1000"]
        for chart in charts {
            let path = "/api/v1/projects/\(project)/\(chart)"
            let a = call(portA, "GET", path, token: adminToken), b = call(portB, "GET", path, token: adminToken)
            XCTAssertEqual(a?.status, 200, chart)
            XCTAssertEqual(a?.bodyText, b?.bodyText, "\(chart) differs from the warehouse built without the subject")
        }
        let count = { (port: Int) in
            (try? JSONParser.parse(self.call(port, "POST", "/api/v1/query?project=\(project)", token: adminToken, body: "SELECT count(*) FROM events")?.body ?? []))?["rows"]
        }
        XCTAssertEqual(count(portA), count(portB))
        XCTAssertEqual(try filesContaining(email, in: erased), [])
        // Idempotent.
        let again = try JSONParser.parse(call(portA, "POST", base + "/erase", token: adminToken, body: body)?.body ?? [])
        XCTAssertEqual(again["events_removed"], .number("0"))
        XCTAssertEqual(again["files_rewritten"], .number("0"))

        // Erasing while events flow: a live subject in the open hour's file, then an erase
        // racing a stream of other sites' requests. None of those may be lost.
        let hash = registry.project(id: project)!.hash
        let flowEmail = "flow-person@example.net"
        for index in 0..<5 { XCTAssertEqual(Self.send(portA, Self.trackBody(hash: hash, url: "https://live\(index).example", email: flowEmail)), 200) }
        Thread.sleep(forTimeInterval: 1.5)
        let total = 300
        let statuses = UncheckedBox([Int?](repeating: nil, count: total))
        let done = DispatchSemaphore(value: 0)
        let sender = Thread {
            for index in 0..<total {
                statuses.value[index] = Self.send(portA, Self.trackBody(hash: hash, url: "https://flow\(index).example", email: "other\(index)@example.org"))
            }
            done.signal()
        }
        sender.start()
        Thread.sleep(forTimeInterval: 0.2)
        let flowErase = call(portA, "POST", base + "/erase", token: adminToken, body: "{\"email\": \"\(flowEmail)\"}")
        XCTAssertEqual(flowErase?.status, 200, flowErase?.bodyText ?? "")
        XCTAssertEqual((try? JSONParser.parse(flowErase?.body ?? []))?["raw_lines_removed"], .number("5"))
        done.wait()
        XCTAssertEqual(statuses.value.filter { $0 == 200 }.count, total)
        let stored = try readAllEnvelopes(erased).compactMap { $0.payload["url"]?.stringValue }.filter { $0.hasPrefix("https://flow") }
        XCTAssertEqual(Set(stored).count, total, "raw lines lost while erasing")
        var committed = ""
        for _ in 0..<60 {
            committed = call(portA, "POST", "/api/v1/query?project=\(project)", token: adminToken,
                             body: "SELECT count(*) FROM events WHERE site_key LIKE 'flow%'")?.bodyText ?? ""
            if committed.contains("[[\(total)]]") { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertTrue(committed.contains("[[\(total)]]"), committed)
        XCTAssertEqual(try filesContaining(flowEmail, in: erased), [])
    }
}

/// A value the sender thread and the test share (the test reads it only after the sender set every slot).
final class UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

enum WarehouseTestSupportCopy {
    static func copy(_ source: String, _ target: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/cp")
        process.arguments = ["-a", source, target]
        try process.run()
        process.waitUntilExit()
    }
}
