import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import XCTest
@testable import ColumnStore
@testable import Ingest
@testable import Query
@testable import Server
import Workload

/// One generated, compacted warehouse shared by the API tests (building it is the slow part),
/// with a read token per project and an admin token written into projects.json.
final class APIFixture: Sendable {
    static let shared: APIFixture = {
        do { return try APIFixture() } catch { fatalError("cannot build the API test warehouse: \(error)") }
    }()

    static let end = UTCTime.parseISO("2026-06-01T00:00:00Z")!
    static let day: Int64 = 86_400_000_000

    let dataDirectory: String
    let projects: [Project]
    /// Read token of each project, by id.
    let tokens: [String: String]
    let adminToken: String
    /// Every committed event of every project, read back through the engine (scope all).
    let events: [EventRecord]

    struct EventRecord {
        var eventID: String
        var receivedAt: Int64
        var projectID: String
        var event: String
        var siteKey: String?
        var siteHash: String?
        var previouslySkipped: Bool?
        var reasonID: String?
        var phpMinor: String?
        var wpLocale: String?
        var siteName: String?
        var adminEmail: String?

        /// The order of "latest": `(received_at, event_id)`, event ids bytewise.
        func isAfter(_ other: EventRecord) -> Bool {
            if receivedAt != other.receivedAt { return receivedAt > other.receivedAt }
            return other.eventID.utf8.lexicographicallyPrecedes(eventID.utf8)
        }
    }

    init() throws {
        let cleaned = "api-fixture-\(UUID().uuidString.prefix(8))"
        dataDirectory = NSTemporaryDirectory() + "trackhouse-" + cleaned
        try FileIO.makeDirectories(dataDirectory)
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: dataDirectory, projects: 3, sites: 600,
                                                                     weeks: 10, seed: 5, endMicros: Self.end))
        var options = Compactor.Options()
        options.includeOpenHours = true
        options.rowGroupRows = 1024 // several row groups per file, so time pruning is exercised
        _ = try Compactor(dataDirectory: dataDirectory, options: options, logger: quietLogger).run()

        let path = dataDirectory + "/projects.json"
        var registry = try ProjectRegistry.parse(try FileIO.readFile(path), path: path)
        var tokens: [String: String] = [:]
        for var project in registry.projects {
            let token = AccessTokens.generate()
            tokens[project.id] = token
            project.tokens.append(.init(sha256: AccessTokens.sha256Hex(token), scope: "read"))
            registry.replaceProject(project)
        }
        adminToken = AccessTokens.generate()
        registry.addAdminTokenHash(AccessTokens.sha256Hex(adminToken))
        try FileIO.writeFileAtomically(path, registry.serialized())
        self.projects = registry.projects
        self.tokens = tokens

        let engine = QueryEngine(catalog: WarehouseCatalog(dataDirectory: dataDirectory),
                                 options: QueryOptions(resultRowsMax: 10_000_000), logger: quietLogger)
        let result = try engine.execute(sql: """
            SELECT event_id, received_at, project_id, event, site_key, site_hash, previously_skipped, reason_id,
                   php_minor, wp_locale, site_name, admin_email FROM events
            """)
        events = result.rows.map { row in
            EventRecord(eventID: row[0].text!, receivedAt: row[1].micros!, projectID: row[2].text!, event: row[3].text!,
                        siteKey: row[4].text, siteHash: row[5].text, previouslySkipped: row[6].flag, reasonID: row[7].text,
                        phpMinor: row[8].text, wpLocale: row[9].text, siteName: row[10].text, adminEmail: row[11].text)
        }
    }

    func events(of projectID: String) -> [EventRecord] { events.filter { $0.projectID == projectID } }

    /// The project with the most events: the one most tests look at.
    var mainProject: String {
        Dictionary(grouping: events, by: \.projectID).max { $0.value.count < $1.value.count }!.key
    }

    var otherProject: String { projects.map(\.id).first { $0 != mainProject }! }

    /// The sites index computed straight from events (CONTRACT §5), for independent checks.
    struct SiteRecord {
        var latest: EventRecord
        var firstSeen: Int64
        var lastSeen: Int64
        var eventCount: Int
        var status: String { latest.event == "track" ? "active" : latest.event == "deactivate" ? "deactivated" : "skipped" }
    }

    func sites(of projectID: String) -> [String: SiteRecord] {
        var sites: [String: SiteRecord] = [:]
        for event in events(of: projectID) {
            guard let key = event.siteKey else { continue }
            if var site = sites[key] {
                if event.isAfter(site.latest) { site.latest = event }
                site.firstSeen = min(site.firstSeen, event.receivedAt)
                site.lastSeen = max(site.lastSeen, event.receivedAt)
                site.eventCount += 1
                sites[key] = site
            } else {
                sites[key] = SiteRecord(latest: event, firstSeen: event.receivedAt, lastSeen: event.receivedAt, eventCount: 1)
            }
        }
        return sites
    }

    /// Each site's latest event strictly before `at` (all history, not only a window).
    func latestBefore(_ at: Int64, projectID: String) -> [String: EventRecord] {
        var latest: [String: EventRecord] = [:]
        for event in events(of: projectID) where event.receivedAt < at {
            guard let key = event.siteKey else { continue }
            if let current = latest[key], !event.isAfter(current) { continue }
            latest[key] = event
        }
        return latest
    }
}

extension Value {
    var text: String? { if case .string(let s) = self { return s }; return nil }
    var micros: Int64? { if case .timestamp(let t) = self { return t }; return nil }
    var flag: Bool? { if case .bool(let b) = self { return b }; return nil }
}

/// An HTTP answer with its body parsed as JSON when it is JSON.
struct APIAnswer {
    var status: Int
    var headers: HTTPFields
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
}

extension XCTestCase {
    /// Runs `body` against an in-process router over the shared warehouse (query role: no
    /// raw writer).
    func withAPI(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var configuration = ServerConfiguration(dataDirectory: APIFixture.shared.dataDirectory, writerID: "api")
        configuration.role = .query
        let components = try buildComponents(configuration: configuration, logger: quietLogger)
        let app = buildApplication(components: components, logger: quietLogger)
        try await app.test(.router) { client in try await body(client) }
    }
}

extension TestClientProtocol {
    func call(_ path: String, method: HTTPRequest.Method = .get, token: String?, body: String? = nil,
              headers extra: [(HTTPField.Name, String)] = []) async throws -> APIAnswer {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        for (name, value) in extra { headers[name] = value }
        return try await execute(uri: path, method: method, headers: headers,
                                 body: body.map { ByteBuffer(string: $0) }) { response in
            APIAnswer(status: Int(response.status.code), headers: response.headers, body: Array(response.body.readableBytesView))
        }
    }
}

extension JSONValue {
    var int: Int64? { if case .number(let n) = self { return Int64(n) }; return nil }
    var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    var string: String? { stringValue }
    var isNull: Bool { self == .null }
}

/// `2026-05-03T00:00:00Z` for a time.
func iso(_ micros: Int64) -> String { UTCTime.formatISO(micros: micros) }

/// URL query escaping for test parameters.
func escaped(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
}
