import Core
import Foundation
import Ingest
import XCTest
@testable import ColumnStore

/// `trackhouse privacy erase` killed with SIGKILL 20 times — at each numbered point of the
/// algorithm (the `TRACKHOUSE_TEST_ERASE_CRASH_AFTER` hook) and at random moments — then run
/// again: the tables, the raw lines and a later compaction equal an uninterrupted erase, and
/// every erase index on disk (`SubjectKeyIndex`) still holds every key of what it covers.
final class PrivacyEraseCrashTests: XCTestCase {
    func run(_ binary: String, _ arguments: [String], crashAfter: Int? = nil, killAfter seconds: Double? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TRACKHOUSE_TEST_ERASE_CRASH_AFTER"] = crashAfter.map(String.init)
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let seconds {
            Thread.sleep(forTimeInterval: seconds)
            kill(process.processIdentifier, SIGKILL)
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func rawLines(_ directory: String) throws -> [String] {
        var lines: [String] = []
        for file in RawLayout(dataDirectory: directory).listFiles() {
            try RawFileReader.forEachLine(path: file.path) { lines.append(String(decoding: $0.bytes, as: UTF8.self)) }
        }
        return lines.sorted()
    }

    func testKilledErasesFinishWithTheSameResult() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("trackhouse binary not built; set TRACKHOUSE_BIN") }
        let source = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: source, sites: 120, weeks: 5, seed: 23)
        try PrivacyEraseTests.sealHalf(source)
        try PrivacyEraseTests.compact(source)
        let (project, email) = try PrivacyEraseTests.pickEmail(source)
        let erase = { (directory: String) in ["privacy", "erase", "--data", directory, "--project", project, "--email", email, "--json"] }

        let reference = TrackhouseTestSupport.makeTemporaryDirectory() + "/d"
        try WarehouseTestSupport.copyTree(source, reference)
        let started = Date()
        let first = try run(binary, erase(reference))
        let duration = Date().timeIntervalSince(started)
        XCTAssertEqual(first.status, 0)
        let summary = try JSONParser.parse(first.output)
        XCTAssertNotEqual(summary["events_removed"], JSONValue.number("0"), first.output)
        XCTAssertEqual(Set(summary.objectValue?.keys ?? []), ["events_removed", "sites_removed", "raw_lines_removed", "files_rewritten"])
        let wantEvents = try WarehouseTestSupport.tableRows(reference, .events)
        let wantSites = try WarehouseTestSupport.tableRows(reference, .sites)
        let wantRaw = try rawLines(reference)

        var generator = SystemRandomNumberGenerator()
        for attempt in 0..<20 {
            let directory = TrackhouseTestSupport.makeTemporaryDirectory() + "/d\(attempt)"
            try WarehouseTestSupport.copyTree(source, directory)
            if attempt < 8 {
                let killed = try run(binary, erase(directory), crashAfter: attempt + 1)
                XCTAssertNotEqual(killed.status, 0, "the crash hook did not fire at point \(attempt + 1)")
            } else {
                _ = try run(binary, erase(directory), killAfter: Double.random(in: 0.01...max(0.02, duration), using: &generator))
                if attempt % 3 == 0 { _ = try run(binary, erase(directory), crashAfter: Int.random(in: 1...8, using: &generator)) }
            }
            let rerun = try run(binary, erase(directory))
            XCTAssertEqual(rerun.status, 0, "rerun after a kill failed (attempt \(attempt)): \(rerun.output)")
            XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .events), wantEvents, "events differ (attempt \(attempt))")
            XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .sites), wantSites, "sites differ (attempt \(attempt))")
            XCTAssertEqual(try rawLines(directory), wantRaw, "raw lines differ (attempt \(attempt))")
            XCTAssertEqual(try PrivacyEraseTests.filesContaining(email, in: directory), [], "attempt \(attempt)")
            XCTAssertFalse(FileIO.exists(EraseJournal.path(dataDirectory: directory)))
            // No erase index left behind by the kill speaks for bytes it did not see.
            try PrivacyIndexTests.assertIndexesTruthful(directory)
            // Raw offsets stayed right: a compaction adds nothing and drops nothing.
            try PrivacyEraseTests.compact(directory)
            XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .events), wantEvents, "events after compaction (attempt \(attempt))")
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
