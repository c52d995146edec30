import Core
import Foundation
import HTTPTypes
import HummingbirdTesting
import XCTest
@testable import ColumnStore
@testable import Ingest
@testable import Query
@testable import Server

final class APISitesTests: XCTestCase {
    typealias Site = (key: String, record: APIFixture.SiteRecord)

    static func sites(_ project: String) -> [Site] {
        APIFixture.shared.sites(of: project).map { (key: $0.key, record: $0.value) }
    }

    static func byLastSeenDescending(_ a: Site, _ b: Site) -> Bool {
        a.record.lastSeen != b.record.lastSeen ? a.record.lastSeen > b.record.lastSeen : a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
    }

    /// Every site_key of a listing, walking all pages.
    static func allKeys(_ client: some TestClientProtocol, _ path: String, token: String, perPage: Int = 40) async throws -> (total: Int64?, keys: [String]) {
        var keys: [String] = []
        var total: Int64?
        var page = 1
        while true {
            let separator = path.contains("?") ? "&" : "?"
            let answer = try await client.call("\(path)\(separator)page=\(page)&per_page=\(perPage)", token: token)
            XCTAssertEqual(answer.status, 200, answer.text)
            XCTAssertEqual(answer.json["page"]?.int, Int64(page))
            XCTAssertEqual(answer.json["per_page"]?.int, Int64(perPage))
            total = answer.json["total"]?.int
            let sites = answer.json["sites"]?.array ?? []
            keys += sites.compactMap { $0["site_key"]?.string }
            if sites.count < perPage { break }
            page += 1
        }
        return (total, keys)
    }

    func testDefaultOrderSortingAndPagination() async throws {
        let fixture = APIFixture.shared
        let project = fixture.mainProject
        let token = fixture.tokens[project]!
        let sites = Self.sites(project)
        try await withAPI { client in
            let base = "/api/v1/projects/\(project)/sites"
            let first = try await client.call(base, token: token)
            XCTAssertEqual(first.status, 200, first.text)
            guard case .object(let object) = first.json else { return XCTFail(first.text) }
            XCTAssertEqual(object.keys, ["total", "page", "per_page", "sites"])
            XCTAssertEqual(object["total"]?.int, Int64(sites.count))
            XCTAssertEqual(object["page"]?.int, 1)
            XCTAssertEqual(object["per_page"]?.int, 50)
            let expectedDefault = sites.sorted(by: Self.byLastSeenDescending).map(\.key)
            XCTAssertEqual(object["sites"]?.array?.compactMap { $0["site_key"]?.string }, Array(expectedDefault.prefix(50)))
            if case .object(let row)? = object["sites"]?.array?.first {
                XCTAssertEqual(row.keys, TableSchema.sites.columns.map(\.name))
                let site = fixture.sites(of: project)[row["site_key"]!.string!]!
                XCTAssertEqual(row["first_seen"]?.string, iso(site.firstSeen))
                XCTAssertEqual(row["last_seen"]?.string, iso(site.lastSeen))
                XCTAssertEqual(row["event_count"]?.int, Int64(site.eventCount))
                XCTAssertEqual(row["status"]?.string, site.status)
                XCTAssertEqual(row["event_id"]?.string, site.latest.eventID)
            }

            let walked = try await Self.allKeys(client, base, token: token)
            XCTAssertEqual(walked.keys, expectedDefault)

            let bySiteKey = try await Self.allKeys(client, base + "?sort=site_key", token: token, perPage: 25)
            XCTAssertEqual(bySiteKey.keys, sites.map(\.key).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })

            let byCount = try await Self.allKeys(client, base + "?sort=-event_count", token: token, perPage: 1000)
            XCTAssertEqual(byCount.keys, sites.sorted { a, b in
                a.record.eventCount != b.record.eventCount ? a.record.eventCount > b.record.eventCount : a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
            }.map(\.key))

            let byFirstSeen = try await Self.allKeys(client, base + "?sort=first_seen", token: token, perPage: 1000)
            XCTAssertEqual(byFirstSeen.keys, sites.sorted { a, b in
                a.record.firstSeen != b.record.firstSeen ? a.record.firstSeen < b.record.firstSeen : a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
            }.map(\.key))

            let pastTheEnd = try await client.call(base + "?page=1000", token: token)
            XCTAssertEqual(pastTheEnd.json["sites"]?.array?.count, 0)
            XCTAssertEqual(pastTheEnd.json["total"]?.int, Int64(sites.count))
        }
    }

    func testStatusSearchAndColumnFilters() async throws {
        let fixture = APIFixture.shared
        let project = fixture.mainProject
        let token = fixture.tokens[project]!
        let sites = Self.sites(project)
        let base = "/api/v1/projects/\(project)/sites"
        func expected(_ keep: (APIFixture.SiteRecord, String) -> Bool) -> [String] {
            sites.filter { keep($0.record, $0.key) }.sorted(by: Self.byLastSeenDescending).map(\.key)
        }
        func matches(_ q: String) -> (APIFixture.SiteRecord, String) -> Bool {
            { site, key in
                [key, site.latest.siteName, site.latest.adminEmail].contains { $0?.lowercased().contains(q.lowercased()) ?? false }
            }
        }
        let sample = sites.sorted(by: Self.byLastSeenDescending)[3]
        let emailPart = String((sample.record.latest.adminEmail ?? sample.key).dropFirst(2).prefix(5)).uppercased()
        let phpMinor = sample.record.latest.phpMinor!
        let otherMinor = sites.compactMap { $0.record.latest.phpMinor }.first { $0 != phpMinor }!
        let cases: [(String, [String])] = [
            ("status=deactivated", expected { site, _ in site.status == "deactivated" }),
            ("status=active", expected { site, _ in site.status == "active" }),
            ("q=\(escaped(emailPart))", expected(matches(emailPart))),
            ("q=\(escaped(sample.key))", expected(matches(sample.key))),
            ("q=_", expected(matches("_"))),          // LIKE wildcards are matched literally
            ("q=%25", expected(matches("%"))),
            ("php_minor=\(phpMinor)", expected { site, _ in site.latest.phpMinor == phpMinor }),
            ("php_minor=\(phpMinor)&php_minor=\(otherMinor)", expected { site, _ in [phpMinor, otherMinor].contains(site.latest.phpMinor ?? "") }),
            ("php_minor=", expected { site, _ in site.latest.phpMinor == nil }),
            ("event_count=1", expected { site, _ in site.eventCount == 1 }),
            ("first_seen=\(escaped(iso(sample.record.firstSeen)))", expected { site, _ in site.firstSeen == sample.record.firstSeen }),
            ("status=active&php_minor=\(phpMinor)", expected { site, _ in site.status == "active" && site.latest.phpMinor == phpMinor }),
        ]
        XCTAssertFalse(cases[0].1.isEmpty)
        XCTAssertFalse(cases[2].1.isEmpty)
        try await withAPI { client in
            for (query, keys) in cases {
                let walked = try await Self.allKeys(client, base + "?" + query, token: token, perPage: 1000)
                XCTAssertEqual(walked.keys, keys, query)
                XCTAssertEqual(walked.total, Int64(keys.count), query)
            }
            let multisite = try await client.call(base + "?wp_multisite=false&per_page=1000", token: token)
            XCTAssertEqual(multisite.status, 200, multisite.text)
            XCTAssertTrue(multisite.json["sites"]?.array?.allSatisfy { $0["wp_multisite"] == .bool(false) } ?? false)
            XCTAssertFalse(multisite.json["sites"]?.array?.isEmpty ?? true)
        }
    }

    func testCSVExportHasAHeaderAndEveryMatchingSite() async throws {
        let fixture = APIFixture.shared
        let project = fixture.mainProject
        let sites = Self.sites(project)
        try await withAPI { client in
            let answer = try await client.call("/api/v1/projects/\(project)/sites?format=csv&sort=site_key", token: fixture.adminToken)
            XCTAssertEqual(answer.status, 200)
            XCTAssertTrue(answer.headers[.contentType]?.hasPrefix("text/csv") ?? false)
            let lines = answer.text.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(String(lines[0]), TableSchema.sites.columns.map(\.name).joined(separator: ","))
            XCTAssertEqual(lines.last, "") // every row ends with a line break
            let keyIndex = TableSchema.sites.columnIndex(named: "site_key")!
            // site keys hold no commas or quotes, so a plain split finds them
            let keys = lines.dropFirst().dropLast().map { String($0.split(separator: ",", omittingEmptySubsequences: false)[keyIndex]) }
            XCTAssertEqual(keys, sites.map(\.key).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })

            let paged = try await client.call("/api/v1/projects/\(project)/sites?format=csv&per_page=5&page=2", token: fixture.adminToken)
            XCTAssertEqual(paged.text.split(separator: "\n").count, 6)
        }
    }

    /// OWASP CSV injection: site names come from whoever sends telemetry, and the sites
    /// export is opened in spreadsheets, so a text cell starting with `=`, `+`, `-`, `@`, tab or
    /// CR gets a leading `'` and is quoted; numbers stay numbers, and SQL's `format=csv` (data
    /// for engines) keeps the text as it is.
    func testCSVExportNeutralisesFormulaCells() async throws {
        let data = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let hash = "0f0e0d0c-0b0a-4909-8807-060504030201"
        let adminToken = AccessTokens.generate()
        let registry = ProjectRegistry(projects: [Project(id: "csv-test", name: "CSV", hash: hash)],
                                       adminTokenHashes: [AccessTokens.sha256Hex(adminToken)])
        try FileIO.writeFileAtomically(data + "/projects.json", registry.serialized())
        // (site_key, site_name as sent, the site_name cell of the export as written)
        let sites: [(key: String, sent: String, cell: String)] = [
            ("a.test", #"=HYPERLINK("http://x","y")"#, #""'=HYPERLINK(""http://x"",""y"")""#),
            ("b.test", "@\tSUM(1+1)*cmd|' /C calc'!A0", "\"'@\tSUM(1+1)*cmd|' /C calc'!A0\""),
            ("c.test", "\t=1+1", #""'=1+1""#),  // trimmed on the way in, then neutralised
            ("d.test", "+1+1", #""'+1+1""#),
            ("e.test", "-2+3", #""'-2+3""#),
            ("f.test", "Plain, with a comma", #""Plain, with a comma""#),
            ("g.test", "a=b @c", "a=b @c"),
        ]
        let start = UTCTime.parseISO("2026-05-01T10:00:00Z")!
        var lines: [UInt8] = []
        for (index, site) in sites.enumerated() {
            var payload = JSONObject()
            payload["hash"] = .string(hash)
            payload["url"] = .string("https://\(site.key)/")
            payload["site"] = .string(site.sent)
            payload["active_plugins"] = .string("-5")
            lines += Envelope(id: "01J00000000000000000CSV00\(index)", receivedAtMicros: start + Int64(index) * 1_000_000,
                              route: .track, ip: nil, userAgent: nil, payload: payload).line()
        }
        let layout = RawLayout(dataDirectory: data)
        let hour = layout.hourDirectory(route: .track, hourIndex: RawLayout.hourIndex(micros: start))
        try FileIO.makeDirectories(hour)
        try FileIO.writeFileAtomically(hour + "/test-000001.ndjson", lines)
        var options = Compactor.Options()
        options.includeOpenHours = true
        _ = try Compactor(dataDirectory: data, options: options, logger: quietLogger).run()

        var configuration = ServerConfiguration(dataDirectory: data, writerID: "api")
        configuration.role = .query
        let components = try buildComponents(configuration: configuration, logger: quietLogger)
        let app = buildApplication(components: components, logger: quietLogger)
        try await app.test(.router) { client in
            let answer = try await client.call("/api/v1/projects/csv-test/sites?format=csv&sort=site_key", token: adminToken)
            XCTAssertEqual(answer.status, 200, answer.text)
            let columns = TableSchema.sites.columns.map(\.name)
            let nameIndex = columns.firstIndex(of: "site_name")!
            let pluginsIndex = columns.firstIndex(of: "active_plugins")!
            let rows = answer.text.split(separator: "\n").dropFirst().map(String.init)
            XCTAssertEqual(rows.count, sites.count, answer.text)
            for (site, row) in zip(sites, rows) {
                XCTAssertTrue(row.contains("," + site.cell + ","), "\(site.key): \(row)")
                let cells = Self.csvCells(row)
                XCTAssertEqual(cells.count, columns.count, row)
                XCTAssertEqual(cells[columns.firstIndex(of: "site_key")!], site.key)
                let expected = site.cell.hasPrefix("\"'") ? "'" + site.sent.trimmingCharacters(in: .whitespaces) : site.sent
                XCTAssertEqual(cells[nameIndex], expected, site.key)
                XCTAssertEqual(cells[pluginsIndex], "-5", "an int column is no formula")
            }

            // SQL's CSV is data for engines: the same text, unchanged.
            let sql = try await client.call("/api/v1/query?format=csv", method: .post, token: adminToken,
                                            body: "SELECT site_name, active_plugins FROM sites WHERE site_key = 'a.test'")
            XCTAssertEqual(sql.text, "site_name,active_plugins\n\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-5\n")
        }
    }

    /// One CSV line's fields (RFC 4180 quoting, no line breaks inside).
    static func csvCells(_ line: String) -> [String] {
        var cells: [String] = []
        var cell = ""
        var quoted = false
        var characters = line.makeIterator()
        var pending = characters.next()
        while let character = pending {
            pending = characters.next()
            if quoted {
                if character == "\"" {
                    if pending == "\"" { cell.append("\""); pending = characters.next() } else { quoted = false }
                } else {
                    cell.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(character)
            }
        }
        cells.append(cell)
        return cells
    }

    func testGzipWhenAccepted() async throws {
        let fixture = APIFixture.shared
        let project = fixture.mainProject
        try await withAPI { client in
            for path in ["/api/v1/projects/\(project)/sites?per_page=200", "/api/v1/projects/\(project)/sites?format=csv",
                         "/api/v1/projects/\(project)/stats", "/api/v1/projects"] {
                let plain = try await client.call(path, token: fixture.adminToken)
                XCTAssertNil(plain.headers[.contentEncoding])
                let zipped = try await client.call(path, token: fixture.adminToken, headers: [(.acceptEncoding, "br, gzip;q=0.8")])
                XCTAssertEqual(zipped.headers[.contentEncoding], "gzip", path)
                XCTAssertEqual(try Gzip.inflate(zipped.body), plain.body, path)
                let refused = try await client.call(path, token: fixture.adminToken, headers: [(.acceptEncoding, "gzip;q=0")])
                XCTAssertNil(refused.headers[.contentEncoding])
            }
            let sql = try await client.call("/api/v1/query?format=csv", method: .post, token: fixture.adminToken,
                                            body: "SELECT event, count(*) FROM events GROUP BY 1 ORDER BY 1",
                                            headers: [(.acceptEncoding, "gzip")])
            XCTAssertEqual(sql.headers[.contentEncoding], "gzip")
            XCTAssertTrue(String(decoding: try Gzip.inflate(sql.body), as: UTF8.self).hasPrefix("event,count_star()\n"))
        }
    }
}
