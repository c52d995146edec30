import Core
import XCTest
@testable import ColumnStore

/// `ColumnAppender`'s bulk paths (the gather `append(from:rows:)`, `appendNulls`) against the
/// row-at-a-time reference `append(from:row:)` / `appendNull()`: the same column, value for
/// value and validity bit for bit, across every storage, NULLs, empty strings, an all-NULL
/// dictionary and runs that start at any bit of a validity byte.
final class ColumnAppenderTests: XCTestCase {
    private struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    private static func validity(count: Int, nulls: Bool, random: inout Generator) -> [UInt8]? {
        guard nulls else { return nil }
        var bits = [UInt8](repeating: 0, count: (count + 7) / 8)
        for row in 0..<count where random.next(4) != 0 { bits[row >> 3] |= 1 << UInt8(row & 7) }
        return bits
    }

    private static func sources(count: Int, random: inout Generator) -> [ColumnData] {
        var result: [ColumnData] = []
        for nulls in [false, true] {
            let ints = (0..<count).map { _ in Int64(random.next(1_000_000)) - 500_000 }
            result.append(ColumnData(kind: .int64, count: count, validity: validity(count: count, nulls: nulls, random: &random), storage: .int64(ints)))
            let bools = (0..<count).map { _ in UInt8(random.next(2)) }
            result.append(ColumnData(kind: .bool, count: count, validity: validity(count: count, nulls: nulls, random: &random), storage: .bool(bools)))
            let words = (0..<count).map { _ in String(repeating: "ab€", count: random.next(5)) + String(random.next(100)) }
            result.append(ColumnData(kind: .string, count: count, validity: validity(count: count, nulls: nulls, random: &random), storage: .strings(StringColumn(words))))
            let entries = StringColumn(["", "wp-6.4", "a much longer dictionary entry with some bytes"])
            let codes = (0..<count).map { _ in UInt32(random.next(3)) }
            result.append(ColumnData(kind: .string, count: count, validity: validity(count: count, nulls: nulls, random: &random), storage: .dictionary(dictionary: entries, codes: codes)))
        }
        // Every row NULL: an empty dictionary, each code 0.
        result.append(ColumnData(kind: .string, count: count, validity: [UInt8](repeating: 0, count: (count + 7) / 8),
                                 storage: .dictionary(dictionary: StringColumn(), codes: [UInt32](repeating: 0, count: count))))
        return result
    }

    func testTheGatherAndBulkNullsEqualTheRowAtATimeReference() {
        var random = Generator(state: 7)
        let count = 300
        for source in Self.sources(count: count, random: &random) {
            for round in 0..<20 {
                var fast = ColumnAppender(kind: source.kind)
                var reference = ColumnAppender(kind: source.kind)
                // A few runs per round: gathers of any length (empty too) and NULL runs,
                // starting wherever the previous run left the validity byte.
                for _ in 0..<(1 + round % 5) {
                    let rows = (0..<random.next(40)).map { _ in Int32(random.next(count)) }
                    rows.withUnsafeBufferPointer { fast.append(from: source, rows: $0) }
                    for row in rows { reference.append(from: source, row: Int(row)) }
                    let nulls = random.next(20)
                    fast.appendNulls(nulls)
                    for _ in 0..<nulls { reference.appendNull() }
                }
                let fastColumn = fast.finish(), referenceColumn = reference.finish()
                XCTAssertEqual(fastColumn.count, referenceColumn.count)
                for row in 0..<referenceColumn.count {
                    XCTAssertEqual(fastColumn.isValid(row), referenceColumn.isValid(row), "row \(row) of \(source.storage)")
                    guard referenceColumn.isValid(row) else { continue }
                    switch source.kind {
                    case .int64, .timestamp: XCTAssertEqual(fastColumn.int64(at: row), referenceColumn.int64(at: row))
                    case .bool: XCTAssertEqual(fastColumn.bool(at: row), referenceColumn.bool(at: row))
                    case .string: XCTAssertEqual(fastColumn.string(at: row), referenceColumn.string(at: row))
                    case .double: XCTFail("no double sources")
                    }
                }
            }
        }
    }
}
