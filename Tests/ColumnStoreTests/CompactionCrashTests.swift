import Core
import Foundation
import XCTest

/// `trackhouse compact` killed with SIGKILL at random moments (20 runs), then rerun: the
/// tables must equal those of an uninterrupted run.
final class CompactionCrashTests: XCTestCase {
    func runCompact(_ binary: String, _ directory: String, killAfter seconds: Double?) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["compact", "--data", directory, "--quiet", "--chunk-events", "150", "--segment-rows", "1500",
                             "--row-group-rows", "1024"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let seconds {
            Thread.sleep(forTimeInterval: seconds)
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func testKilledCompactionsFinishWithTheSameTables() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("trackhouse binary not built; set TRACKHOUSE_BIN") }
        let source = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: source, sites: 120, weeks: 5, seed: 21)
        let reference = TrackhouseTestSupport.makeTemporaryDirectory() + "/d"
        try WarehouseTestSupport.copyTree(source, reference)
        let started = Date()
        XCTAssertEqual(try runCompact(binary, reference, killAfter: nil), 0)
        let duration = Date().timeIntervalSince(started)
        let wantEvents = try WarehouseTestSupport.tableRows(reference, .events)
        let wantSites = try WarehouseTestSupport.tableRows(reference, .sites)
        XCTAssertFalse(wantEvents.isEmpty)

        var generator = SystemRandomNumberGenerator()
        for run in 0..<20 {
            let directory = TrackhouseTestSupport.makeTemporaryDirectory() + "/d\(run)"
            try WarehouseTestSupport.copyTree(source, directory)
            // Up to two kills per run, at random points of the job.
            for _ in 0..<(run % 2 + 1) {
                _ = try runCompact(binary, directory, killAfter: Double.random(in: 0.02...max(0.05, duration), using: &generator))
            }
            XCTAssertEqual(try runCompact(binary, directory, killAfter: nil), 0, "rerun after a kill failed (run \(run))")
            XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .events), wantEvents, "events differ after kill (run \(run))")
            XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .sites), wantSites, "sites differ after kill (run \(run))")
            let hidden = FileIO.walkFiles(directory + "/warehouse/events", includeHidden: true).filter { FileIO.lastComponent($0).hasPrefix(".tmp-") }
            XCTAssertEqual(hidden, [], "hidden leftovers after a finished run")
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
