import XCTest
@testable import Ingest

final class GzipTests: XCTestCase {
    func testRoundTrip() throws {
        let input = Array(String(repeating: "hash=abc&url=https://example.com&", count: 1000).utf8)
        let compressed = Gzip.deflate(input)
        XCTAssertEqual(Array(compressed.prefix(2)), [0x1F, 0x8B])
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
