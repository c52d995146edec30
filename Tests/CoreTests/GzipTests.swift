@testable import Core
import TrackhouseTestSupport
import XCTest

final class GzipTests: XCTestCase {
    func testRoundTrip() throws {
        let input = Array(String(repeating: "hash=abc&url=https://example.com&", count: 1000).utf8)
        let compressed = Gzip.deflate(input)
        XCTAssertEqual(Array(compressed.prefix(2)), [0x1F, 0x8B])
        XCTAssertEqual(try Gzip.inflate(compressed), input)
    }

    /// The sealer's file path: output flushed every few KB along the way (so a big seal never
    /// holds the disk for one long fsync) still gives one valid member with every byte.
    func testCompressFileWithSyncsAlongTheWayRoundTrips() throws {
        let directory = makeTemporaryDirectory()
        var generator = SystemRandomNumberGenerator()
        // Random text compresses poorly, so the output crosses the sync threshold many times.
        let input = (0..<600_000).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) }
        let source = directory + "/lines.ndjson", target = directory + "/lines.ndjson.gz"
        XCTAssertTrue(FileManager.default.createFile(atPath: source, contents: Data(input)))
        try Gzip.compressFile(source: source, target: target, syncEveryBytes: 4096)
        let compressed = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: target)))
        XCTAssertGreaterThan(compressed.count, 10 * 4096)
        XCTAssertEqual(try Gzip.inflate(compressed), input)
    }

    func testInflateLimitStopsBombs() {
        let bomb = Gzip.deflate([UInt8](repeating: 0x41, count: 8 << 20))
        XCTAssertLessThan(bomb.count, 64 << 10)
        XCTAssertThrowsError(try Gzip.inflate(bomb, outputBytesMax: 1 << 20)) { error in
            XCTAssertEqual((error as? GzipError)?.code, .tooLarge)
        }
    }

    func testCorruptAndTruncatedInputIsAnError() {
        let good = Gzip.deflate(Array("hello world hello world".utf8))
        XCTAssertThrowsError(try Gzip.inflate(Array(good.prefix(good.count / 2))))
        XCTAssertThrowsError(try Gzip.inflate([0x1F, 0x8B, 0x08, 0x00, 0xFF, 0xFF]))
        XCTAssertThrowsError(try Gzip.inflate(Array("not gzip".utf8)))
    }

    func testConcatenatedMembers() throws {
        let joined = Gzip.deflate(Array("ab".utf8)) + Gzip.deflate(Array("cd".utf8))
        XCTAssertEqual(try Gzip.inflate(joined), Array("abcd".utf8))
    }
}
