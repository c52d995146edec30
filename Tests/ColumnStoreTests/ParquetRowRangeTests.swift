import Foundation
import XCTest
@testable import ColumnStore

/// `ParquetFileReader.readColumn(rowGroup:column:rows:)`: the same column as slicing the
/// whole-chunk read, while decoding only the pages that overlap the rows.
final class ParquetRowRangeTests: XCTestCase {
    // MARK: Ranged reads equal sliced whole reads

    /// Every kind, with random, block-wise (all-null and no-null pages) and no nulls; strings
    /// dictionary-encoded, dictionary then PLAIN fallback, and PLAIN only; page sizes that do
    /// not divide the row groups; many ranges per chunk.
    func testRangesMatchSlicedWholeReads() throws {
        let table = Self.makeTable(rows: 5_200, seed: 42)
        let directory = try makeTemporaryDirectory()
        // (row group rows, page rows, dictionary entries): 250 entries make the high-cardinality
        // column fall back to PLAIN mid-chunk; 0 writes every string column PLAIN.
        let configurations = [(1_700, 137, 250), (2_500, 613, 0), (3_000, 100, 65_536)]
        for (index, (groupRows, pageRows, dictionaryEntries)) in configurations.enumerated() {
            var options = ParquetWriter.Options()
            options.rowGroupRowsMax = groupRows
            options.pageRowsMax = pageRows
            options.dictionaryEntriesMax = dictionaryEntries
            let path = directory.appendingPathComponent("ranges-\(index).parquet").path
            try ParquetWriter.writeFileAtomically(path: path, schema: table.schema, rowGroups: [table.columns], options: options)
            let reader = try ParquetFileReader(path: path)
            XCTAssertEqual(reader.rowGroups.count, (table.rows + groupRows - 1) / groupRows)
            // A small dictionary budget, so dictionaries are also evicted and decoded again.
            let cache = ParquetRowReadCache(dictionaryBytesMax: 4_096)
            var random = SplitMix64(seed: UInt64(index) &+ 7)
            var groupStart = 0
            for group in reader.rowGroups.indices {
                let rowCount = reader.rowGroups[group].rowCount
                for column in table.schema.columns.indices {
                    let context = "config \(index) (group rows \(groupRows), page rows \(pageRows), dictionary \(dictionaryEntries)), "
                        + "group \(group), column '\(table.schema.columns[column].name)'"
                    let whole = try reader.readColumn(rowGroup: group, column: column)
                    XCTAssertEqual(whole.count, rowCount, context)
                    let pageRowCounts = try reader.pages(rowGroup: group, column: column)
                        .filter { $0.kind == .dataV1 || $0.kind == .dataV2 }.map(\.valueCount)
                    XCTAssertGreaterThanOrEqual(pageRowCounts.count, (rowCount + pageRows - 1) / pageRows, context)
                    XCTAssertEqual(pageRowCounts.reduce(0, +), rowCount, context)
                    let ranges = Self.ranges(rowCount: rowCount, pageRowCounts: pageRowCounts, using: &random)
                    // All the ranges in one read: each the same as its own read.
                    let together = try reader.readColumn(rowGroup: group, column: column, rowRanges: ranges)
                    XCTAssertEqual(together.count, ranges.count, context)
                    for (rows, ranged) in zip(ranges, together) {
                        assertEqual(ranged, whole.slice(rows), "\(context), rows \(rows), read together")
                    }
                    // Through the cache: the first read takes the whole chunk and keeps its page
                    // table, the second reads from the file only the pages it decodes.
                    for pass in 0..<2 {
                        let cached = try reader.readColumn(rowGroup: group, column: column, rowRanges: ranges, cache: cache)
                        for (rows, ranged) in zip(ranges, cached) {
                            assertEqual(ranged, whole.slice(rows), "\(context), rows \(rows), cached read \(pass)")
                        }
                    }
                    XCTAssertLessThanOrEqual(cache.dictionaryBytes, cache.dictionaryBytesMax, context)
                    for rows in ranges {
                        let ranged = try reader.readColumn(rowGroup: group, column: column, rows: rows)
                        assertEqual(ranged, whole.slice(rows), "\(context), rows \(rows)")
                        if rows.count <= 200 || rows.count == rowCount {
                            let input = table.columns[column].slice((groupStart + rows.lowerBound)..<(groupStart + rows.upperBound))
                            assertSameValues(ranged, input, "\(context), rows \(rows) vs input")
                        }
                    }
                }
                groupStart += rowCount
            }
            XCTAssertEqual(cache.chunkCount, reader.rowGroups.count * table.schema.columns.count)
            cache.forget(paths: [path + ".other"])
            XCTAssertEqual(cache.chunkCount, reader.rowGroups.count * table.schema.columns.count)
            cache.forget(paths: [path])
            XCTAssertEqual(cache.chunkCount, 0)
            XCTAssertEqual(cache.dictionaryBytes, 0)
        }
    }

    /// The storage form follows the whole-chunk read: dictionary codes for a chunk whose data
    /// pages are all dictionary-encoded (even for an empty range), strings for a chunk with a
    /// PLAIN page, even when the range only covers its dictionary-encoded pages.
    func testStorageFormFollowsTheWholeChunk() throws {
        let table = Self.makeTable(rows: 3_000, seed: 5)
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 3_000
        options.pageRowsMax = 211
        options.dictionaryEntriesMax = 250
        let reader = try ParquetFileReader(bytes: try ParquetWriter.encode(schema: table.schema, rowGroups: [table.columns], options: options))
        let dictionaryColumn = try XCTUnwrap(table.schema.index(of: "ds"))
        let fallbackColumn = try XCTUnwrap(table.schema.index(of: "ps"))
        XCTAssertEqual(reader.rowGroups[0].columns[dictionaryColumn].isFullyDictionaryEncoded, true)
        XCTAssertEqual(reader.rowGroups[0].columns[fallbackColumn].isFullyDictionaryEncoded, false)
        let fallbackPages = try reader.pages(rowGroup: 0, column: fallbackColumn).filter { $0.kind == .dataV1 }
        XCTAssertEqual(fallbackPages.first?.encoding, .rleDictionary)
        XCTAssertEqual(fallbackPages.last?.encoding, .plain)

        for rows in [0..<0, 1_000..<1_000, 3_000..<3_000, 0..<10, 2_990..<3_000] {
            let ranged = try reader.readColumn(rowGroup: 0, column: dictionaryColumn, rows: rows)
            guard case .dictionary(let dictionary, let codes) = ranged.storage else {
                XCTFail("rows \(rows) of a dictionary-only chunk must keep dictionary storage")
                continue
            }
            XCTAssertEqual(dictionary.count, 13, "rows \(rows)")
            XCTAssertEqual(codes.count, rows.count, "rows \(rows)")
        }
        // The first page is dictionary-encoded, but the whole chunk comes back as strings.
        for rows in [0..<0, 0..<10, 0..<150, 2_990..<3_000] {
            let ranged = try reader.readColumn(rowGroup: 0, column: fallbackColumn, rows: rows)
            guard case .strings = ranged.storage else {
                XCTFail("rows \(rows) of a chunk with PLAIN pages must come back as strings")
                continue
            }
            assertEqual(ranged, try reader.readColumn(rowGroup: 0, column: fallbackColumn).slice(rows), "rows \(rows)")
        }
    }

    /// DataPageV2 (compressed and uncompressed values), an index page between data pages, a
    /// PLAIN page before dictionary-encoded ones, PLAIN_DICTIONARY: every range of small files.
    func testHandBuiltPagesEveryRange() throws {
        let dictionary = try Self.dictionaryPage(Self.plainStrings(["a", "bb", "ccc"]), entries: 3)
        let plainFirst = try Self.v1(Self.levels([true, false, true]) + Self.plainStrings(["x", "yy"]), values: 3)
        // Ids: bit width 2, then one bit-packed group of 8 (ids 0, 1, 2, padding).
        let v2Ids = try Self.v2(present: [true, true, false, true], values: [2, 0x03, 0b0010_0100, 0],
                                encoding: .rleDictionary, compressed: true)
        // Ids: bit width 2, an RLE run of one id 2.
        let v2Uncompressed = try Self.v2(present: [false, true], values: [2, 0x02, 0x02], encoding: .rleDictionary, compressed: false)
        let v1Ids = try Self.v1(Self.levels([true, true, true]) + [2, 0x06, 0x01], values: 3, encoding: .plainDictionary) // run of 3 id 1
        let indexPage = (ParquetFormat.PageHeader(type: ParquetPageType.indexPage.rawValue, uncompressedPageSize: 0,
                                                   compressedPageSize: 0), [UInt8]())
        let files: [(String, [(ParquetFormat.PageHeader, [UInt8])], [String?])] = [
            ("plain first", [dictionary, plainFirst, v2Ids, indexPage, v1Ids, v2Uncompressed],
             ["x", nil, "yy", "a", "bb", nil, "ccc", "bb", "bb", "bb", nil, "ccc"]),
            ("dictionary only", [dictionary, v2Ids, indexPage, v1Ids, v2Uncompressed],
             ["a", "bb", nil, "ccc", "bb", "bb", "bb", nil, "ccc"]),
            ("dictionary then plain", [dictionary, v1Ids, v2Uncompressed, plainFirst],
             ["bb", "bb", "bb", nil, "ccc", "x", nil, "yy"]),
        ]
        for (name, pages, expected) in files {
            let file = Self.craftedFile(rows: expected.count, pages: pages)
            let reader = try ParquetFileReader(bytes: file, name: name)
            let whole = try reader.readColumn(rowGroup: 0, column: 0)
            XCTAssertEqual(whole.stringValues, expected, name)
            for lower in 0...expected.count {
                for upper in lower...expected.count {
                    let ranged = try reader.readColumn(rowGroup: 0, column: 0, rows: lower..<upper)
                    assertEqual(ranged, whole.slice(lower..<upper), "\(name), rows \(lower)..<\(upper)")
                    XCTAssertEqual(ranged.stringValues, Array(expected[lower..<upper]), "\(name), rows \(lower)..<\(upper)")
                }
            }
        }
    }

    // MARK: Errors

    func testRowsOutsideTheRowGroupThrow() throws {
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 700
        options.pageRowsMax = 100
        let table = Self.makeTable(rows: 1_000, seed: 3)
        let reader = try ParquetFileReader(bytes: try ParquetWriter.encode(schema: table.schema, rowGroups: [table.columns], options: options),
                                           name: "bounds")
        XCTAssertEqual(reader.rowGroups.map(\.rowCount), [700, 300])
        for (group, rows) in [(0, -1..<5), (0, 0..<701), (0, 701..<710), (0, -3..<(-1)), (1, 0..<301), (1, 299..<301), (1, 400..<400)] {
            XCTAssertThrowsError(try reader.readColumn(rowGroup: group, column: 0, rows: rows), "group \(group), rows \(rows)") { error in
                XCTAssertEqual((error as? ParquetError)?.code, .invalidInput, "\(error)")
                XCTAssertEqual((error as? ParquetError)?.path, "bounds", "errors must name the file")
            }
        }
        for (group, column) in [(2, 0), (-1, 0), (0, table.schema.columns.count), (0, -1)] {
            XCTAssertThrowsError(try reader.readColumn(rowGroup: group, column: column, rows: 0..<1)) { error in
                XCTAssertEqual((error as? ParquetError)?.code, .invalidInput, "\(error)")
            }
        }
        // The bounds themselves are fine.
        XCTAssertEqual(try reader.readColumn(rowGroup: 0, column: 0, rows: 700..<700).count, 0)
        XCTAssertEqual(try reader.readColumn(rowGroup: 1, column: 0, rows: 0..<300).count, 300)
    }

    /// Value counts are still checked against the row group's row count, though only one
    /// page is decoded: a page claiming one value too few or too many fails the ranged read.
    func testPageValueCountsMustStillAddUp() throws {
        let schema = ParquetSchema([ParquetColumn(name: "n", kind: .int64, isOptional: false)])
        var options = ParquetWriter.Options()
        options.pageRowsMax = 100
        let file = try ParquetWriter.encode(schema: schema, rowGroups: [[.int64((0..<1_000).map { Int64($0) })]], options: options)
        let pages = try Self.pageLayout(file, rowGroup: 0, column: 0)
        XCTAssertEqual(pages.map(\.rows), Array(repeating: 100, count: 10))
        for (page, values) in [(9, 99), (0, 101), (4, 99)] {
            var damaged = file
            var header = pages[page].header
            XCTAssertEqual(header.encode(), Array(file[pages[page].headerRange]), "headers must re-encode byte for byte")
            header.dataPageHeader!.numValues = Int32(values)
            let encoded = header.encode()
            XCTAssertEqual(encoded.count, pages[page].headerRange.count)
            damaged.replaceSubrange(pages[page].headerRange, with: encoded)
            let reader = try ParquetFileReader(bytes: damaged, name: "counts")
            for rows in [0..<10, 550..<560, 990..<1_000, 0..<0] {
                XCTAssertThrowsError(try reader.readColumn(rowGroup: 0, column: 0, rows: rows), "page \(page) says \(values), rows \(rows)") { error in
                    XCTAssertEqual((error as? ParquetError)?.code, .badPage, "\(error)")
                    XCTAssertEqual((error as? ParquetError)?.path, "counts")
                }
            }
            XCTAssertThrowsError(try reader.readColumn(rowGroup: 0, column: 0))
        }
    }

    // MARK: Only overlapping pages are decoded

    /// The case the feature exists for: the last 50 rows of a 131,072-row row group with
    /// 20,000-row pages. Every page the range does not touch (and, for a column whose chunk
    /// ends in PLAIN pages, the dictionary page) is overwritten with garbage: the whole-chunk
    /// read fails on it, the ranged read does not decompress it and still returns the rows.
    func testPagesOutsideTheRangeAreNotDecoded() throws {
        let rows = 131_072
        var random = SplitMix64(seed: 11)
        let numbers: [Int64?] = (0..<rows).map { $0 % 9 == 0 ? nil : Int64.random(in: -1_000_000...1_000_000, using: &random) }
        let times: [Int64?] = (0..<rows).map { 1_700_000_000_000_000 + Int64($0) * 997 }
        let flags: [Bool?] = (0..<rows).map { $0 % 5 == 0 ? nil : $0 % 3 == 0 }
        let versions: [String?] = (0..<rows).map { $0 % 7 == 0 ? nil : "8.\($0 % 4)" }
        let sites: [String?] = (0..<rows).map { $0 % 11 == 0 ? nil : "https://site-\($0).example" }
        let schema = ParquetSchema([
            ParquetColumn(name: "n", kind: .int64), ParquetColumn(name: "t", kind: .timestamp, isOptional: false),
            ParquetColumn(name: "f", kind: .bool), ParquetColumn(name: "v", kind: .string), ParquetColumn(name: "site", kind: .string),
        ])
        let columns: [ColumnData] = [.int64(numbers), .timestamps(times), .bools(flags), .strings(versions), .strings(sites)]
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = rows
        let file = try ParquetWriter.encode(schema: schema, rowGroups: [columns], options: options)
        let original = try ParquetFileReader(bytes: file)
        XCTAssertEqual(original.rowGroups.map(\.rowCount), [rows])

        var damaged = file
        var layouts: [[PageLayout]] = []
        for column in schema.columns.indices {
            let pages = try Self.pageLayout(file, rowGroup: 0, column: column)
            layouts.append(pages)
            let dataPages = pages.filter { $0.isData }
            XCTAssertGreaterThanOrEqual(dataPages.count, 7, "column \(column)")
            XCTAssertEqual(dataPages.last.map { $0.firstRow + $0.rows }, rows)
            let last = dataPages.last!
            XCTAssertLessThanOrEqual(last.rows, 20_000)
            XCTAssertGreaterThanOrEqual(last.rows, 50)
            let lastNeedsDictionary = last.header.dataPageHeader?.encoding == .rleDictionary
            for page in pages where page.isData ? page.firstRow != last.firstRow : !lastNeedsDictionary {
                for index in page.body { damaged[index] = 0xA5 }
            }
        }
        // The site column holds more distinct values than a dictionary takes: its last page
        // is PLAIN, so its dictionary page was damaged too.
        XCTAssertTrue(layouts[4].contains { $0.header.type == ParquetPageType.dictionaryPage.rawValue })
        XCTAssertEqual(layouts[4].last?.header.dataPageHeader?.encoding, .plain)
        XCTAssertEqual(layouts[3].last?.header.dataPageHeader?.encoding, .rleDictionary)

        let reader = try ParquetFileReader(bytes: damaged, name: "damaged")
        for column in schema.columns.indices {
            let context = "column '\(schema.columns[column].name)'"
            XCTAssertThrowsError(try reader.readColumn(rowGroup: 0, column: column), context) { error in
                XCTAssertEqual((error as? ParquetError)?.path, "damaged")
            }
            let last = layouts[column].filter(\.isData).last!
            let expectedWhole = try original.readColumn(rowGroup: 0, column: column)
            for range in [(rows - 50)..<rows, (rows - 1)..<rows, last.firstRow..<rows, (last.firstRow + 3)..<(rows - 7), rows..<rows] {
                let ranged = try reader.readColumn(rowGroup: 0, column: column, rows: range)
                assertEqual(ranged, expectedWhole.slice(range), "\(context), rows \(range)")
                assertSameValues(ranged, columns[column].slice(range), "\(context), rows \(range) vs input")
            }
            // A range reaching into a damaged page does decode it, and fails.
            for range in [0..<1, (last.firstRow - 1)..<rows, (rows / 2)..<(rows / 2 + 1)] {
                XCTAssertThrowsError(try reader.readColumn(rowGroup: 0, column: column, rows: range), "\(context), rows \(range)") { error in
                    XCTAssertEqual((error as? ParquetError)?.path, "damaged")
                }
            }
        }
    }

    /// Same property on small pages: damage one page in the middle of each chunk; every range
    /// that avoids it reads as before, every range that touches it throws.
    func testOneDamagedPageOnlyAffectsRangesOverlappingIt() throws {
        let table = Self.makeTable(rows: 2_000, seed: 77)
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 2_000
        options.pageRowsMax = 170
        options.dictionaryEntriesMax = 400
        let file = try ParquetWriter.encode(schema: table.schema, rowGroups: [table.columns], options: options)
        let original = try ParquetFileReader(bytes: file)
        var random = SplitMix64(seed: 1)
        for column in table.schema.columns.indices {
            let context = "column '\(table.schema.columns[column].name)'"
            let pages = try Self.pageLayout(file, rowGroup: 0, column: column)
            let dataPages = pages.filter(\.isData)
            let target = dataPages[dataPages.count / 2]
            var damaged = file
            for index in target.body { damaged[index] = 0xA5 }
            let reader = try ParquetFileReader(bytes: damaged)
            XCTAssertThrowsError(try reader.readColumn(rowGroup: 0, column: column), context)
            let whole = try original.readColumn(rowGroup: 0, column: column)
            let damagedRows = target.firstRow..<target.firstRow + target.rows
            for rows in Self.ranges(rowCount: 2_000, pageRowCounts: dataPages.map(\.rows), using: &random) {
                if rows.overlaps(damagedRows) {
                    XCTAssertThrowsError(try reader.readColumn(rowGroup: 0, column: column, rows: rows), "\(context), rows \(rows)")
                } else {
                    assertEqual(try reader.readColumn(rowGroup: 0, column: column, rows: rows), whole.slice(rows), "\(context), rows \(rows)")
                }
            }
        }
    }

    // MARK: Data

    /// Columns of every kind. Null patterns: "i" random, "ts" and "rs" none (REQUIRED),
    /// "d", "b" and "ds" in 450-row blocks (all null, none null, 40% null, at different
    /// offsets), "none"/"nones" all null. "ds" has 13 distinct values, "ps" one per row.
    static func makeTable(rows: Int, seed: UInt64) -> GeneratedTable {
        var random = SplitMix64(seed: seed)
        func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &random) < probability }
        func blockNull(_ row: Int, shift: Int) -> Bool {
            switch ((row + shift) / 450) % 3 {
            case 0: true
            case 1: false
            default: chance(0.4)
            }
        }
        let words = ["wp", "é", "日本語", "php-8.1", "", "Ünïcødé", "plugin", "theme", "x", "yy", "zzz", "core", "multisite"]
        var ints: [Int64?] = [], times: [Int64?] = [], doubles: [Double?] = [], bools: [Bool?] = []
        var dictionaryStrings: [String?] = [], plainStrings: [String?] = [], requiredStrings: [String?] = []
        for row in 0..<rows {
            ints.append(chance(0.25) ? nil : Int64.random(in: Int64.min...Int64.max, using: &random))
            times.append(1_700_000_000_000_000 + Int64(row) * 1_000_003)
            doubles.append(blockNull(row, shift: 0) ? nil : Double(Int.random(in: -1_000_000...1_000_000, using: &random)) / 16)
            bools.append(blockNull(row, shift: 150) ? nil : chance(0.5))
            dictionaryStrings.append(blockNull(row, shift: 300) ? nil : words[Int.random(in: 0..<words.count, using: &random)])
            plainStrings.append(chance(0.15) ? nil : "visitor-\(row)-\(UInt32.random(in: 0...UInt32.max, using: &random))")
            requiredStrings.append(words[row % 5])
        }
        let schema = ParquetSchema([
            ParquetColumn(name: "i", kind: .int64),
            ParquetColumn(name: "ts", kind: .timestamp, isOptional: false),
            ParquetColumn(name: "d", kind: .double),
            ParquetColumn(name: "b", kind: .bool),
            ParquetColumn(name: "ds", kind: .string),
            ParquetColumn(name: "ps", kind: .string),
            ParquetColumn(name: "none", kind: .int64),
            ParquetColumn(name: "nones", kind: .string),
            ParquetColumn(name: "rs", kind: .string, isOptional: false),
        ])
        return GeneratedTable(schema: schema, columns: [
            .int64(ints), .timestamps(times), .doubles(doubles), .bools(bools), .strings(dictionaryStrings),
            .strings(plainStrings), .int64(Array(repeating: nil, count: rows)), .strings(Array(repeating: nil, count: rows)),
            .strings(requiredStrings),
        ])
    }

    /// Empty ranges (start, middle, end), single rows, the whole group, first and last rows,
    /// every page exactly, ranges across each page boundary and across several pages, and
    /// random ranges (long and short).
    static func ranges(rowCount: Int, pageRowCounts: [Int], using random: inout SplitMix64) -> [Range<Int>] {
        var ranges: [Range<Int>] = [0..<0, rowCount / 2..<rowCount / 2, rowCount..<rowCount, 0..<rowCount]
        if rowCount > 0 {
            ranges += [0..<1, rowCount - 1..<rowCount, max(0, rowCount - 50)..<rowCount, 0..<min(50, rowCount)]
        }
        var boundaries = [0]
        for count in pageRowCounts { boundaries.append(boundaries.last! + count) }
        for (index, start) in boundaries.dropLast().enumerated() {
            let end = boundaries[index + 1]
            ranges.append(start..<end)
            if index + 2 < boundaries.count { ranges.append(start..<boundaries[index + 2]) }
            if index + 4 < boundaries.count { ranges.append(min(start + 3, end)..<boundaries[index + 4] - 2) }
            if start > 0 {
                ranges += [start - 1..<start, start..<start + 1, start - 1..<min(rowCount, start + 1), start..<start]
            }
        }
        for _ in 0..<30 {
            let lower = Int.random(in: 0...rowCount, using: &random)
            ranges.append(lower..<Int.random(in: lower...rowCount, using: &random))
            let shortLower = Int.random(in: 0...rowCount, using: &random)
            ranges.append(shortLower..<min(rowCount, shortLower + Int.random(in: 0...25, using: &random)))
        }
        return ranges
    }

    // MARK: Page layout

    struct PageLayout {
        var header: ParquetFormat.PageHeader
        /// Byte ranges in the file.
        var headerRange: Range<Int>
        var body: Range<Int>
        var firstRow: Int
        var rows: Int
        var isData: Bool {
            header.type == ParquetPageType.dataPage.rawValue || header.type == ParquetPageType.dataPageV2.rawValue
        }
    }

    /// The pages of one chunk of `file`, with their byte ranges and rows.
    static func pageLayout(_ file: [UInt8], rowGroup: Int, column: Int) throws -> [PageLayout] {
        let info = try ParquetFileReader(bytes: file).rowGroups[rowGroup].columns[column]
        let start = info.dictionaryPageOffset ?? info.dataPageOffset
        var pages: [PageLayout] = []
        var position = start
        var row = 0
        while position < start + info.compressedByteCount {
            var reader = ThriftCompactReader(bytes: file, start: position)
            let header = try ParquetFormat.PageHeader.decode(&reader)
            let body = reader.position..<reader.position + Int(header.compressedPageSize)
            let rows = Int(header.dataPageHeader?.numValues ?? header.dataPageHeaderV2?.numValues ?? 0)
            pages.append(PageLayout(header: header, headerRange: position..<reader.position, body: body, firstRow: row, rows: rows))
            row += rows
            position = body.upperBound
        }
        return pages
    }

    // MARK: Hand-built files

    /// One OPTIONAL string column, one row group, ZSTD codec, the pages as given.
    static func craftedFile(rows: Int, pages: [(ParquetFormat.PageHeader, [UInt8])]) -> [UInt8] {
        let element = ParquetFormat.SchemaElement(type: .byteArray, repetitionType: 1, name: "s", logicalType: .string)
        return craftedParquetFile(element, rows: rows, codec: .zstd, encodings: [.plain, .rle, .rleDictionary], pages: pages)
    }

    static func dictionaryPage(_ body: [UInt8], entries: Int) throws -> (ParquetFormat.PageHeader, [UInt8]) {
        let compressed = try ZstdCompressor(level: 1).compress(body)
        return (ParquetFormat.PageHeader(type: ParquetPageType.dictionaryPage.rawValue, uncompressedPageSize: Int32(body.count),
                                         compressedPageSize: Int32(compressed.count),
                                         dictionaryPageHeader: .init(numValues: Int32(entries), encoding: .plain)), compressed)
    }

    static func v1(_ body: [UInt8], values: Int, encoding: ParquetEncoding = .plain) throws -> (ParquetFormat.PageHeader, [UInt8]) {
        let compressed = try ZstdCompressor(level: 1).compress(body)
        return (ParquetFormat.PageHeader(type: ParquetPageType.dataPage.rawValue, uncompressedPageSize: Int32(body.count),
                                         compressedPageSize: Int32(compressed.count),
                                         dataPageHeader: .init(numValues: Int32(values), encoding: encoding,
                                                               definitionLevelEncoding: .rle, repetitionLevelEncoding: .rle)),
                compressed)
    }

    /// DataPageV2: levels uncompressed and unprefixed, then the values (compressed or not).
    static func v2(present: [Bool], values: [UInt8], encoding: ParquetEncoding,
                   compressed: Bool) throws -> (ParquetFormat.PageHeader, [UInt8]) {
        let definition = rleLevels(present)
        let stored = compressed ? try ZstdCompressor(level: 1).compress(values) : values
        let header = ParquetFormat.PageHeader(
            type: ParquetPageType.dataPageV2.rawValue, uncompressedPageSize: Int32(definition.count + values.count),
            compressedPageSize: Int32(definition.count + stored.count),
            dataPageHeaderV2: .init(numValues: Int32(present.count), numNulls: Int32(present.filter { !$0 }.count),
                                    numRows: Int32(present.count), encoding: encoding,
                                    definitionLevelsByteLength: Int32(definition.count), repetitionLevelsByteLength: 0,
                                    isCompressed: compressed))
        return (header, definition + stored)
    }

    /// v1 definition levels with their 4-byte length prefix.
    static func levels(_ present: [Bool]) -> [UInt8] {
        let raw = rleLevels(present)
        return withUnsafeBytes(of: UInt32(raw.count).littleEndian) { Array($0) } + raw
    }

    static func rleLevels(_ present: [Bool]) -> [UInt8] {
        var encoder = RleHybridEncoder(bitWidth: 1)
        present.map { $0 ? UInt32(1) : 0 }.withUnsafeBufferPointer { encoder.encode($0) }
        return encoder.bytes
    }

    static func plainStrings(_ values: [String]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: UInt32(value.utf8.count).littleEndian) { Array($0) } + Array(value.utf8) }
    }

    // MARK: Comparison

    /// Exact equality (storage form, validity bitmap, placeholders), with a short message
    /// instead of two dumped columns.
    private func assertEqual(_ actual: ColumnData, _ expected: ColumnData, _ context: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        guard actual != expected else { return }
        func describe(_ column: ColumnData) -> String {
            let storage: String
            switch column.storage {
            case .int64(let values): storage = "int64 x\(values.count)"
            case .double(let values): storage = "double x\(values.count)"
            case .bool(let values): storage = "bool x\(values.count)"
            case .strings(let strings): storage = "strings x\(strings.count) (\(strings.bytes.count) bytes)"
            case .dictionary(let dictionary, let codes): storage = "dictionary of \(dictionary.count), codes x\(codes.count)"
            }
            return "\(column.kind) count \(column.count), \(column.nullCount) nulls, validity \(column.validity == nil ? "nil" : "set"), \(storage)"
        }
        XCTFail("\(context): ranged read differs: got \(describe(actual)), expected \(describe(expected))", file: file, line: line)
    }
}
