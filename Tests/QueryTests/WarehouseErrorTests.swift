import Core
import Foundation
import Logging
import XCTest
@testable import ColumnStore
@testable import Query
import Workload

/// A damaged segment or commit log ends the query with a clear error naming the file.
final class WarehouseErrorTests: XCTestCase {
    func makeWarehouse() throws -> String {
        let directory = NSTemporaryDirectory() + "trackhouse-qerr-\(UUID().uuidString.prefix(8))"
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: directory, projects: 2, sites: 40, weeks: 3, seed: 4,
                                                                     endMicros: UTCTime.parseISO("2026-06-01T00:00:00Z")!))
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        _ = try Compactor(dataDirectory: directory, logger: logger).run()
        return directory
    }

    func engine(_ directory: String) -> QueryEngine {
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        return QueryEngine(catalog: WarehouseCatalog(dataDirectory: directory), logger: logger)
    }

    func testDamagedSegmentIsAnIOErrorNamingTheFile() throws {
        let directory = try makeWarehouse()
        let state = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory))
        let segment = state.segments(table: .events).first!
        let path = WarehouseLayout(dataDirectory: directory).absolute(segment.path)
        var bytes = try FileIO.readFile(path)
        // Damage the middle (pages) and, in a second file, the footer.
        for index in stride(from: 100, to: bytes.count / 2, by: 7) { bytes[index] ^= 0x5A }
        try FileIO.writeFileAtomically(path, bytes)
        XCTAssertThrowsError(try engine(directory).execute(sql: "SELECT count(*), count(DISTINCT site_key), max(url) FROM events")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("IO Error") || text.contains("damaged"), text)
            XCTAssertTrue(text.contains(FileIO.lastComponent(segment.path)), text)
        }
        try FileIO.writeFileAtomically(path, Array(bytes.prefix(bytes.count - 20)))
        let fresh = engine(directory)
        XCTAssertThrowsError(try fresh.execute(sql: "SELECT count(*) FROM events")) { error in
            XCTAssertTrue("\(error)".contains(FileIO.lastComponent(segment.path)), "\(error)")
        }
    }

    func testDamagedCommitLogIsAnError() throws {
        let directory = try makeWarehouse()
        try FileIO.writeFileAtomically(WarehouseLayout(dataDirectory: directory).logDirectory + "/00000000000000000001.json",
                                       Array("garbage".utf8))
        XCTAssertThrowsError(try engine(directory).execute(sql: "SELECT count(*) FROM events")) { error in
            XCTAssertTrue("\(error)".contains("commit log"), "\(error)")
        }
    }

    func testEmptyWarehouseAnswersZero() throws {
        let directory = NSTemporaryDirectory() + "trackhouse-qempty-\(UUID().uuidString.prefix(8))"
        let result = try engine(directory).execute(sql: "SELECT count(*) FROM events")
        XCTAssertEqual(result.rows.first?.first, .int64(0))
    }
}
