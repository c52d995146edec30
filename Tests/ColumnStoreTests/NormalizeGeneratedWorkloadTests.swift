import Core
import Foundation
import XCTest
@testable import ColumnStore
import Ingest
import Workload

/// The generator and the normalizer together: every generated line normalizes, unknown
/// projects match the generator's count, and the rough edges land where CONTRACT §4 says.
final class NormalizeGeneratedWorkloadTests: XCTestCase {
    func testGeneratedWorkloadNormalizes() throws {
        let directory = NSTemporaryDirectory() + "trackhouse-normalize-\(UUID().uuidString)"
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let summary = try WorkloadGenerator.generate(
            options: GeneratorOptions(outDirectory: directory, projects: 4, sites: 800, weeks: 6, seed: 5))
        let registry = try ProjectRegistry.parse(try FileIO.readFile(directory + "/projects.json"), path: "projects.json")

        var seen = Set<String>()
        var rows: [EventRow] = []
        var unknown = 0, castFailures = 0, eventsWithFailures = 0
        for file in RawLayout(dataDirectory: directory).listFiles() {
            try RawFileReader.forEachLine(path: file.path) { line in
                let envelope = try Envelope.decode(line.bytes)
                guard seen.insert(envelope.id).inserted else { return }
                switch EventNormalizer.normalize(envelope: envelope, registry: registry) {
                case .unknownProject: unknown += 1
                case .event(let row, let failures):
                    rows.append(row)
                    castFailures += failures
                    if failures > 0 { eventsWithFailures += 1 }
                }
            }
        }
        XCTAssertEqual(unknown, summary.unknownProjectEvents)
        XCTAssertEqual(rows.count + unknown, summary.events)
        XCTAssertGreaterThan(castFailures, 0, "some extras do not cast")
        XCTAssertLessThan(Double(eventsWithFailures), Double(rows.count) * 0.1)

        let tracks = rows.filter { $0.event == "track" }
        let skips = rows.filter { $0.event == "skip" }
        let deactivations = rows.filter { $0.event == "deactivate" }
        XCTAssertFalse(tracks.isEmpty); XCTAssertFalse(skips.isEmpty); XCTAssertFalse(deactivations.isEmpty)
        XCTAssertGreaterThan(tracks.filter { $0.siteKey != nil }.count, tracks.count * 99 / 100)
        XCTAssertTrue(tracks.allSatisfy { $0.siteKey.map { !$0.hasPrefix("www.") && !$0.hasSuffix("/") && $0 == $0.lowercased() } ?? true })
        XCTAssertTrue(skips.allSatisfy { $0.siteKey == nil })
        XCTAssertGreaterThan(skips.filter { $0.siteHash != nil }.count, 0)
        XCTAssertGreaterThan(tracks.filter { $0.phpMinor != nil && $0.wpMinor != nil && $0.mysqlMinor != nil }.count, tracks.count * 9 / 10)
        XCTAssertGreaterThan(tracks.filter { $0.phpSoap != nil }.count, tracks.count * 9 / 10)
        XCTAssertGreaterThan(tracks.filter { $0.extra != nil }.count, 0)
        XCTAssertGreaterThan(tracks.filter { $0.plugins != nil }.count, 0)
        XCTAssertGreaterThan(tracks.filter { $0.users != nil }.count, 0)
        XCTAssertGreaterThan(deactivations.filter { $0.reasonID == nil }.count, 0, "theme switches and unknown reasons")
        XCTAssertGreaterThan(deactivations.filter { $0.reasonID != nil }.count, 0)
        XCTAssertGreaterThan(rows.filter { $0.projectVersion != nil && $0.wpThemeSlug != nil && $0.clientVersion == "1.1.9" }.count
                             + rows.filter { $0.clientVersion == "1.1.11" }.count, 0, "old clients' version/theme")
        for row in rows {
            for json in [row.users, row.plugins, row.extra] {
                if let json { XCTAssertNoThrow(try JSONParser.parse(json)) }
            }
        }
    }
}
