import Foundation
import XCTest
@testable import ColumnStore

/// Integrity: a byte changed after writing (disk, copy, bit rot) is a `checksumMismatch`
/// error naming the file, the row group, the column and the page, never different values.
/// Pages carry parquet-format's CRC-32 (`PageHeader.crc`), the footer ours
/// (`trackhouse.footer_crc32`); files without them still read.
final class ParquetChecksumTests: XCTestCase {
    private func sampleTable() -> GeneratedTable {
        GeneratedTable.make(rows: 2_500, nullFraction: 0.3, distinctStrings: 50, seed: 7)
    }

    private var sampleOptions: ParquetWriter.Options {
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 1_000
        options.pageRowsMax = 300
        return options
    }

    private func sampleFile() throws -> [UInt8] {
        let table = sampleTable()
        return try ParquetWriter.encode(schema: table.schema, rowGroups: [table.columns], options: sampleOptions)
    }

    // MARK: What the writer records

    func testReferenceCRC32IsTheGzipOne() {
        // The check value of CRC-32/ISO-HDLC (gzip, zlib, PNG), as parquet-format requires.
        XCTAssertEqual(referenceCRC32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(ParquetPageChecksum.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(ParquetPageChecksum.crc32([]), 0)
    }

    func testEveryPageCarriesTheCRC32OfItsStoredBytes() throws {
        let file = try sampleFile()
        let pages = try pageLocations(file)
        XCTAssertEqual(Set(pages.map(\.header.type)), [0, 2], "data and dictionary pages")
        let reader = try ParquetFileReader(bytes: file)
        for page in pages {
            let context = "group \(page.group) column \(page.column) page \(page.index)"
            let crc = try XCTUnwrap(page.header.crc, context)
            XCTAssertEqual(UInt32(bitPattern: crc), referenceCRC32(file[page.body]), context)
            // zstd's own content checksum too (frame header descriptor bit 2), for engines
            // that do not check the page CRC.
            XCTAssertEqual(Array(file[page.body.lowerBound..<page.body.lowerBound + 4]), [0x28, 0xB5, 0x2F, 0xFD], context)
            XCTAssertNotEqual(file[page.body.lowerBound + 4] & 0x04, 0, "zstd content checksum flag: \(context)")
            let info = try reader.pages(rowGroup: page.group, column: page.column)[page.index]
            XCTAssertEqual(info.checksum, UInt32(bitPattern: crc), context)
        }
    }

    // MARK: Damaged pages

    func testFlippedByteInADataPageIsAChecksumErrorNamingTheFile() throws {
        let table = sampleTable()
        let path = try makeTemporaryDirectory().appendingPathComponent("part-00000001-n.parquet").path
        try ParquetWriter.writeFileAtomically(path: path, schema: table.schema, rowGroups: [table.columns], options: sampleOptions)
        var file = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let column = try XCTUnwrap(table.schema.index(of: "i"))
        // Row group 1, the third data page (rows 600..<900 of the group).
        let page = try XCTUnwrap(try pageLocations(file).first { $0.group == 1 && $0.column == column && $0.index == 2 })
        XCTAssertEqual(page.header.type, ParquetPageType.dataPage.rawValue)
        file[(page.body.lowerBound + page.body.upperBound) / 2] ^= 0x10
        try Data(file).write(to: URL(fileURLWithPath: path))

        let reader = try ParquetFileReader(path: path)
        XCTAssertThrowsError(try reader.readColumn(rowGroup: 1, column: column)) { error in
            assertDamagedPage(error, path: path, column: "i", rowGroup: 1, page: 2)
        }
        XCTAssertThrowsError(try reader.readColumn(rowGroup: 1, column: column, rows: 650..<700)) { error in
            assertDamagedPage(error, path: path, column: "i", rowGroup: 1, page: 2)
        }
        // What does not touch the damaged page still reads, with the written values.
        let expected = table.columns[column]
        assertSameValues(try reader.readColumn(rowGroup: 1, column: column, rows: 0..<600),
                         expected.slice(1_000..<1_600), "rows before the damaged page")
        assertSameValues(try reader.readColumn(rowGroup: 0, column: column), expected.slice(0..<1_000), "row group 0")
        for other in table.schema.columns.indices where other != column {
            assertSameValues(try reader.readColumn(rowGroup: 1, column: other), table.columns[other].slice(1_000..<2_000),
                             "column \(table.schema.columns[other].name)")
        }
    }

    func testFlippedByteInADictionaryPageIsAChecksumErrorNamingTheFile() throws {
        let table = sampleTable()
        let path = try makeTemporaryDirectory().appendingPathComponent("snapshot-00000002.parquet").path
        try ParquetWriter.writeFileAtomically(path: path, schema: table.schema, rowGroups: [table.columns], options: sampleOptions)
        var file = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let column = try XCTUnwrap(table.schema.index(of: "s"))
        let page = try XCTUnwrap(try pageLocations(file).first { $0.group == 0 && $0.column == column && $0.index == 0 })
        XCTAssertEqual(page.header.type, ParquetPageType.dictionaryPage.rawValue)
        file[page.body.upperBound - 6] ^= 0x01
        try Data(file).write(to: URL(fileURLWithPath: path))

        let reader = try ParquetFileReader(path: path)
        XCTAssertThrowsError(try reader.readColumn(rowGroup: 0, column: column)) { error in
            assertDamagedPage(error, path: path, column: "s", rowGroup: 0, page: 0)
        }
        // A row range needs the dictionary too.
        XCTAssertThrowsError(try reader.readColumn(rowGroup: 0, column: column, rows: 10..<20)) { error in
            assertDamagedPage(error, path: path, column: "s", rowGroup: 0, page: 0)
        }
        assertSameValues(try reader.readColumn(rowGroup: 1, column: column).materialized(),
                         table.columns[column].slice(1_000..<2_000).materialized(), "row group 1")
    }

    /// Bytes of every page body: the CRC is checked before decompression, so each flip is
    /// reported as damage, not as a zstd or decoding error or as other values. Flips in page
    /// headers (not covered by the page CRC) must fail or leave the values unchanged. A page
    /// only affects its own chunk, so only that chunk is read.
    func testEveryFlipInAPageIsDetected() throws {
        let file = try sampleFile()
        let reader = try ParquetFileReader(bytes: file)
        var random = SplitMix64(seed: 42)
        var bodyFlips = 0, headerFlips = 0
        for page in try pageLocations(file) {
            let original = try reader.readColumn(rowGroup: page.group, column: page.column)
            func read(_ damaged: [UInt8]) -> Result<ColumnData, ParquetError> {
                do {
                    return .success(try ParquetFileReader(bytes: damaged, name: "damaged").readColumn(rowGroup: page.group, column: page.column))
                } catch let error as ParquetError {
                    return .failure(error)
                } catch {
                    XCTFail("non-Parquet error \(error)")
                    return .failure(ParquetError(.io, "\(error)"))
                }
            }
            let context = "group \(page.group) column \(page.column) page \(page.index)"
            let bodyPositions = [page.body.lowerBound, page.body.upperBound - 1] + (0..<4).map { _ in Int.random(in: page.body, using: &random) }
            for position in bodyPositions {
                var damaged = file
                damaged[position] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                if case .failure(let error) = read(damaged) {
                    XCTAssertEqual(error.code, .checksumMismatch, "\(context): body flip at \(position): \(error)")
                } else {
                    XCTFail("\(context): body flip at \(position) went unnoticed")
                }
                bodyFlips += 1
            }
            for position in page.headerStart..<page.body.lowerBound {
                var damaged = file
                damaged[position] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                if case .success(let values) = read(damaged) {
                    XCTAssertEqual(values, original, "\(context): header flip at \(position) changed values silently")
                }
                headerFlips += 1
            }
        }
        XCTAssertGreaterThan(bodyFlips, 300)
        XCTAssertGreaterThan(headerFlips, 1_000)
    }

    // MARK: Files without checksums

    func testPagesWithoutCRCStillReadAndWrongCRCsAreCaught() throws {
        let element = ParquetFormat.SchemaElement(type: .int64, repetitionType: 0, name: "n")
        var body: [UInt8] = []
        for value in [Int64(7), -1, 1 << 40] { withUnsafeBytes(of: value.littleEndian) { body += $0 } }
        func file(crc: Int32?) -> [UInt8] {
            let header = ParquetFormat.PageHeader(
                type: ParquetPageType.dataPage.rawValue, uncompressedPageSize: Int32(body.count), compressedPageSize: Int32(body.count),
                crc: crc, dataPageHeader: .init(numValues: 3, encoding: .plain, definitionLevelEncoding: .rle, repetitionLevelEncoding: .rle))
            return craftedParquetFile(element, rows: 3, codec: .uncompressed, pages: [(header, body)])
        }
        for crc in [nil, Int32(bitPattern: referenceCRC32(body))] {
            let reader = try ParquetFileReader(bytes: file(crc: crc), name: "crc-\(String(describing: crc))")
            XCTAssertEqual(try reader.readColumn(rowGroup: 0, column: 0).int64Values, [7, -1, 1 << 40])
            XCTAssertEqual(try reader.pages(rowGroup: 0, column: 0).map(\.checksum), [crc.map { UInt32(bitPattern: $0) }])
        }
        // Uncompressed pages have no zstd frame to notice anything: only the CRC does.
        let wrong = try ParquetFileReader(bytes: file(crc: Int32(bitPattern: referenceCRC32(body) ^ 1)), name: "wrong.parquet")
        XCTAssertThrowsError(try wrong.readColumn(rowGroup: 0, column: 0)) { error in
            XCTAssertEqual((error as? ParquetError)?.code, .checksumMismatch)
            XCTAssertTrue("\(error)".contains("wrong.parquet"), "\(error)")
        }
    }

    func testCheckedInFixtureHasNoChecksumsAndReads() throws {
        let fixtures = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let reader = try ParquetFileReader(path: fixtures.appendingPathComponent("v1-events.parquet").path)
        XCTAssertNil(reader.metaData.footerChecksum)
        for group in reader.rowGroups.indices {
            for column in reader.schema.columns.indices {
                XCTAssertTrue(try reader.pages(rowGroup: group, column: column).allSatisfy { $0.checksum == nil })
                _ = try reader.readColumn(rowGroup: group, column: column)
            }
        }
    }

    // MARK: Footer

    func testFooterIsSealedAndTheKeyIsHiddenFromCallers() throws {
        let table = sampleTable()
        var options = sampleOptions
        options.keyValueMetadata = ["trackhouse.table": "events", ParquetFooterChecksum.key: "spoofed"]
        let file = try ParquetWriter.encode(schema: table.schema, rowGroups: [table.columns], options: options)
        let reader = try ParquetFileReader(bytes: file)
        XCTAssertEqual(reader.keyValueMetadata, ["trackhouse.table": "events"])
        let seal = try XCTUnwrap(reader.metaData.footerChecksum)
        XCTAssertEqual(seal.value.count, 8)
        XCTAssertNotEqual(seal.value, ParquetFooterChecksum.placeholder)
        // Recompute independently: the footer with the digits as zeros.
        var footer = Array(file[reader.footerStart..<file.count - 8])
        let range = try XCTUnwrap(seal.range)
        XCTAssertEqual(String(decoding: footer[range], as: UTF8.self), seal.value)
        footer.replaceSubrange(range, with: Array(ParquetFooterChecksum.placeholder.utf8))
        XCTAssertEqual(UInt32(seal.value, radix: 16), referenceCRC32(footer))
    }

    /// Every byte of the footer, flipped: an error, or the schema, row groups (statistics
    /// decide which row groups a query reads) and values exactly as written. The unchecked
    /// spot is the checksum entry's own framing (the key/value list's field header, the
    /// key's length and bytes): a flip there hides the checksum from the reader, and what it
    /// changes is only the key/value metadata and, through Thrift's field id deltas,
    /// created_by, neither of which an answer depends on.
    func testEveryFooterFlipIsAnErrorOrChangesNothing() throws {
        let file = try sampleFile()
        let reader = try ParquetFileReader(bytes: file)
        let original = readAll(file)
        let footer = reader.footerStart..<file.count - 8
        let key = Array(ParquetFooterChecksum.key.utf8)
        let keyStart = try XCTUnwrap(footer.first { Array(file[$0..<min($0 + key.count, file.count)]) == key })
        var caughtByChecksum = 0, unchecked = 0
        for position in footer {
            for bit: UInt8 in [0x01, 0x80] {
                var damaged = file
                damaged[position] ^= bit
                let outcome = readAll(damaged)
                if let error = outcome.error {
                    if error.code == .checksumMismatch { caughtByChecksum += 1 }
                    continue
                }
                XCTAssertEqual(outcome.shape, original.shape, "footer flip at \(position) (\(bit)) changed the metadata silently")
                XCTAssertEqual(outcome.values, original.values, "footer flip at \(position) (\(bit)) changed values silently")
                if outcome.extras != original.extras {
                    XCTAssertTrue((keyStart - 4..<keyStart + key.count).contains(position),
                                  "footer flip at \(position) (\(bit)) changed key/value metadata: \(outcome.extras)")
                    unchecked += 1
                }
            }
        }
        XCTAssertGreaterThan(caughtByChecksum, footer.count / 2, "many footer flips decode as Thrift and only the CRC catches them")
        XCTAssertLessThanOrEqual(unchecked, 2 * (key.count + 4))
    }

    func testFlippedStatisticIsAFooterChecksumError() throws {
        let file = try sampleFile()
        // "site-96" is the max of the REQUIRED string column in every row group.
        let needle = Array("site-96".utf8)
        let reader = try ParquetFileReader(bytes: file)
        let footerStart = reader.footerStart
        let at = try XCTUnwrap((footerStart..<file.count - needle.count).first { Array(file[$0..<$0 + needle.count]) == needle })
        var damaged = file
        damaged[at + 5] = UInt8(ascii: "1") // max becomes "site-16": a query for site-50 would skip the row group
        XCTAssertThrowsError(try ParquetFileReader(bytes: damaged, name: "stats.parquet")) { error in
            let parquet = error as? ParquetError
            XCTAssertEqual(parquet?.code, .checksumMismatch)
            XCTAssertEqual(parquet?.path, "stats.parquet")
            XCTAssertTrue("\(error)".contains("footer: checksum mismatch"), "\(error)")
            XCTAssertTrue("\(error)".contains("the file is damaged"), "\(error)")
        }
    }

    // MARK: Helpers

    private func assertDamagedPage(_ error: Error, path: String, column: String, rowGroup: Int, page: Int,
                                   file: StaticString = #filePath, line: UInt = #line) {
        guard let error = error as? ParquetError else { return XCTFail("not a ParquetError: \(error)", file: file, line: line) }
        XCTAssertEqual(error.code, .checksumMismatch, file: file, line: line)
        XCTAssertEqual(error.path, path, file: file, line: line)
        let text = "\(error)"
        for part in [path, "row group \(rowGroup)", "column '\(column)'", "page \(page) ", "page checksum mismatch",
                     "the file is damaged", "restore it from a backup or re-compact it"] {
            XCTAssertTrue(text.contains(part), "missing \"\(part)\" in: \(text)", file: file, line: line)
        }
    }

    private struct Outcome {
        var error: ParquetError?
        var shape = ""
        /// Key/value metadata and created_by.
        var extras = ""
        var values: [ColumnData] = []
    }

    /// Opens and fully reads `bytes`: the error, or the metadata (as text) and every value.
    private func readAll(_ bytes: [UInt8]) -> Outcome {
        do {
            let reader = try ParquetFileReader(bytes: bytes, name: "damaged")
            let shape = "\(reader.schema) \(reader.rowCount) \(reader.rowGroups)"
            let extras = "\(reader.keyValueMetadata.sorted { $0.key < $1.key }) \(reader.createdBy ?? "-")"
            return Outcome(shape: shape, extras: extras, values: try readAllValues(reader))
        } catch let error as ParquetError {
            return Outcome(error: error)
        } catch {
            XCTFail("non-Parquet error \(error)")
            return Outcome()
        }
    }
}

/// Where a page sits in a file: header start and body range.
struct PageLocation {
    var group: Int
    var column: Int
    var index: Int
    var header: ParquetFormat.PageHeader
    var headerStart: Int
    var body: Range<Int>
}

/// Walks every page header of every chunk, independently of the reader's page code.
func pageLocations(_ file: [UInt8]) throws -> [PageLocation] {
    let reader = try ParquetFileReader(bytes: file)
    var pages: [PageLocation] = []
    for (group, rowGroup) in reader.metaData.rowGroups.enumerated() {
        for (column, chunk) in rowGroup.columns.enumerated() {
            let meta = try XCTUnwrap(chunk.metaData)
            let start = Int(meta.dictionaryPageOffset ?? meta.dataPageOffset)
            var position = start
            var index = 0
            while position < start + Int(meta.totalCompressedSize) {
                var thrift = ThriftCompactReader(bytes: file, start: position)
                let header = try ParquetFormat.PageHeader.decode(&thrift)
                let body = thrift.position..<thrift.position + Int(header.compressedPageSize)
                pages.append(PageLocation(group: group, column: column, index: index, header: header, headerStart: position, body: body))
                position = body.upperBound
                index += 1
            }
        }
    }
    return pages
}

/// Bitwise CRC-32 (reflected polynomial 0xEDB88320, as gzip): an oracle independent of zlib.
func referenceCRC32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}
