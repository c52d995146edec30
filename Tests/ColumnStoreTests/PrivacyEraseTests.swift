import Core
import Foundation
import Ingest
import Logging
import XCTest
@testable import ColumnStore

/// CONTRACT §9 on generated data: after an erase no file under the data folder (gz inflated,
/// Parquet pages decoded) holds the subject, and `events`/`sites` equal a compaction of the
/// same raw input without the subject's lines.
final class PrivacyEraseTests: XCTestCase {
    static let logger = Logger(label: "privacy-tests")

    // MARK: Support

    static func compactOptions() -> Compactor.Options {
        var options = Compactor.Options()
        options.includeOpenHours = true
        options.chunkEventsMax = 400
        options.segmentRowsTarget = 2_000
        options.rowGroupRows = 1_024
        options.parseThreads = 1
        return options
    }

    @discardableResult
    static func compact(_ directory: String, options: Compactor.Options = compactOptions()) throws -> CompactionReport {
        try Compactor(dataDirectory: directory, options: options, logger: logger).run()
    }

    static func registry(_ directory: String) throws -> ProjectRegistry {
        try ProjectRegistry.parse(try FileIO.readFile(directory + "/projects.json"), path: directory + "/projects.json")
    }

    /// The (project, email) carried by most lines, preferring one that old clients also sent as
    /// `user_email` (so the raw-only field is exercised).
    static func pickEmail(_ directory: String) throws -> (project: String, email: String) {
        let registry = try registry(directory)
        var counts: [String: (admin: Int, user: Int)] = [:]
        for file in RawLayout(dataDirectory: directory).listFiles() {
            try RawFileReader.forEachLine(path: file.path) { line in
                guard let envelope = try? Envelope.decode(Array(line.bytes)),
                      let hash = envelope.payload["hash"]?.stringValue, let project = registry.project(hash: hash) else { return }
                if let email = envelope.payload["admin_email"]?.stringValue?.lowercased(), !email.isEmpty {
                    counts["\(project.id) \(email)", default: (0, 0)].admin += 1
                }
                if let email = envelope.payload["user_email"]?.stringValue?.lowercased(), !email.isEmpty {
                    counts["\(project.id) \(email)", default: (0, 0)].user += 1
                }
            }
        }
        let best = counts.max { a, b in (a.value.user > 0 ? 1 : 0, a.value.admin + a.value.user, b.key) < (b.value.user > 0 ? 1 : 0, b.value.admin + b.value.user, a.key) }!
        let parts = best.key.split(separator: " ")
        return (String(parts[0]), String(parts[1]))
    }

    /// The most frequent site key of a project.
    static func pickSite(_ directory: String, project: String) throws -> String {
        let registry = try registry(directory)
        var counts: [String: Int] = [:]
        for file in RawLayout(dataDirectory: directory).listFiles() {
            try RawFileReader.forEachLine(path: file.path) { line in
                guard let envelope = try? Envelope.decode(Array(line.bytes)),
                      let hash = envelope.payload["hash"]?.stringValue, registry.project(hash: hash)?.id == project,
                      let key = envelope.payload["url"]?.stringValue.flatMap(SiteIdentity.siteKey(url:)) else { return }
                counts[key, default: 0] += 1
            }
        }
        return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }!.key
    }

    /// Rewrites every raw file without the subject's lines (the reference input).
    static func removeSubjectLines(_ directory: String, project: String, subject: PrivacySubject) throws -> Int {
        let matcher = RawSubjectMatcher(projectID: project, subject: subject, registry: try registry(directory))
        var removed = 0
        for file in RawLayout(dataDirectory: directory).listFiles() {
            var content = try FileIO.readFile(file.path)
            if file.isCompressed { content = try Gzip.inflate(content) }
            let matches = matcher.matches(in: content)
            guard !matches.isEmpty else { continue }
            removed += matches.count
            var kept: [UInt8] = []
            var position = 0
            for match in matches {
                kept.append(contentsOf: content[position..<match.range.lowerBound])
                position = match.range.upperBound + 1
            }
            kept.append(contentsOf: content[position...])
            try FileIO.writeFileAtomically(file.path, file.isCompressed ? Gzip.deflate(kept) : kept)
        }
        return removed
    }

    /// Gzips every other raw file, as the sealer would, so erase meets both forms.
    static func sealHalf(_ directory: String) throws {
        for (index, file) in RawLayout(dataDirectory: directory).listFiles().enumerated() where index % 2 == 0 && !file.isCompressed {
            try Gzip.compressFile(source: file.path, target: file.path + ".gz")
            FileIO.remove(file.path)
        }
    }

    /// Files under `directory` whose bytes, inflated bytes or decoded Parquet strings contain
    /// `needle` (ASCII case-insensitively), `audit.ndjson` excepted.
    static func filesContaining(_ needle: String, in directory: String) throws -> [String] {
        let lowered = Array(needle.lowercased().utf8)
        func contains(_ bytes: [UInt8]) -> Bool {
            let haystack = RawSubjectMatcher.asciiLowercased(bytes)
            guard haystack.count >= lowered.count else { return false }
            return haystack.withUnsafeBytes { h in lowered.withUnsafeBytes { n in RawSubjectMatcher.find(n, in: h, from: 0) != nil } }
        }
        var found: [String] = []
        for path in FileIO.walkFiles(directory, includeHidden: true) where !path.hasSuffix("/privacy/audit.ndjson") {
            let bytes = try FileIO.readFile(path)
            var hit = contains(bytes)
            if !hit, path.hasSuffix(".gz"), let inflated = try? Gzip.inflate(bytes) { hit = contains(inflated) }
            if !hit, path.contains(".parquet") || path.hasSuffix(".old"), let reader = try? ParquetFileReader(path: path) {
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

    struct Scenario {
        var erased: String
        var reference: String
        var project: String
        var subject: PrivacySubject
        var report: EraseReport
        var export: JSONValue
        var removedLines: Int
    }

    /// Generated data, half sealed; `erased` compacted then erased, `reference` with the
    /// subject's lines removed then compacted.
    func makeScenario(_ pick: (String) throws -> (String, PrivacySubject), seed: UInt64 = 31) throws -> Scenario {
        let source = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: source, sites: 150, weeks: 6, seed: seed)
        try Self.sealHalf(source)
        let (project, subject) = try pick(source)
        let erased = try WarehouseTestSupport.copyOfRawData(source, "erased")
        let reference = try WarehouseTestSupport.copyOfRawData(source, "reference")
        try Self.compact(erased)
        let export = try Compactor(dataDirectory: erased, logger: Self.logger).exportSubject(projectID: project, subject: subject)
        let report = try Compactor(dataDirectory: erased, options: Self.compactOptions(), logger: Self.logger).erase(projectID: project, subject: subject)
        let removedLines = try Self.removeSubjectLines(reference, project: project, subject: subject)
        try Self.compact(reference)
        return Scenario(erased: erased, reference: reference, project: project, subject: subject, report: report, export: export,
                        removedLines: removedLines)
    }

    func assertSameTables(_ scenario: Scenario, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try WarehouseTestSupport.tableRows(scenario.erased, .events), try WarehouseTestSupport.tableRows(scenario.reference, .events),
                       "events after the erase differ from a compaction without the subject", file: file, line: line)
        XCTAssertEqual(try WarehouseTestSupport.tableRows(scenario.erased, .sites), try WarehouseTestSupport.tableRows(scenario.reference, .sites),
                       "sites after the erase differ from a compaction without the subject", file: file, line: line)
    }

    // MARK: Tests

    func testEmailEraseLeavesNoTraceAndEqualsCompactionWithoutTheSubject() throws {
        let scenario = try makeScenario { source in
            let (project, email) = try Self.pickEmail(source)
            return (project, PrivacySubject.email(normalizing: "  " + email.uppercased() + " ")!)
        }
        let email = scenario.subject.value
        XCTAssertGreaterThan(scenario.removedLines, 0)
        XCTAssertEqual(scenario.report.rawLinesRemoved, scenario.removedLines)
        XCTAssertGreaterThan(scenario.report.eventsRemoved, 0)
        // The export saw the same subject the erase removed.
        XCTAssertEqual(scenario.export["raw_lines"], .number(String(scenario.removedLines)))
        if case .array(let events)? = scenario.export["events"] {
            XCTAssertEqual(events.count, scenario.report.eventsRemoved)
            XCTAssertNotNil(events.first?["event_id"]?.stringValue)
            XCTAssertNotNil(events.first?["received_at"]?.stringValue?.hasSuffix("Z"))
        } else { XCTFail("export has no events array") }
        try assertSameTables(scenario)
        XCTAssertEqual(try Self.filesContaining(email, in: scenario.erased), [])
        // Not every file was rewritten: the design's point.
        let parquetFiles = FileIO.walkFiles(scenario.erased + "/warehouse").filter { $0.hasSuffix(".parquet") }.count
        let rawFiles = RawLayout(dataDirectory: scenario.erased).listFiles().count
        XCTAssertLessThan(scenario.report.filesRewritten, parquetFiles + rawFiles)
        // The audit line holds the hash, never the email.
        let audit = String(decoding: try FileIO.readFile(scenario.erased + "/privacy/audit.ndjson"), as: UTF8.self)
        XCTAssertTrue(audit.contains(scenario.subject.sha256))
        XCTAssertFalse(audit.lowercased().contains(email))
        XCTAssertFalse(FileIO.exists(EraseJournal.path(dataDirectory: scenario.erased)))
        // Idempotent: a second erase finds nothing; a later compaction changes nothing.
        let again = try Compactor(dataDirectory: scenario.erased, options: Self.compactOptions(), logger: Self.logger)
            .erase(projectID: scenario.project, subject: scenario.subject)
        XCTAssertEqual([again.eventsRemoved, again.sitesRemoved, again.rawLinesRemoved, again.filesRewritten], [0, 0, 0, 0])
        try Self.compact(scenario.erased)
        try assertSameTables(scenario)
        XCTAssertEqual(String(decoding: try FileIO.readFile(scenario.erased + "/privacy/audit.ndjson"), as: UTF8.self)
            .split(separator: "\n").count, 2)
    }

    func testSiteEraseRemovesTheSiteEverywhere() throws {
        let scenario = try makeScenario({ source in
            let (project, _) = try Self.pickEmail(source)
            let key = try Self.pickSite(source, project: project)
            return (project, PrivacySubject.site(normalizing: "https://www." + key + "/")!)
        }, seed: 37)
        XCTAssertGreaterThan(scenario.report.eventsRemoved, 0)
        XCTAssertEqual(scenario.report.sitesRemoved, 1)
        XCTAssertEqual(scenario.report.rawLinesRemoved, scenario.removedLines)
        if case .array(let sites)? = scenario.export["sites"] {
            XCTAssertEqual(sites.count, 1)
            XCTAssertEqual(sites.first?["site_key"]?.stringValue, scenario.subject.value)
        } else { XCTFail("export has no sites array") }
        try assertSameTables(scenario)
        let rows = try WarehouseTestSupport.tableRows(scenario.erased, .events)
        XCTAssertFalse(rows.contains { $0.contains("|" + scenario.subject.value + "|") })
    }

    /// Raw offsets: a file compacted up to some line, then grown, then erased; the next
    /// compaction must read exactly the lines after the old offset that survived.
    func testEraseMovesPartialCompactionOffsets() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 5, weeks: 1, seed: 5)
        for file in RawLayout(dataDirectory: directory).listFiles() { FileIO.remove(file.path) }
        let registry = try Self.registry(directory)
        let project = registry.projects[0]
        let hour = RawLayout.hourIndex(micros: UTCTime.nowMicros())
        let folder = RawLayout(dataDirectory: directory).hourDirectory(route: .track, hourIndex: hour)
        try FileIO.makeDirectories(folder)
        let path = folder + "/w-000001.ndjson"
        var serial = 0
        func line(_ email: String, _ site: String) -> [UInt8] {
            serial += 1
            var payload = JSONObject()
            payload["hash"] = .string(project.hash)
            payload["url"] = .string("https://\(site)")
            payload["admin_email"] = .string(email)
            return Envelope.line(id: "id-\(1000 + serial)", receivedAtMicros: hour * 3_600_000_000 + Int64(serial) * 1_000_000, route: .track,
                                 ip: "203.0.113.9", userAgent: nil, payloadJSON: JSONWriter.serialize(.object(payload)))
        }
        func append(_ lines: [[UInt8]]) throws {
            var bytes = (try? FileIO.readFile(path)) ?? []
            for line in lines { bytes += line }
            try FileIO.writeFileAtomically(path, bytes)
        }
        try append([line("a@x.org", "a.org"), line("Gone@Y.org", "y.org"), line("b@x.org", "b.org"), line("gone@y.org", "y.org")])
        try Self.compact(directory)
        try append([line("c@x.org", "c.org"), line("GONE@y.org", "y.org"), line("d@x.org", "d.org")])
        let report = try Compactor(dataDirectory: directory, options: Self.compactOptions(), logger: Self.logger)
            .erase(projectID: project.id, subject: .email(normalizing: "gone@y.org")!)
        XCTAssertEqual(report.rawLinesRemoved, 3)
        XCTAssertEqual(report.eventsRemoved, 2)
        try Self.compact(directory)
        let ids = try WarehouseTestSupport.tableRows(directory, .events).map { String($0.split(separator: "|")[0]) }.sorted()
        XCTAssertEqual(ids, ["id-1001", "id-1003", "id-1005", "id-1007"])
        XCTAssertEqual(try Self.filesContaining("gone@y.org", in: directory), [])
        let sites = try WarehouseTestSupport.tableRows(directory, .sites)
        XCTAssertEqual(sites.count, 4)
    }

    func testInterruptedEraseOfAnotherSubjectIsRefused() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 5, weeks: 1, seed: 6)
        let journal = EraseJournal(projectID: "p", subjectSHA256: String(repeating: "a", count: 64), phase: .raw)
        try journal.write(dataDirectory: directory)
        let project = try Self.registry(directory).projects[0].id
        XCTAssertThrowsError(try Compactor(dataDirectory: directory, logger: Self.logger).erase(projectID: project, subject: .email("x@y.z"))) { error in
            XCTAssertTrue("\(error)".contains("interrupted"), "\(error)")
        }
    }

    func testRetentionDropsOldMonthsRawHoursAndUnseenSites() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 60, weeks: 10, seed: 8)
        try Self.compact(directory)
        let months = Set(try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory)).segments(table: .events).compactMap(\.month))
        XCTAssertGreaterThan(months.count, 1)
        // Keep from the newest generated month: the cutoff is relative to now, so derive N.
        let newest = months.max()!
        let now = UTCTime.civil(micros: UTCTime.nowMicros())
        let parts = newest.split(separator: "-").map { Int($0)! }
        let keep = (now.year - parts[0]) * 12 + (now.month - parts[1])
        var options = Self.compactOptions()
        options.retentionMonths = keep
        let report = try Self.compact(directory, options: options)
        XCTAssertGreaterThan(report.segmentsRetired, 0)
        let state = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory))
        XCTAssertEqual(Set(state.segments(table: .events).compactMap(\.month)), [newest])
        let cutoff = Compactor.retentionCutoffMicros(months: keep, nowMicros: UTCTime.nowMicros())
        XCTAssertTrue(RawLayout(dataDirectory: directory).listFiles().allSatisfy { $0.hourIndex * 3_600_000_000 >= cutoff })
        let reader = WarehouseReader(dataDirectory: directory)
        for file in try reader.snapshot().files(.sites) {
            let parquet = try ParquetFileReader(path: WarehouseLayout(dataDirectory: directory).absolute(file.path))
            let index = parquet.schema.index(of: "last_seen")!
            for group in 0..<parquet.rowGroups.count {
                let column = try parquet.readColumn(rowGroup: group, column: index)
                for row in 0..<column.count { XCTAssertGreaterThanOrEqual(column.int64(at: row)!, cutoff) }
            }
        }
        XCTAssertEqual(state.segments.values.filter { $0.table == .events }.map(\.receivedAtMin).min().map { $0 >= cutoff }, true)
    }
}
