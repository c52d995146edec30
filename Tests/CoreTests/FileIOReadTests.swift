import Core
import TrackhouseTestSupport
import Foundation
import XCTest

/// `FileIO.readFile`: the bytes as written, whole or from an offset, for files at and around
/// the probe's size, and for files whose size `fstat` does not know (`/proc`), which are read
/// through the probe alone.
final class FileIOReadTests: XCTestCase {
    func testReadsEveryByteWholeAndFromAnOffset() throws {
        let folder = makeTemporaryDirectory("fileio-read")
        var generator = SystemRandomNumberGenerator()
        for size in [0, 1, 4_095, 65_536, 65_537, 300_001] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let path = folder + "/file-\(size)"
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            XCTAssertEqual(try FileIO.readFile(path), bytes, "size \(size)")
            for offset in [0, 1, size / 2, size, size + 10] {
                XCTAssertEqual(try FileIO.readFile(path, fromOffset: Int64(offset)), Array(bytes[min(offset, size)...]), "size \(size) from \(offset)")
            }
        }
    }

    func testReadsAFileWhoseSizeIsUnknown() throws {
        let stat = try FileIO.readFile("/proc/self/stat")
        XCTAssertGreaterThan(stat.count, 20)
        XCTAssertEqual(stat.last, 0x0A)
        let status = String(decoding: try FileIO.readFile("/proc/self/status"), as: UTF8.self)
        XCTAssertTrue(status.contains("VmRSS:"), status)
    }
}
