import XCTest
@testable import ColumnStore

/// Hand-built files with features other writers use and ours does not (INT32, FLOAT,
/// MILLIS/NANOS, DataPageV2, PLAIN_DICTIONARY, RLE booleans), plus targeted damage.
/// Interop tests cover the same with real pyarrow/DuckDB files when Python is available.
final class ParquetReaderCompatibilityTests: XCTestCase {
    typealias Header = ParquetFormat.PageHeader

    // MARK: File assembly

    private func leaf(_ name: String, _ type: ParquetPhysicalType, optional: Bool = true,
                      logical: ParquetFormat.LogicalType? = nil, converted: Int32? = nil) -> ParquetFormat.SchemaElement {
        ParquetFormat.SchemaElement(type: type, repetitionType: optional ? 1 : 0, name: name,
                                    convertedType: converted, logicalType: logical)
    }

    /// One column, one row group: `PAR1`, the pages as given, footer.
    private func craftedFile(_ element: ParquetFormat.SchemaElement, rows: Int, codec: ParquetCodec = .uncompressed,
                             pages: [(Header, [UInt8])]) -> [UInt8] {
        craftedParquetFile(element, rows: rows, codec: codec, pages: pages)
    }

    private func v1(_ body: [UInt8], values: Int, encoding: ParquetEncoding = .plain, compressedBody: [UInt8]? = nil) -> (Header, [UInt8]) {
        let stored = compressedBody ?? body
        return (Header(type: 0, uncompressedPageSize: Int32(body.count), compressedPageSize: Int32(stored.count),
                       dataPageHeader: .init(numValues: Int32(values), encoding: encoding, definitionLevelEncoding: .rle,
                                             repetitionLevelEncoding: .rle)), stored)
    }

    private func dictionary(_ body: [UInt8], entries: Int, encoding: ParquetEncoding = .plain) -> (Header, [UInt8]) {
        (Header(type: 2, uncompressedPageSize: Int32(body.count), compressedPageSize: Int32(body.count),
                dictionaryPageHeader: .init(numValues: Int32(entries), encoding: encoding)), body)
    }

    /// v1 definition levels with the 4-byte length prefix.
    private func levels(_ present: [Bool]) -> [UInt8] {
        let raw = rleLevels(present)
        return withUnsafeBytes(of: UInt32(raw.count).littleEndian) { Array($0) } + raw
    }

    private func rleLevels(_ present: [Bool]) -> [UInt8] {
        var encoder = RleHybridEncoder(bitWidth: 1)
        present.map { $0 ? UInt32(1) : 0 }.withUnsafeBufferPointer { encoder.encode($0) }
        return encoder.bytes
    }

    private func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    private func plainStrings(_ values: [String]) -> [UInt8] {
        values.flatMap { le([UInt32($0.utf8.count)]) + Array($0.utf8) }
    }

    private func readOnlyColumn(_ file: [UInt8]) throws -> ColumnData {
        try ParquetFileReader(bytes: file, name: "crafted").readColumn(rowGroup: 0, column: 0)
    }

    // MARK: Types

    func testInt32AndFloatAreWidened() throws {
        let ints = craftedFile(leaf("i", .int32), rows: 4, pages: [v1(levels([true, false, true, true]) + le([Int32(-5), 7, Int32.max]), values: 4)])
        XCTAssertEqual(try readOnlyColumn(ints).int64Values, [-5, nil, 7, Int64(Int32.max)])
        XCTAssertEqual(try ParquetFileReader(bytes: ints).schema.columns[0].kind, .int64)

        let floats = craftedFile(leaf("f", .float, optional: false), rows: 3,
                                 pages: [v1(le([Float(1.5).bitPattern, Float(-0.25).bitPattern, Float(3).bitPattern]), values: 3)])
        XCTAssertEqual(try readOnlyColumn(floats).doubleValues, [1.5, -0.25, 3])
    }

    func testTimestampUnitsAreNormalizedToMicros() throws {
        let millis = craftedFile(leaf("t", .int64, optional: false, logical: .timestamp(isAdjustedToUTC: true, unit: .millis)),
                                 rows: 2, pages: [v1(le([Int64(1_700_000_000_123), -1]), values: 2)])
        XCTAssertEqual(try readOnlyColumn(millis).int64Values, [1_700_000_000_123_000, -1_000])
        let nanos = craftedFile(leaf("t", .int64, optional: false, logical: .timestamp(isAdjustedToUTC: false, unit: .nanos)),
                                rows: 3, pages: [v1(le([Int64(1_700_000_000_123_456_789), -1, -1_000]), values: 3)])
        let column = try readOnlyColumn(nanos)
        XCTAssertEqual(column.kind, .timestamp)
        XCTAssertEqual(column.int64Values, [1_700_000_000_123_456, -1, -1])
        let legacy = craftedFile(leaf("t", .int64, optional: false, converted: ParquetConvertedType.timestampMillis),
                                 rows: 1, pages: [v1(le([Int64(5)]), values: 1)])
        XCTAssertEqual(try readOnlyColumn(legacy).int64Values, [5_000])
    }

    // MARK: Pages

    func testDataPageV2WithUncompressedValuesUnderZstd() throws {
        let present = [true, false, false, true, true]
        let definition = rleLevels(present)
        let values = plainStrings(["a", "bb", "ccc"])
        let header = Header(type: 3, uncompressedPageSize: Int32(definition.count + values.count),
                            compressedPageSize: Int32(definition.count + values.count),
                            dataPageHeaderV2: .init(numValues: 5, numNulls: 2, numRows: 5, encoding: .plain,
                                                    definitionLevelsByteLength: Int32(definition.count),
                                                    repetitionLevelsByteLength: 0, isCompressed: false))
        let file = craftedFile(leaf("s", .byteArray, logical: .string), rows: 5, codec: .zstd, pages: [(header, definition + values)])
        XCTAssertEqual(try readOnlyColumn(file).stringValues, ["a", nil, nil, "bb", "ccc"])
        XCTAssertEqual(try ParquetFileReader(bytes: file).pages(rowGroup: 0, column: 0).map(\.isCompressed), [false])
    }

    func testDataPageV2CompressedValuesAndRleBooleans() throws {
        let present = [true, true, false, true]
        let definition = rleLevels(present)
        var encoder = RleHybridEncoder(bitWidth: 1)
        [UInt32(1), 0, 1].withUnsafeBufferPointer { encoder.encode($0) }
        let values = le([UInt32(encoder.bytes.count)]) + encoder.bytes
        let compressed = try ZstdCompressor(level: 1).compress(values)
        let header = Header(type: 3, uncompressedPageSize: Int32(definition.count + values.count),
                            compressedPageSize: Int32(definition.count + compressed.count),
                            dataPageHeaderV2: .init(numValues: 4, numNulls: 1, numRows: 4, encoding: .rle,
                                                    definitionLevelsByteLength: Int32(definition.count),
                                                    repetitionLevelsByteLength: 0, isCompressed: true))
        let file = craftedFile(leaf("b", .boolean), rows: 4, codec: .zstd, pages: [(header, definition + compressed)])
        XCTAssertEqual(try readOnlyColumn(file).boolValues, [true, false, nil, true])
    }

    func testPlainDictionaryThenPlainFallbackPage() throws {
        // Deprecated PLAIN_DICTIONARY on both pages, a one-entry dictionary (bit width 0), then a PLAIN page.
        let dictionaryPage = dictionary(plainStrings(["8.1"]), entries: 1, encoding: .plainDictionary)
        let ids: [UInt8] = [0, 0x06] // width 0, RLE run of 3
        let first = v1(levels([true, true, false, true]) + ids, values: 4, encoding: .plainDictionary)
        let second = v1(levels([true, false]) + plainStrings(["7.4"]), values: 2)
        let file = craftedFile(leaf("php", .byteArray, logical: .string), rows: 6, pages: [dictionaryPage, first, second])
        let column = try readOnlyColumn(file)
        XCTAssertEqual(column.stringValues, ["8.1", "8.1", nil, "8.1", "7.4", nil])
        guard case .strings = column.storage else { return XCTFail("mixed chunk must be materialized") }

        let dictionaryOnly = craftedFile(leaf("php", .byteArray, logical: .string), rows: 4, pages: [dictionaryPage, first])
        guard case .dictionary = try readOnlyColumn(dictionaryOnly).storage else { return XCTFail("expected dictionary storage") }
    }

    func testNumericDictionary() throws {
        let dictionaryPage = dictionary(le([Int64(10), 20, 30]), entries: 3)
        let ids: [UInt8] = [2, 0x03, 0b0010_0110, 0] // width 2, one bit-packed group: 2,1,2,0,...
        let file = craftedFile(leaf("n", .int64, optional: false), rows: 4, pages: [dictionaryPage, v1(ids, values: 4, encoding: .rleDictionary)])
        XCTAssertEqual(try readOnlyColumn(file).int64Values, [30, 20, 30, 10])
    }

    // MARK: Damage

    func testDictionaryIdOutOfRange() throws {
        let dictionaryPage = dictionary(plainStrings(["a", "b"]), entries: 2)
        let ids: [UInt8] = [2, 0x02, 0x03] // width 2, RLE run of 1 with id 3
        let file = craftedFile(leaf("s", .byteArray, optional: false), rows: 1, pages: [dictionaryPage, v1(ids, values: 1, encoding: .rleDictionary)])
        XCTAssertThrowsError(try readOnlyColumn(file)) { error in
            XCTAssertEqual((error as? ParquetError)?.code, .badPage)
            XCTAssertTrue("\(error)".contains("dictionary id 3"), "\(error)")
            XCTAssertTrue("\(error)".contains("crafted"), "error must name the file: \(error)")
        }
    }

    func testDecompressedSizeMismatch() throws {
        let body = le([Int64(1), 2])
        let compressed = try ZstdCompressor(level: 1).compress(body)
        var page = v1(body, values: 2, compressedBody: compressed)
        page.0.uncompressedPageSize += 1
        let file = craftedFile(leaf("n", .int64, optional: false), rows: 2, codec: .zstd, pages: [page])
        XCTAssertThrowsError(try readOnlyColumn(file)) { error in
            XCTAssertEqual((error as? ParquetError)?.code, .decompression)
        }
    }

    func testValueCountsMustAddUp() throws {
        let short = craftedFile(leaf("n", .int64, optional: false), rows: 3, pages: [v1(le([Int64(1), 2]), values: 2)])
        XCTAssertThrowsError(try readOnlyColumn(short)) { XCTAssertEqual(($0 as? ParquetError)?.code, .badPage) }
        let missingValues = craftedFile(leaf("n", .int64, optional: false), rows: 3, pages: [v1(le([Int64(1), 2]), values: 3)])
        XCTAssertThrowsError(try readOnlyColumn(missingValues)) { XCTAssertEqual(($0 as? ParquetError)?.code, .badPage) }
    }

    func testUnsupportedCodecIsNamed() throws {
        let file = craftedFile(leaf("n", .int64, optional: false), rows: 1, codec: ParquetCodec(rawValue: 2),
                               pages: [v1(le([Int64(1)]), values: 1)])
        XCTAssertThrowsError(try readOnlyColumn(file)) { error in
            XCTAssertEqual((error as? ParquetError)?.code, .unsupported)
            XCTAssertTrue("\(error)".contains("GZIP"), "\(error)")
        }
    }
}
