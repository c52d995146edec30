import XCTest
@testable import ColumnStore

/// Damaged files must produce `ParquetError`, or (for damage nothing can detect) data,
/// but never a crash, a hang or another error type.
final class ParquetCorruptionTests: XCTestCase {
    private func sampleFile() throws -> [UInt8] {
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 1_000
        options.pageRowsMax = 300
        let table = GeneratedTable.make(rows: 2_500, nullFraction: 0.3, distinctStrings: 50, seed: 99)
        return try ParquetWriter.encode(schema: table.schema, rowGroups: [table.columns], options: options)
    }

    /// Opens and fully reads `bytes`; returns the error if any, failing on non-Parquet errors.
    @discardableResult
    private func readEverything(_ bytes: [UInt8], _ context: String) -> ParquetError? {
        do {
            let reader = try ParquetFileReader(bytes: bytes, name: context)
            for group in reader.rowGroups.indices {
                for column in reader.schema.columns.indices {
                    let data = try reader.readColumn(rowGroup: group, column: column)
                    XCTAssertEqual(data.count, reader.rowGroups[group].rowCount, context)
                }
            }
            return nil
        } catch let error as ParquetError {
            XCTAssertEqual(error.path, context, "errors must name the file")
            return error
        } catch {
            XCTFail("\(context): non-Parquet error \(error)")
            return nil
        }
    }

    func testTruncatedFilesAlwaysThrow() throws {
        let file = try sampleFile()
        var cuts = Array(stride(from: 0, to: file.count, by: max(1, file.count / 200)))
        cuts += (max(0, file.count - 80)..<file.count)
        for cut in cuts {
            let error = readEverything(Array(file[..<cut]), "truncated-\(cut)")
            XCTAssertNotNil(error, "truncation at \(cut) of \(file.count) went unnoticed")
        }
    }

    func testBadMagicAndFooterLength() throws {
        let file = try sampleFile()
        var head = file
        head[0] = UInt8(ascii: "X")
        XCTAssertEqual(readEverything(head, "head")?.code, .badMagic)
        var tail = file
        tail[tail.count - 1] = 0
        XCTAssertEqual(readEverything(tail, "tail")?.code, .badMagic)
        for length in [UInt32(0), UInt32(file.count - 11), UInt32(file.count), UInt32.max] {
            var bad = file
            withUnsafeBytes(of: length.littleEndian) { bad.replaceSubrange(bad.count - 8..<bad.count - 4, with: $0) }
            XCTAssertEqual(readEverything(bad, "length-\(length)")?.code, .badFooterLength)
        }
        var shorter = file
        let footerLength = UInt32(file[file.count - 8]) | UInt32(file[file.count - 7]) << 8
        withUnsafeBytes(of: (footerLength - 3).littleEndian) { shorter.replaceSubrange(shorter.count - 8..<shorter.count - 4, with: $0) }
        XCTAssertNotNil(readEverything(shorter, "footer-shifted"))
        XCTAssertEqual(readEverything([UInt8]("PAR1PAR1".utf8), "tiny")?.code, .truncated)
    }

    func testRandomBitFlipsNeverCrash() throws {
        let file = try sampleFile()
        let footerLength = Int(UInt32(file[file.count - 8]) | UInt32(file[file.count - 7]) << 8 | UInt32(file[file.count - 6]) << 16)
        let footerStart = file.count - 8 - footerLength
        var random = SplitMix64(seed: 2024)
        var detected = 0
        let mutations = 400
        for index in 0..<mutations {
            var damaged = file
            // Half the flips hit the footer, half the pages.
            let position = index % 2 == 0
                ? Int.random(in: footerStart..<file.count - 8, using: &random)
                : Int.random(in: 4..<footerStart, using: &random)
            if index % 5 == 4 {
                // Overwrite a short run with random bytes instead of one bit.
                for offset in position..<min(file.count - 8, position + 6) { damaged[offset] = UInt8.random(in: 0...255, using: &random) }
            } else {
                damaged[position] ^= 1 << UInt8.random(in: 0..<8, using: &random)
            }
            if readEverything(damaged, "flip-\(index)-at-\(position)") != nil { detected += 1 }
        }
        // Page and footer CRCs catch nearly all damage (ParquetChecksumTests has the exact
        // rules); what they miss (some page header bytes, the footer checksum's own key) must
        // still read cleanly.
        XCTAssertGreaterThan(detected, mutations * 9 / 10)
    }

    func testHostileThriftInFooter() throws {
        let hostile: [[UInt8]] = [
            [0x29, 0xFC] + [UInt8](repeating: 0xFF, count: 9) + [0x01],   // schema list with a 2^63 element count
            [0x68, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],                          // created_by of 4 GiB
            [UInt8](repeating: 0xFC, count: 5_000),                       // unknown struct nested 5,000 deep
            [0x0F],                                                       // unknown type nibble
            [0x15],                                                       // field without a value
        ]
        for (index, footer) in hostile.enumerated() {
            var file = [UInt8]("PAR1".utf8) + footer
            withUnsafeBytes(of: UInt32(footer.count).littleEndian) { file += $0 }
            file += [UInt8]("PAR1".utf8)
            let error = readEverything(file, "hostile-\(index)")
            XCTAssertEqual(error?.code, .badThrift, "hostile footer \(index)")
        }
    }
}
