// Parquet files: any bytes given as a file must give a `ParquetError` (or a result), never
// a crash, hang or huge allocation: the footer, every column of every row group, row
// ranges, the counts per dictionary entry and the page listing are read.
// `TRACKHOUSE_FUZZ_WRITE_SEEDS=DIR` writes small valid files (the seed corpus) and exits.
@testable import ColumnStore
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    do {
        let file = try ParquetFileReader(bytes: bytes, name: "fuzz.parquet")
        for group in file.rowGroups.indices {
            _ = try? file.pages(rowGroup: group, column: 0)
            for column in file.schema.columns.indices {
                _ = try? file.pages(rowGroup: group, column: column)
                let read = try? file.readColumn(rowGroup: group, column: column)
                if let data = read {
                    if data.count != file.rowGroups[group].rowCount {
                        fuzzFail("column \(column) of row group \(group) has \(data.count) values, the group \(file.rowGroups[group].rowCount) rows", input: bytes)
                    }
                    _ = data.materialized()
                }
                // Counts per dictionary entry from the pages: when both paths answer, the
                // same rows under the same entries (or as NULL).
                if let counted = try? file.countEntries(rowGroup: group, column: column),
                   let data = read, case .dictionary(let dictionary, let codes) = data.storage {
                    var expected = [Int64](repeating: 0, count: dictionary.count)
                    var nulls: Int64 = 0
                    for row in 0..<data.count {
                        if data.isValid(row) { expected[Int(codes[row])] += 1 } else { nulls += 1 }
                    }
                    if counted.entries != dictionary || counted.counts != expected || counted.nulls != nulls {
                        fuzzFail("counts per entry differ from the decoded codes in column \(column) of row group \(group)", input: bytes)
                    }
                }
                let rows = file.rowGroups[group].rowCount
                if rows > 1, let part = try? file.readColumn(rowGroup: group, column: column, rows: 1..<rows), part.count != rows - 1 {
                    fuzzFail("row range read gave \(part.count) values for \(rows - 1) rows", input: bytes)
                }
            }
        }
    } catch is ParquetError {
    } catch {
        fuzzFail("unexpected error type \(error)", input: bytes)
    }
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    guard let directory = getenv("TRACKHOUSE_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return 0 }
    do {
        for (name, bytes) in try ParquetSeeds.files() {
            try writeSeed(path: directory + "/" + name, bytes)
        }
    } catch {
        fputs("writing seeds failed: \(error)\n", stderr)
        exit(1)
    }
    exit(0)
}

enum ParquetSeeds {
    /// Three small files: every kind with nulls and a dictionary, one REQUIRED column in two
    /// row groups with several pages, and dictionary fallback to PLAIN strings.
    static func files() throws -> [(String, [UInt8])] {
        var files: [(String, [UInt8])] = []
        let all = ParquetSchema([
            ParquetColumn(name: "s", kind: .string), ParquetColumn(name: "i", kind: .int64),
            ParquetColumn(name: "t", kind: .timestamp), ParquetColumn(name: "b", kind: .bool),
            ParquetColumn(name: "d", kind: .double),
        ])
        files.append(("kinds.parquet", try ParquetWriter.encode(schema: all, rowGroups: [[
            .strings(["a", nil, "bb", "a", "ccc"]), .int64([1, nil, -5, 1 << 40, 0]),
            .timestamps([1_780_000_000_000_000, nil, 0, -1, 5]), .bools([true, false, nil, true, true]),
            .doubles([1.5, nil, -0.0, 2e300, 3]),
        ]])))
        var options = ParquetWriter.Options()
        options.pageRowsMax = 3
        options.rowGroupRowsMax = 5
        let required = ParquetSchema([ParquetColumn(name: "n", kind: .int64, isOptional: false)])
        files.append(("pages.parquet", try ParquetWriter.encode(schema: required, rowGroups: [[.int64((0..<8).map { Int64($0) })]], options: options)))
        var fallback = ParquetWriter.Options()
        fallback.dictionaryEntriesMax = 2
        let strings = ParquetSchema([ParquetColumn(name: "s", kind: .string)])
        files.append(("fallback.parquet", try ParquetWriter.encode(schema: strings, rowGroups: [[.strings(["x", "y", "z", "x", nil, "w"])]], options: fallback)))
        files += crafted()
        return files
    }

    typealias Header = ParquetFormat.PageHeader

    /// UNCOMPRESSED files of what other writers produce (as ParquetReaderCompatibilityTests
    /// builds them), so mutations reach the page decoders without a zstd frame in the way.
    static func crafted() -> [(String, [UInt8])] {
        func leaf(_ name: String, _ type: ParquetPhysicalType, optional: Bool = true,
                  logical: ParquetFormat.LogicalType? = nil) -> ParquetFormat.SchemaElement {
            ParquetFormat.SchemaElement(type: type, repetitionType: optional ? 1 : 0, name: name, convertedType: nil, logicalType: logical)
        }
        func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
            values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        }
        func rle(_ values: [UInt32], width: Int) -> [UInt8] {
            var encoder = RleHybridEncoder(bitWidth: width)
            values.withUnsafeBufferPointer { encoder.encode($0) }
            return encoder.bytes
        }
        func levels(_ present: [Bool]) -> [UInt8] {
            let raw = rle(present.map { $0 ? 1 : 0 }, width: 1)
            return le([UInt32(raw.count)]) + raw
        }
        func plainStrings(_ values: [String]) -> [UInt8] { values.flatMap { le([UInt32($0.utf8.count)]) + Array($0.utf8) } }
        func v1(_ body: [UInt8], values: Int, encoding: ParquetEncoding = .plain) -> (Header, [UInt8]) {
            (Header(type: 0, uncompressedPageSize: Int32(body.count), compressedPageSize: Int32(body.count),
                    dataPageHeader: .init(numValues: Int32(values), encoding: encoding, definitionLevelEncoding: .rle,
                                          repetitionLevelEncoding: .rle)), body)
        }
        func file(_ element: ParquetFormat.SchemaElement, rows: Int, encodings: [ParquetEncoding] = [.plain, .rle],
                  _ pages: [(Header, [UInt8])]) -> [UInt8] {
            craftedParquetFile(element, rows: rows, codec: .uncompressed, encodings: encodings, pages: pages)
        }
        let definition = rle([1, 0, 0, 1, 1], width: 1)
        let v2Values = plainStrings(["a", "bb", "ccc"])
        let v2 = Header(type: 3, uncompressedPageSize: Int32(definition.count + v2Values.count),
                        compressedPageSize: Int32(definition.count + v2Values.count),
                        dataPageHeaderV2: .init(numValues: 5, numNulls: 2, numRows: 5, encoding: .plain,
                                                definitionLevelsByteLength: Int32(definition.count),
                                                repetitionLevelsByteLength: 0, isCompressed: false))
        let dictionaryBody = plainStrings(["8.1", "7.4", "8.2"])
        let dictionary = (Header(type: 2, uncompressedPageSize: Int32(dictionaryBody.count), compressedPageSize: Int32(dictionaryBody.count),
                                 dictionaryPageHeader: .init(numValues: 3, encoding: .plain)), dictionaryBody)
        let ids = [UInt8(2)] + rle([0, 1, 2, 2, 1, 0, 0, 0, 0, 0, 0], width: 2)
        let booleans = rle([1, 0, 1], width: 1)
        return [
            ("int32-v1.parquet", file(leaf("i", .int32), rows: 4, [v1(levels([true, false, true, true]) + le([Int32(-5), 7, Int32.max]), values: 4)])),
            ("millis-required.parquet", file(leaf("t", .int64, optional: false, logical: .timestamp(isAdjustedToUTC: true, unit: .millis)),
                                             rows: 2, [v1(le([Int64(1_700_000_000_123), -1]), values: 2)])),
            ("strings-v2.parquet", file(leaf("s", .byteArray, logical: .string), rows: 5, [(v2, definition + v2Values)])),
            ("dictionary-ids.parquet", file(leaf("s", .byteArray, optional: false, logical: .string), rows: 11,
                                            encodings: [.plain, .rle, .rleDictionary],
                                            [dictionary, v1(ids, values: 11, encoding: .rleDictionary)])),
            ("booleans-rle.parquet", file(leaf("b", .boolean, optional: false), rows: 3,
                                          [v1(le([UInt32(booleans.count)]) + booleans, values: 3, encoding: .rle)])),
        ]
    }
}

func writeSeed(path: String, _ bytes: [UInt8]) throws {
    guard let file = fopen(path, "wb") else { throw ParquetError(.io, "cannot create \(path)") }
    defer { fclose(file) }
    if fwrite(bytes, 1, bytes.count, file) != bytes.count { throw ParquetError(.io, "cannot write \(path)") }
}
