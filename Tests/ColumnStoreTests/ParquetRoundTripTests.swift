import Foundation
import XCTest
@testable import ColumnStore

final class ParquetRoundTripTests: XCTestCase {
    /// Every kind x null density x dictionary size, several row groups and pages.
    func testRoundTripMatrix() throws {
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 1_500
        options.pageRowsMax = 400
        for nullFraction in [0.0, 0.5, 1.0] {
            for distinct in [1, 300, 5_000] {
                let table = GeneratedTable.make(rows: 4_000, nullFraction: nullFraction, distinctStrings: distinct,
                                                seed: UInt64(distinct) &* 31 &+ UInt64(nullFraction * 10))
                let context = "nulls \(nullFraction), distinct \(distinct)"
                let writer = try ParquetWriter(schema: table.schema, options: options)
                try writer.write(rowGroup: table.columns)
                let bytes = try writer.close()
                let reader = try ParquetFileReader(bytes: bytes, name: context)
                XCTAssertEqual(reader.schema, table.schema, context)
                XCTAssertEqual(reader.rowCount, 4_000, context)
                XCTAssertEqual(reader.rowGroups.map(\.rowCount), [1_500, 1_500, 1_000], context)
                let read = try readAllValues(reader)
                for (actual, expected) in zip(read, table.columns) { assertSameValues(actual, expected, context) }
                for group in reader.rowGroups {
                    for chunk in group.columns {
                        XCTAssertEqual(chunk.codec, .zstd, context)
                        XCTAssertNotNil(chunk.nullCount, context)
                    }
                }
            }
        }
    }

    /// Rows per dictionary entry counted from the pages (`countEntries`) equal the codes of
    /// `readColumn` counted row by row, across null densities, dictionary sizes, row groups
    /// and pages; a chunk that falls back to PLAIN pages, and a column that is not a string,
    /// are declined (nil), not guessed.
    func testEntryCountsEqualDecodedCodesCounted() throws {
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 1_500
        options.pageRowsMax = 400
        var counted = 0
        for nullFraction in [0.0, 0.5, 1.0] {
            for distinct in [1, 300, 5_000] {
                let table = GeneratedTable.make(rows: 4_000, nullFraction: nullFraction, distinctStrings: distinct, seed: UInt64(distinct) &+ 7)
                let writer = try ParquetWriter(schema: table.schema, options: options)
                try writer.write(rowGroup: table.columns)
                let reader = try ParquetFileReader(bytes: try writer.close())
                for (index, column) in table.schema.columns.enumerated() {
                    for group in reader.rowGroups.indices {
                        let context = "nulls \(nullFraction), distinct \(distinct), column \(column.name), row group \(group)"
                        let entryCounts = try reader.countEntries(rowGroup: group, column: index)
                        let read = try reader.readColumn(rowGroup: group, column: index)
                        guard column.kind == .string else {
                            XCTAssertNil(entryCounts, context)
                            continue
                        }
                        guard case .dictionary(let dictionary, let codes) = read.storage else {
                            if let entryCounts { XCTAssertEqual(entryCounts.nulls, Int64(read.count), context) }
                            continue
                        }
                        guard let entryCounts else { XCTFail("a dictionary chunk was declined: " + context); continue }
                        var expected = [Int64](repeating: 0, count: dictionary.count)
                        var nulls: Int64 = 0
                        for row in 0..<read.count {
                            if read.isValid(row) { expected[Int(codes[row])] += 1 } else { nulls += 1 }
                        }
                        XCTAssertEqual(entryCounts.counts, expected, context)
                        XCTAssertEqual(entryCounts.nulls, nulls, context)
                        XCTAssertEqual(entryCounts.entries, dictionary, context)
                        counted += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(counted, 10, "the counting path was taken")
        let schema = ParquetSchema([ParquetColumn(name: "site", kind: .string)])
        let values: [String?] = (0..<80_000).map { $0 % 10 == 0 ? nil : "site-\($0)" }
        let fallback = try ParquetFileReader(bytes: try ParquetWriter.encode(schema: schema, rowGroups: [[.strings(values)]]))
        XCTAssertNil(try fallback.countEntries(rowGroup: 0, column: 0), "PLAIN pages after the dictionary's")
    }

    func testDictionaryStorageAndZeroBitIds() throws {
        let schema = ParquetSchema([ParquetColumn(name: "v", kind: .string)])
        let values: [String?] = (0..<1_000).map { $0 % 3 == 0 ? nil : "8.1" }
        let bytes = try ParquetWriter.encode(schema: schema, rowGroups: [[.strings(values)]])
        let reader = try ParquetFileReader(bytes: bytes)
        let column = try reader.readColumn(rowGroup: 0, column: 0)
        guard case .dictionary(let dictionary, let codes) = column.storage else { return XCTFail("expected dictionary storage") }
        XCTAssertEqual(dictionary.count, 1)
        XCTAssertEqual(codes.count, 1_000)
        XCTAssertEqual(column.stringValues, values)
        let info = reader.rowGroups[0].columns[0]
        XCTAssertEqual(info.isFullyDictionaryEncoded, true)
        XCTAssertEqual(info.nullCount, 334)
        XCTAssertNotNil(info.dictionaryPageOffset)
        XCTAssertEqual(Set(info.encodings), [.plain, .rle, .rleDictionary])
    }

    /// More than 65,536 distinct strings in one chunk: dictionary pages, then PLAIN pages.
    func testPlainFallbackAfterDictionaryLimit() throws {
        let schema = ParquetSchema([ParquetColumn(name: "site", kind: .string)])
        let values: [String?] = (0..<80_000).map { $0 % 10 == 0 ? nil : "site-\($0)" }
        let bytes = try ParquetWriter.encode(schema: schema, rowGroups: [[.strings(values)]])
        let reader = try ParquetFileReader(bytes: bytes)
        let info = reader.rowGroups[0].columns[0]
        XCTAssertEqual(info.isFullyDictionaryEncoded, false)
        XCTAssertTrue(info.encodings.contains(.rleDictionary) && info.encodings.contains(.plain))
        let column = try reader.readColumn(rowGroup: 0, column: 0)
        guard case .strings = column.storage else { return XCTFail("mixed chunk must come back as plain strings") }
        XCTAssertEqual(column.stringValues, values)
    }

    /// >65,536 distinct strings per row group, with and without nulls, over several row groups.
    func testPlainFallbackAcrossRowGroups() throws {
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 135_000
        let schema = ParquetSchema([ParquetColumn(name: "site", kind: .string), ParquetColumn(name: "n", kind: .int64)])
        for nullFraction in [0.0, 0.5] {
            var random = SplitMix64(seed: 17)
            let rows = 2 * options.rowGroupRowsMax + 1_000
            let sites: [String?] = (0..<rows).map { row in
                Double.random(in: 0..<1, using: &random) < nullFraction ? nil : "Ünïcødé-\(row)"
            }
            let numbers: [Int64?] = (0..<rows).map { $0 % 3 == 0 && nullFraction > 0 ? nil : Int64($0) }
            let bytes = try ParquetWriter.encode(schema: schema, rowGroups: [[.strings(sites), .int64(numbers)]], options: options)
            let reader = try ParquetFileReader(bytes: bytes)
            XCTAssertEqual(reader.rowGroups.map(\.rowCount), [135_000, 135_000, 1_000])
            XCTAssertEqual(reader.rowGroups[0].columns[0].isFullyDictionaryEncoded, false)
            XCTAssertEqual(reader.rowGroups[1].columns[0].isFullyDictionaryEncoded, false)
            XCTAssertEqual(reader.rowGroups[2].columns[0].isFullyDictionaryEncoded, true)
            let read = try readAllValues(reader)
            XCTAssertEqual(read[0].stringValues, sites, "nulls \(nullFraction)")
            XCTAssertEqual(read[1].int64Values, numbers, "nulls \(nullFraction)")
        }
    }

    func testStatisticsUseUnsignedByteOrder() throws {
        let schema = ParquetSchema([
            ParquetColumn(name: "s", kind: .string), ParquetColumn(name: "i", kind: .int64),
            ParquetColumn(name: "t", kind: .timestamp), ParquetColumn(name: "b", kind: .bool),
            ParquetColumn(name: "d", kind: .double), ParquetColumn(name: "n", kind: .double),
        ])
        let columns: [ColumnData] = [
            .strings(["é", "z", nil, "a", "日本", "Z", "zz"]),
            .int64([5, -7, nil, 9, 0, nil, 3]),
            .timestamps([10, 20, 30, nil, nil, nil, 5]),
            .bools([true, true, nil, true, nil, nil, true]),
            .doubles([1.5, .nan, -2.25, nil, 0, 8, nil]),
            .doubles([nil, nil, nil, nil, nil, nil, nil]),
        ]
        let reader = try ParquetFileReader(bytes: try ParquetWriter.encode(schema: schema, rowGroups: [columns]))
        let stats = reader.rowGroups[0].columns
        XCTAssertEqual(stats[0].min?.string, "Z")
        XCTAssertEqual(stats[0].max?.string, "日本")
        XCTAssertEqual(stats[0].nullCount, 1)
        XCTAssertEqual(stats[1].min, .int64(-7))
        XCTAssertEqual(stats[1].max, .int64(9))
        XCTAssertEqual(stats[2].min, .int64(5))
        XCTAssertEqual(stats[2].max, .int64(30))
        XCTAssertEqual(stats[3].min, .bool(true))
        XCTAssertEqual(stats[3].max, .bool(true))
        XCTAssertEqual(stats[4].min, .double(-2.25))
        XCTAssertEqual(stats[4].max, .double(8))
        XCTAssertNil(stats[5].min)
        XCTAssertEqual(stats[5].nullCount, 7)
        let doubles = try reader.readColumn(rowGroup: 0, column: 4)
        XCTAssertTrue(doubles.double(at: 1)!.isNaN)
    }

    func testDictionaryInputIsReencoded() throws {
        let schema = ParquetSchema([ParquetColumn(name: "v", kind: .string)])
        let input = ColumnData(kind: .string, count: 5, validity: [0b1_1011],
                               storage: .dictionary(dictionary: StringColumn(["x", "unused", "y"]), codes: [2, 0, 7, 0, 2]))
        let reader = try ParquetFileReader(bytes: try ParquetWriter.encode(schema: schema, rowGroups: [[input]]))
        XCTAssertEqual(try reader.readColumn(rowGroup: 0, column: 0).stringValues, ["y", "x", nil, "x", "y"])
    }

    /// The reader is shared across threads by the engine, and keeps working after the file
    /// is unlinked (compaction may swap files under a running query).
    func testConcurrentReadsAndUnlinkedFile() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.appendingPathComponent("shared.parquet").path
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 500
        let table = GeneratedTable.make(rows: 3_000, nullFraction: 0.2, distinctStrings: 30, seed: 8)
        try ParquetWriter.writeFileAtomically(path: path, schema: table.schema, rowGroups: [table.columns], options: options)
        let reader = try ParquetFileReader(path: path)
        try FileManager.default.removeItem(atPath: path)
        let groups = reader.rowGroups.count, columns = reader.schema.columns.count
        // `nonisolated(unsafe)`: each task writes only its own slot, and `concurrentPerform`
        // returns after every task, before the slots are read or freed.
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<ColumnData?>.allocate(capacity: groups * columns)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: groups * columns) { task in
            results[task] = try? reader.readColumn(rowGroup: task / columns, column: task % columns)
        }
        for column in 0..<columns {
            let parts = (0..<groups).compactMap { results[$0 * columns + column]?.materialized() }
            XCTAssertEqual(parts.count, groups)
            assertSameValues(parts.dropFirst().reduce(parts[0], concatenate), table.columns[column], "column \(column)")
        }
    }

    /// Same input, same bytes: compaction can compare outputs and stay idempotent.
    func testOutputIsDeterministicAndColumnsResolveByName() throws {
        let table = GeneratedTable.make(rows: 1_000, nullFraction: 0.4, distinctStrings: 50, seed: 4)
        var options = ParquetWriter.Options()
        options.keyValueMetadata = ["b": "2", "a": "1"]
        let first = try ParquetWriter.encode(schema: table.schema, rowGroups: [table.columns], options: options)
        let second = try ParquetWriter.encode(schema: table.schema, rowGroups: [table.columns], options: options)
        XCTAssertEqual(first, second)
        let reader = try ParquetFileReader(bytes: first)
        XCTAssertEqual(reader.keyValueMetadata, ["a": "1", "b": "2"])
        assertSameValues(try reader.readColumn(rowGroup: 0, name: "ts"), table.columns[2], "by name")
        XCTAssertThrowsError(try reader.readColumn(rowGroup: 0, name: "missing"))
        XCTAssertThrowsError(try reader.readColumn(rowGroup: 1, column: 0))
    }

    func testWriterRejectsBadInput() throws {
        let schema = ParquetSchema([ParquetColumn(name: "r", kind: .int64, isOptional: false)])
        let writer = try ParquetWriter(schema: schema)
        XCTAssertThrowsError(try writer.write(rowGroup: [.int64([1, nil])]))
        XCTAssertThrowsError(try writer.write(rowGroup: [.doubles([1])]))
        XCTAssertThrowsError(try writer.write(rowGroup: []))
        XCTAssertThrowsError(try writer.close()) { error in
            XCTAssertEqual((error as? ParquetError)?.code, .invalidInput)
        }
    }

    func testZeroRowFileIsNotWritten() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.appendingPathComponent("empty.parquet").path
        let writer = try ParquetWriter(path: path, schema: ParquetSchema([ParquetColumn(name: "x", kind: .int64)]))
        try writer.write(rowGroup: [.int64([])])
        XCTAssertThrowsError(try writer.close())
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testAtomicFileWrite() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.appendingPathComponent("events.parquet").path
        let table = GeneratedTable.make(rows: 300, nullFraction: 0.3, distinctStrings: 20, seed: 7)
        try ParquetWriter.writeFileAtomically(path: path, schema: table.schema, rowGroups: [table.columns])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["events.parquet"])
        let reader = try ParquetFileReader(path: path)
        for (actual, expected) in zip(try readAllValues(reader), table.columns) { assertSameValues(actual, expected, path) }
    }

    func testThriftSkipsUnknownFieldsOfEveryType() throws {
        // struct { 1: i32 7, 20: list<binary>["a"], 21: map<i32,struct{}>{1:{}}, 22: double, 23: true,
        //          24: struct{1: set<i64>[3]}, 25: uuid, 2: i64 9 }
        var bytes: [UInt8] = [0x15, 0x0E]
        bytes += [0x09, 0x28, 0x18, 0x01, 0x61]                  // field 20 (long form), list of 1 binary "a"
        bytes += [0x1B, 0x01, 0x5C, 0x02, 0x00]                 // field 21 map: 1 entry i32->struct
        bytes += [0x17] + [UInt8](repeating: 0, count: 8)       // field 22 double
        bytes += [0x11]                                         // field 23 bool true
        bytes += [0x1C, 0x1A, 0x16, 0x06, 0x00]                 // field 24 struct { set<i64> [3] }
        bytes += [0x1D] + [UInt8](repeating: 0xAB, count: 16)   // field 25 uuid
        bytes += [0x06, 0x04, 0x12, 0x00]                       // field 2 (long form) i64 9, stop
        var reader = ThriftCompactReader(bytes: bytes)
        var seen: [Int16: Int64] = [:]
        try reader.readStruct { reader, id, type in
            switch id {
            case 1, 2: seen[id] = try reader.readI64(type)
            default: try reader.skip(type)
            }
        }
        XCTAssertEqual(seen, [1: 7, 2: 9])
        XCTAssertEqual(reader.bytesLeft, 0)
        // Deep nesting is refused, not recursed into.
        var deep = ThriftCompactReader(bytes: [UInt8](repeating: 0x1C, count: 10_000))
        XCTAssertThrowsError(try deep.skip(.structure))
    }

    func testRleHybridRoundTrip() throws {
        var random = SplitMix64(seed: 3)
        for width in [0, 1, 3, 8, 13, 32] {
            let maxValue = width == 0 ? 0 : (width == 32 ? UInt32.max : (UInt32(1) << UInt32(width)) - 1)
            let values: [UInt32] = (0..<5_003).map { index in
                index % 100 < 50 ? UInt32(index / 100) & maxValue : UInt32.random(in: 0...maxValue, using: &random)
            }
            var encoder = RleHybridEncoder(bitWidth: width)
            values.withUnsafeBufferPointer { encoder.encode($0) }
            var decoded = [UInt32](repeating: 0, count: values.count)
            try encoder.bytes.withUnsafeBytes { raw in
                var decoder = try RleHybridDecoder(raw, bitWidth: width)
                try decoded.withUnsafeMutableBufferPointer { try decoder.decode(into: $0.baseAddress!, count: values.count) }
            }
            XCTAssertEqual(decoded, values, "width \(width)")
        }
    }

    /// Bit-packed values read a whole group of 8 at a time (widths up to 8) equal the
    /// one-at-a-time reference, for every width, decoded in pieces that start and end inside
    /// groups, over long packed runs, short ones between RLE runs and a run ending the buffer.
    func testRleHybridWholeGroupsEqualOneByOne() throws {
        var random = SplitMix64(seed: 17)
        for width in 0...32 {
            let maxValue = width == 0 ? 0 : (width == 32 ? UInt32.max : (UInt32(1) << UInt32(width)) - 1)
            let values: [UInt32] = (0..<3_001).map { index in
                index % 400 < 40 ? 1 & maxValue : UInt32.random(in: 0...maxValue, using: &random)
            }
            var encoder = RleHybridEncoder(bitWidth: width)
            values.withUnsafeBufferPointer { encoder.encode($0) }
            let pieces = { (piece: Int) in piece % 37 + 3 }
            let reference = try Self.decodeInPieces(encoder.bytes, width: width, count: values.count, oneByOne: true, next: pieces)
            XCTAssertEqual(reference, values, "width \(width), one by one")
            XCTAssertEqual(try Self.decodeInPieces(encoder.bytes, width: width, count: values.count, next: pieces), reference,
                           "width \(width), whole groups")
        }
    }

    /// Counting values per value (`count(_:into:)`, for `count(*) … GROUP BY` a dictionary
    /// column) equals decoding them and counting what was decoded, over RLE runs, bit-packed
    /// runs and odd piece sizes; a value with no counter is refused, never counted.
    func testRleHybridCountsEqualDecodedValuesCounted() throws {
        var random = SplitMix64(seed: 23)
        for width in 0...12 {
            let maxValue = width == 0 ? 0 : (UInt32(1) << UInt32(width)) - 1
            let values: [UInt32] = (0..<5_003).map { index in
                index % 500 < 120 ? 1 & maxValue : UInt32.random(in: 0...maxValue, using: &random)
            }
            var encoder = RleHybridEncoder(bitWidth: width)
            values.withUnsafeBufferPointer { encoder.encode($0) }
            var expected = [Int64](repeating: 0, count: Int(maxValue) + 1)
            for value in values { expected[Int(value)] += 1 }
            var counts = [Int64](repeating: 0, count: Int(maxValue) + 1)
            try encoder.bytes.withUnsafeBytes { raw in
                var decoder = try RleHybridDecoder(raw, bitWidth: width)
                var done = 0, piece = 1
                while done < values.count {
                    let take = min(piece, values.count - done)
                    try counts.withUnsafeMutableBufferPointer { try decoder.count(take, into: $0) }
                    done += take
                    piece = piece * 3 % 701 + 1
                }
            }
            XCTAssertEqual(counts, expected, "width \(width)")
            if let largest = values.max(), largest > 0 {
                var tooFew = [Int64](repeating: 0, count: Int(largest))
                XCTAssertThrowsError(try encoder.bytes.withUnsafeBytes { raw in
                    var decoder = try RleHybridDecoder(raw, bitWidth: width)
                    try tooFew.withUnsafeMutableBufferPointer { try decoder.count(values.count, into: $0) }
                }, "width \(width): the largest value has no counter")
            }
        }
    }

    /// Short bit-packed runs (one group of 8) between RLE runs, as other writers emit them,
    /// decoded in odd-sized pieces: each value's 8-byte load reaches into the next run's
    /// header, which must be masked off, and the buffer's last bytes take the byte loop. The
    /// last packed run is truncated to the bytes its values need, as some writers do.
    func testRleHybridShortPackedRunsBetweenRleRuns() throws {
        var random = SplitMix64(seed: 11)
        for width in [1, 2, 5, 7, 13, 32] {
            let maxValue = width == 32 ? UInt32.max : (UInt32(1) << UInt32(width)) - 1
            var bytes: [UInt8] = []
            var expected: [UInt32] = []
            func varint(_ value: Int) {
                var value = value
                while value >= 0x80 { bytes.append(UInt8(value & 0x7F) | 0x80); value >>= 7 }
                bytes.append(UInt8(value))
            }
            func packed(_ values: [UInt32], truncated: Bool = false) {
                varint(1 << 1 | 1)  // one group of 8
                var bits: [UInt8] = []
                for value in values { for bit in 0..<width { bits.append(UInt8((UInt64(value) >> UInt64(bit)) & 1)) } }
                var packedBytes = [UInt8](repeating: 0, count: width)  // 8 values * width bits
                for (index, bit) in bits.enumerated() { packedBytes[index / 8] |= bit << UInt8(index % 8) }
                if truncated { packedBytes = Array(packedBytes.prefix((values.count * width + 7) / 8)) }
                bytes += packedBytes
            }
            for run in 0..<40 {
                let values = (0..<8).map { _ in UInt32.random(in: 0...maxValue, using: &random) }
                packed(values)
                expected += values
                let repeated = UInt32.random(in: 0...maxValue, using: &random)
                let length = 1 + run % 5
                varint(length << 1)
                for byte in 0..<((width + 7) / 8) { bytes.append(UInt8(truncatingIfNeeded: repeated >> UInt32(8 * byte))) }
                expected += Array(repeating: repeated, count: length)
            }
            let tail = (0..<3).map { _ in UInt32.random(in: 0...maxValue, using: &random) }
            packed(tail + [0, 0, 0, 0, 0], truncated: true)
            expected += tail
            let decoded = try Self.decodeInPieces(bytes, width: width, count: expected.count) { $0 % 7 + 2 }
            XCTAssertEqual(decoded, expected, "width \(width)")
        }
    }

    /// `count` values of an RLE/bit-packed stream decoded in pieces of 1, `next(1)`,
    /// `next(next(1))`… values, so pieces start and end inside runs and groups.
    static func decodeInPieces(_ bytes: [UInt8], width: Int, count: Int, oneByOne: Bool = false,
                               next: (Int) -> Int) throws -> [UInt32] {
        var decoded = [UInt32](repeating: 0, count: count)
        try bytes.withUnsafeBytes { raw in
            var decoder = try RleHybridDecoder(raw, bitWidth: width, oneByOne: oneByOne)
            var done = 0, piece = 1
            try decoded.withUnsafeMutableBufferPointer { output in
                while done < count {
                    let take = min(piece, count - done)
                    try decoder.decode(into: output.baseAddress! + done, count: take)
                    done += take
                    piece = next(piece)
                }
            }
        }
        return decoded
    }
}
