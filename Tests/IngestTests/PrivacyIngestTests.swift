import Core
import XCTest
@testable import Ingest

/// What ingest does for privacy: `--ip-mode` truncation, and the hand-over a privacy erase
/// needs from the raw writer (no file it held open is appended to after `rotateOpenFiles`;
/// `RawWriterExclusion` refuses while a writer runs).
final class PrivacyIngestTests: XCTestCase {
    func testIPModes() {
        XCTAssertEqual(IPMode.full.apply("203.0.113.9"), "203.0.113.9")
        XCTAssertEqual(IPMode.truncated.apply("203.0.113.9"), "203.0.113.0")
        XCTAssertEqual(IPMode.truncated.apply("2001:db8:abcd:12:1:2:3:4"), "2001:db8:abcd::")
        XCTAssertEqual(IPMode.truncated.apply("::ffff:198.51.100.77"), "198.51.100.0")
        XCTAssertNil(IPMode.truncated.apply("not an address"), "an address that cannot be shortened is not kept whole")
        XCTAssertNil(IPMode.none.apply("203.0.113.9"))
        XCTAssertNil(IPMode.full.apply(nil))
    }

    func testRotationClosesEveryOpenFileAndExclusionRefusesWhileAWriterRuns() async throws {
        let directory = makeTemporaryDirectory()
        let layout = RawLayout(dataDirectory: directory)
        var options = RawLogWriter.Options(writerID: "w1")
        options.lanes = 2
        let writer = RawLogWriter(layout: layout, options: options, logger: quietLogger)
        try writer.start()
        XCTAssertThrowsError(try RawWriterExclusion(layout: layout)) { error in
            XCTAssertTrue("\(error)".contains("admin API"), "\(error)")
        }
        let now = UTCTime.nowMicros()
        func line(_ index: Int) -> [UInt8] {
            Envelope(id: "id-\(index)", receivedAtMicros: now, route: .track, ip: nil, userAgent: nil,
                     payload: JSONObject([("hash", .string("h"))])).line()
        }
        for index in 0..<10 { try await writer.append(line: line(index), route: .track, receivedAtMicros: now) }
        let before = Dictionary(uniqueKeysWithValues: layout.listFiles().map { ($0.path, FileIO.fileSize($0.path) ?? 0) })
        writer.pauseSealing()
        writer.rotateOpenFiles()
        for index in 10..<20 { try await writer.append(line: line(index), route: .track, receivedAtMicros: now) }
        for (path, size) in before { XCTAssertEqual(FileIO.fileSize(path), size, "\(path) grew after the rotation") }
        XCTAssertGreaterThan(layout.listFiles().count, before.count, "new lines went to new files")
        writer.resumeSealing()
        writer.shutdown()
        XCTAssertEqual(Set(try readAllEnvelopes(directory).map(\.id)).count, 20)
        let exclusion = try RawWriterExclusion(layout: layout)
        exclusion.release()
    }
}
