import XCTest
@testable import ColumnStore

/// Deterministic random numbers for reproducible test data.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One table's worth of generated columns, kept also as Swift optionals for comparison.
struct GeneratedTable {
    var schema: ParquetSchema
    var columns: [ColumnData]
    var rows: Int { columns.first?.count ?? 0 }

    /// Every kind, optional, plus a REQUIRED int64 and a REQUIRED string.
    static func make(rows: Int, nullFraction: Double, distinctStrings: Int, seed: UInt64) -> GeneratedTable {
        var random = SplitMix64(seed: seed)
        func isNull() -> Bool { nullFraction > 0 && Double.random(in: 0..<1, using: &random) < nullFraction }
        let words = ["plugin", "é", "日本語", "Ünïcødé", "wp", "php-8.1", ""]
        func string(_ id: Int) -> String { "\(words[id % words.count])-\(id)" }
        var strings: [String?] = [], ints: [Int64?] = [], times: [Int64?] = [], bools: [Bool?] = [], doubles: [Double?] = []
        var requiredInts: [Int64?] = [], requiredStrings: [String?] = []
        for row in 0..<rows {
            strings.append(isNull() ? nil : string(Int.random(in: 0..<max(1, distinctStrings), using: &random)))
            ints.append(isNull() ? nil : Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &random))
            times.append(isNull() ? nil : 1_700_000_000_000_000 + Int64(row) * 1_000_003)
            bools.append(isNull() ? nil : Bool.random(using: &random))
            doubles.append(isNull() ? nil : Double(Int.random(in: -100_000...100_000, using: &random)) / 8)
            requiredInts.append(Int64(row))
            requiredStrings.append(distinctStrings == 1 ? "only" : "site-\(row % 97)")
        }
        let schema = ParquetSchema([
            ParquetColumn(name: "s", kind: .string),
            ParquetColumn(name: "i", kind: .int64),
            ParquetColumn(name: "ts", kind: .timestamp),
            ParquetColumn(name: "b", kind: .bool),
            ParquetColumn(name: "d", kind: .double),
            ParquetColumn(name: "ri", kind: .int64, isOptional: false),
            ParquetColumn(name: "rs", kind: .string, isOptional: false),
        ])
        return GeneratedTable(schema: schema, columns: [
            .strings(strings), .int64(ints), .timestamps(times), .bools(bools), .doubles(doubles),
            .int64(requiredInts), .strings(requiredStrings),
        ])
    }
}

/// Compares two columns by logical values (storage may differ: dictionary vs strings).
func assertSameValues(_ actual: ColumnData, _ expected: ColumnData, _ context: String,
                      file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.kind, expected.kind, context, file: file, line: line)
    XCTAssertEqual(actual.count, expected.count, context, file: file, line: line)
    guard actual.count == expected.count else { return }
    switch expected.kind {
    case .string: XCTAssertEqual(actual.stringValues, expected.stringValues, context, file: file, line: line)
    case .int64, .timestamp: XCTAssertEqual(actual.int64Values, expected.int64Values, context, file: file, line: line)
    case .bool: XCTAssertEqual(actual.boolValues, expected.boolValues, context, file: file, line: line)
    case .double: XCTAssertEqual(actual.doubleValues, expected.doubleValues, context, file: file, line: line)
    }
}

/// Reads every row group of `reader` and concatenates each column's values.
func readAllValues(_ reader: ParquetFileReader) throws -> [ColumnData] {
    var merged: [ColumnData] = []
    for group in reader.rowGroups.indices {
        let columns = try reader.readRowGroup(group)
        if merged.isEmpty { merged = columns.map { $0.materialized() } } else {
            merged = zip(merged, columns).map { concatenate($0, $1.materialized()) }
        }
    }
    return merged
}

func concatenate(_ first: ColumnData, _ second: ColumnData) -> ColumnData {
    switch first.kind {
    case .string: return .strings(first.stringValues + second.stringValues)
    case .int64: return .int64(first.int64Values + second.int64Values)
    case .timestamp: return .timestamps(first.int64Values + second.int64Values)
    case .bool: return .bools(first.boolValues + second.boolValues)
    case .double: return .doubles(first.doubleValues + second.doubleValues)
    }
}

extension XCTestCase {
    /// A fresh directory removed when the test ends.
    func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

