import CZstd
import XCTest
@testable import ColumnStore

/// Checks the byte layout our writer promises other readers: offsets, sizes, one zstd
/// frame per page, encodings, column orders (the pitfalls listed in the notes, §1.10).
final class ParquetLayoutTests: XCTestCase {
    func testOffsetsSizesAndFramesAddUp() throws {
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 700
        options.pageRowsMax = 250
        let table = GeneratedTable.make(rows: 2_000, nullFraction: 0.2, distinctStrings: 40, seed: 5)
        let file = try ParquetWriter.encode(schema: table.schema, rowGroups: [table.columns], options: options)
        let reader = try ParquetFileReader(bytes: file)
        let metaData = reader.metaData

        XCTAssertEqual(metaData.version, 1)
        XCTAssertEqual(metaData.columnOrdersCount, table.schema.columns.count)
        let root = metaData.schema[0]
        XCTAssertNil(root.type)
        XCTAssertNil(root.repetitionType)
        XCTAssertEqual(root.numChildren, Int32(table.schema.columns.count))

        var expectedChunkStart = 4
        for (groupIndex, group) in metaData.rowGroups.enumerated() {
            XCTAssertEqual(group.fileOffset, Int64(expectedChunkStart), "row group file_offset = first chunk start")
            XCTAssertEqual(group.ordinal, Int16(groupIndex))
            var compressedTotal: Int64 = 0, uncompressedTotal: Int64 = 0
            for (columnIndex, chunk) in group.columns.enumerated() {
                let meta = try XCTUnwrap(chunk.metaData)
                let context = "group \(groupIndex) column \(columnIndex)"
                XCTAssertEqual(chunk.fileOffset, 0)
                XCTAssertEqual(meta.codec, .zstd)
                let chunkStart = Int(meta.dictionaryPageOffset ?? meta.dataPageOffset)
                XCTAssertEqual(chunkStart, expectedChunkStart, "chunks are contiguous: \(context)")
                let isString = table.schema.columns[columnIndex].kind == .string
                XCTAssertEqual(meta.dictionaryPageOffset != nil, isString, context)

                // Walk the pages: every page is one zstd frame recording its content size.
                var position = chunkStart
                var uncompressed: Int64 = 0
                var pageTypes: [Int32] = []
                while position < chunkStart + Int(meta.totalCompressedSize) {
                    var thrift = ThriftCompactReader(bytes: file, start: position)
                    let header = try ParquetFormat.PageHeader.decode(&thrift)
                    if header.type != 2 && !pageTypes.contains(0) {
                        XCTAssertEqual(Int64(position), meta.dataPageOffset, "data_page_offset = first data page header: \(context)")
                    }
                    pageTypes.append(header.type)
                    let body = Array(file[thrift.position..<thrift.position + Int(header.compressedPageSize)])
                    body.withUnsafeBytes { raw in
                        XCTAssertEqual(ZSTD_getFrameContentSize(raw.baseAddress, raw.count), UInt64(header.uncompressedPageSize), context)
                        XCTAssertEqual(ZSTD_findFrameCompressedSize(raw.baseAddress, raw.count), raw.count, "one frame per page: \(context)")
                    }
                    uncompressed += Int64(thrift.position - position) + Int64(header.uncompressedPageSize)
                    position = thrift.position + Int(header.compressedPageSize)
                }
                XCTAssertEqual(position, chunkStart + Int(meta.totalCompressedSize), context)
                XCTAssertEqual(uncompressed, meta.totalUncompressedSize, context)
                XCTAssertEqual(pageTypes.filter { $0 == 2 }.count, isString ? 1 : 0, context)
                XCTAssertEqual(pageTypes.first, isString ? 2 : 0, "dictionary page first: \(context)")
                XCTAssertEqual(pageTypes.filter { $0 == 0 }.count, (Int(group.numRows) + 249) / 250, context)
                let dataPages = Int32(pageTypes.filter { $0 == 0 }.count)
                let stats = try XCTUnwrap(meta.encodingStats)
                if isString {
                    XCTAssertEqual(stats.map(\.pageType), [2, 0])
                    XCTAssertEqual(stats.map(\.encoding), [.plain, .rleDictionary])
                    XCTAssertEqual(stats.map(\.count), [1, dataPages])
                } else {
                    XCTAssertEqual(stats.map(\.pageType), [0])
                    XCTAssertEqual(stats.map(\.count), [dataPages])
                }
                XCTAssertNotNil(meta.statistics?.nullCount, context)
                XCTAssertNil(meta.statistics?.legacyMin, context)
                expectedChunkStart = position
                compressedTotal += meta.totalCompressedSize
                uncompressedTotal += meta.totalUncompressedSize
            }
            XCTAssertEqual(group.totalCompressedSize, compressedTotal)
            XCTAssertEqual(group.totalByteSize, uncompressedTotal)
        }
        XCTAssertEqual(expectedChunkStart, reader.footerStart, "footer follows the last chunk")
    }

    func testSchemaElementsCarryLogicalAndConvertedTypes() throws {
        let table = GeneratedTable.make(rows: 3, nullFraction: 0, distinctStrings: 2, seed: 1)
        let reader = try ParquetFileReader(bytes: try ParquetWriter.encode(schema: table.schema, rowGroups: [table.columns]))
        let leaves = Dictionary(uniqueKeysWithValues: reader.metaData.schema.dropFirst().map { ($0.name, $0) })
        XCTAssertEqual(leaves["s"]?.logicalType, .string)
        XCTAssertEqual(leaves["s"]?.convertedType, ParquetConvertedType.utf8)
        XCTAssertEqual(leaves["ts"]?.logicalType, .timestamp(isAdjustedToUTC: true, unit: .micros))
        XCTAssertEqual(leaves["ts"]?.convertedType, ParquetConvertedType.timestampMicros)
        XCTAssertEqual(leaves["i"]?.type, .int64)
        XCTAssertNil(leaves["i"]?.logicalType)
        XCTAssertEqual(leaves["b"]?.type, .boolean)
        XCTAssertEqual(leaves["d"]?.type, .double)
        XCTAssertEqual(leaves["s"]?.repetitionType, 1)
        XCTAssertEqual(leaves["ri"]?.repetitionType, 0)
    }

    /// `plainStringColumns` and `plainWhenNearlyUnique` write unique strings PLAIN (no
    /// dictionary page), keep the dictionary of a repeating column, and read back the same.
    /// A dictionary past its first limits keeps growing while its entries repeat (values at
    /// least twice the entries), to the repeating limits; values that do not repeat fall
    /// back to PLAIN at the first limits. Both read back to the same values.
    func testRepeatingDictionariesGrowPastTheFirstLimit() throws {
        let schema = ParquetSchema([ParquetColumn(name: "repeating", kind: .string), ParquetColumn(name: "unique", kind: .string)])
        let rows = 6_000
        // 200-byte values: 1,000 distinct, each 6 times, cycling (the first 1,000 rows are all
        // new, as a month of weekly heartbeats meets each site once before any repeat; the
        // first limit, 100 kB, is hit among them), and 6,000 distinct.
        let pad = String(repeating: "p", count: 190)
        let repeating = (0..<rows).map { "\(pad)\($0 % 1_000)" }
        let unique = (0..<rows).map { "\(pad)u\($0)" }
        var options = ParquetWriter.Options()
        options.pageRowsMax = 500
        options.dictionaryBytesMax = 100_000
        options.dictionaryBytesMaxRepeating = 1 << 20
        options.dictionaryEntriesMaxRepeating = 1 << 18
        let columns = [ColumnData(kind: .string, count: rows, validity: nil, storage: .strings(StringColumn(repeating))),
                       ColumnData(kind: .string, count: rows, validity: nil, storage: .strings(StringColumn(unique)))]
        let file = try ParquetWriter.encode(schema: schema, rowGroups: [columns], options: options)
        let reader = try ParquetFileReader(bytes: file)
        let chunks = reader.rowGroups[0].columns
        XCTAssertEqual(chunks[0].isFullyDictionaryEncoded, true, "the repeating column kept its dictionary")
        XCTAssertEqual(chunks[1].isFullyDictionaryEncoded, false, "the unique column fell back to PLAIN")
        let readRepeating = try reader.readColumn(rowGroup: 0, column: 0), readUnique = try reader.readColumn(rowGroup: 0, column: 1)
        XCTAssertEqual((0..<rows).map { readRepeating.string(at: $0)! }, repeating)
        XCTAssertEqual((0..<rows).map { readUnique.string(at: $0)! }, unique)
        // With `allPlainWhenFewRepeats`, the unique column is PLAIN from its first row (no
        // dictionary page at all), the repeating one unchanged.
        options.allPlainWhenFewRepeats = true
        let allPlain = try ParquetFileReader(bytes: try ParquetWriter.encode(schema: schema, rowGroups: [columns], options: options))
        XCTAssertEqual(allPlain.rowGroups[0].columns[0].isFullyDictionaryEncoded, true)
        XCTAssertNil(allPlain.rowGroups[0].columns[1].dictionaryPageOffset)
        XCTAssertEqual(allPlain.rowGroups[0].columns[1].encodings.contains(.rleDictionary), false)
        let allPlainUnique = try allPlain.readColumn(rowGroup: 0, column: 1)
        XCTAssertEqual((0..<rows).map { allPlainUnique.string(at: $0)! }, unique)
        XCTAssertEqual(allPlain.rowGroups[0].columns[1].min, reader.rowGroups[0].columns[1].min)
        XCTAssertEqual(allPlain.rowGroups[0].columns[1].max, reader.rowGroups[0].columns[1].max)
        options.allPlainWhenFewRepeats = false
        // Without the repeating limits, the first limit holds for both.
        options.dictionaryBytesMaxRepeating = options.dictionaryBytesMax
        let plain = try ParquetFileReader(bytes: try ParquetWriter.encode(schema: schema, rowGroups: [columns], options: options))
        XCTAssertEqual(plain.rowGroups[0].columns[0].isFullyDictionaryEncoded, false)
    }

    /// A chunk whose dictionary never fills but whose values do not repeat twice is PLAIN
    /// (with `allPlainWhenFewRepeats`); one that repeats keeps its dictionary. Long PLAIN
    /// strings take `zstdLevelLongStrings` (fewer bytes, same values).
    func testSmallNonRepeatingChunksArePlainAndLongStringsCompressHarder() throws {
        let schema = ParquetSchema([ParquetColumn(name: "unique", kind: .string), ParquetColumn(name: "twice", kind: .string),
                                    ParquetColumn(name: "json", kind: .string)])
        let rows = 2_000
        let unique = (0..<rows).map { "10.0.\($0 / 250).\($0 % 250)" }
        let twice = (0..<rows).map { "value-\($0 % 1_000)" }
        let slugs = ["woocommerce", "akismet", "jetpack", "elementor", "contact-form-7", "yoast-seo", "wpforms-lite", "classic-editor"]
        let json = (0..<rows).map { row in
            "[" + (0..<6).map { "{\"slug\":\"\(slugs[(row &* 7 &+ $0 &* 3) % slugs.count])\",\"version\":\"\(row % 13).\($0)\"}" }.joined(separator: ",") + "]"
        }
        let columns = [unique, twice, json].map { ColumnData(kind: .string, count: rows, validity: nil, storage: .strings(StringColumn($0))) }
        var options = ParquetWriter.Options()
        options.plainStringColumns = ["json"]
        options.allPlainWhenFewRepeats = true
        let reader = try ParquetFileReader(bytes: try ParquetWriter.encode(schema: schema, rowGroups: [columns], options: options))
        XCTAssertNil(reader.rowGroups[0].columns[0].dictionaryPageOffset, "values that do not repeat: PLAIN")
        XCTAssertEqual(reader.rowGroups[0].columns[1].isFullyDictionaryEncoded, true, "each value twice: dictionary")
        XCTAssertEqual((0..<rows).map { try! reader.readColumn(rowGroup: 0, column: 0).string(at: $0)! }.prefix(3), unique.prefix(3))
        options.allPlainWhenFewRepeats = false
        let kept = try ParquetFileReader(bytes: try ParquetWriter.encode(schema: schema, rowGroups: [columns], options: options))
        XCTAssertEqual(kept.rowGroups[0].columns[0].isFullyDictionaryEncoded, true, "without the option the dictionary stays")

        options.zstdLevelLongStrings = 5
        let harder = try ParquetFileReader(bytes: try ParquetWriter.encode(schema: schema, rowGroups: [columns], options: options))
        XCTAssertLessThan(harder.rowGroups[0].columns[2].compressedByteCount, kept.rowGroups[0].columns[2].compressedByteCount)
        XCTAssertEqual(harder.rowGroups[0].columns[0].compressedByteCount, kept.rowGroups[0].columns[0].compressedByteCount, "short values: level 3")
        let values = try harder.readColumn(rowGroup: 0, column: 2)
        XCTAssertEqual((0..<rows).map { values.string(at: $0)! }, json)
    }

    func testUniqueStringColumnsAreWrittenPlain() throws {
        let rows = 1_000
        let unique: [String?] = (0..<rows).map { $0 % 50 == 7 ? nil : "https://site-\($0).example" }
        let mostlyUnique: [String?] = (0..<rows).map { "owner-\($0 % 950)@example.com" }
        let repeating: [String?] = (0..<rows).map { "8.\($0 % 4)" }
        let schema = ParquetSchema([ParquetColumn(name: "event_id", kind: .string), ParquetColumn(name: "url", kind: .string),
                                    ParquetColumn(name: "admin_email", kind: .string), ParquetColumn(name: "php_version", kind: .string)])
        let columns: [ColumnData] = [.strings(unique), .strings(unique), .strings(mostlyUnique), .strings(repeating)]
        func dictionaryPages(_ options: ParquetWriter.Options) throws -> [Bool] {
            let file = try ParquetWriter.encode(schema: schema, rowGroups: [columns], options: options)
            let reader = try ParquetFileReader(bytes: file)
            for (index, expected) in [unique, unique, mostlyUnique, repeating].enumerated() {
                XCTAssertEqual(try reader.readColumn(rowGroup: 0, column: index).stringValues, expected, "column \(index) reads back")
            }
            return reader.metaData.rowGroups[0].columns.map { $0.metaData?.dictionaryPageOffset != nil }
        }
        var options = ParquetWriter.Options()
        options.pageRowsMax = 250
        XCTAssertEqual(try dictionaryPages(options), [true, true, true, true], "by default every string column has a dictionary")
        options.plainStringColumns = ["event_id"]
        XCTAssertEqual(try dictionaryPages(options), [false, true, true, true], "a listed column is PLAIN")
        options.plainWhenNearlyUnique = true
        XCTAssertEqual(try dictionaryPages(options), [false, false, false, true],
                       "nearly unique first pages (all distinct; 95 % distinct) go PLAIN, a repeating column keeps its dictionary")
        XCTAssertTrue(ParquetWriter.nearlyUnique(entries: 90, values: 100))
        XCTAssertFalse(ParquetWriter.nearlyUnique(entries: 89, values: 100))
        XCTAssertFalse(ParquetWriter.nearlyUnique(entries: 10, values: 10), "too few values to judge")
    }
}
