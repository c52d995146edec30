import XCTest
import ColumnStore
@testable import Query

/// Small building blocks checked directly: LIKE matching, time arithmetic, JSON paths, HLL,
/// group counting.
final class KernelTests: XCTestCase {
    func like(_ value: String, _ pattern: String, caseInsensitive: Bool = false) -> Bool {
        let matcher = LikeMatcher(pattern: Array(pattern.utf8), caseInsensitive: caseInsensitive)
        return Array(value.utf8).withUnsafeBufferPointer { matcher.matches($0) }
    }

    /// `CountAccumulator.countRows` (interleaved counters for few groups) against the plain
    /// loop, across group counts on both sides of its threshold and row counts not a multiple of 4.
    func testCountRowsEqualsThePlainLoop() {
        var generator = SystemRandomNumberGenerator()
        for groupCount in [1, 2, 3, 17, 64, 65, 300] {
            for rowCount in [0, 1, 63, 64, 65, 2047, 2048] {
                let groups = (0..<rowCount).map { _ in Int32.random(in: 0..<Int32(groupCount), using: &generator) }
                var expected = [Int64](repeating: 5, count: groupCount)
                for group in groups { expected[Int(group)] += 1 }
                var counts = [Int64](repeating: 5, count: groupCount)
                groups.withUnsafeBufferPointer { groups in
                    counts.withUnsafeMutableBufferPointer { CountAccumulator.countRows(groups, count: rowCount, into: $0) }
                }
                XCTAssertEqual(counts, expected, "groups \(groupCount), rows \(rowCount)")
            }
        }
    }

    /// count(*) by one dictionary key, counted per dictionary entry, equals the general path
    /// (a group id per row, then `CountAccumulator`): across batches sharing a storage
    /// dictionary, a second dictionary, a NULL entry, a dictionary too large for the per-entry
    /// path, a selection without a token, and two count(*) columns.
    func testCountsByDictionaryEntryEqualTheGeneralPath() throws {
        var generator = SystemRandomNumberGenerator()
        func dictionary(_ entries: Int, nullEntry: Int?) -> (StringColumn, [UInt8]?) {
            var column = StringColumn()
            for entry in 0..<entries { column.append("value-\(entry % 7)-\(entry)") }
            return (column, nullEntry.map { null in (0..<entries).map { $0 == null ? 0 : 1 } })
        }
        let small = dictionary(5, nullEntry: 2), other = dictionary(40, nullEntry: nil), large = dictionary(3_000, nullEntry: 7)
        let tokens = [DictionaryToken(), DictionaryToken(), DictionaryToken()]
        let count = BoundAggregate(kind: .countStar, argument: nil, distinct: false, type: .bigint)
        let key = BoundExpression(.column(0), type: .varchar)
        let fast = HashAggregate(groups: [key], aggregates: [count, count])
        let reference = HashAggregate(groups: [key], aggregates: [count, count])
        reference.countsByEntry = false
        let executor = ExpressionExecutor()
        for batch in 0..<40 {
            let choice = batch % 4
            let (column, validity) = [small, other, large, small][choice]
            let token: DictionaryToken? = choice == 3 ? nil : tokens[choice]
            let rows = [1, 3, 2_048, 700, 64][batch % 5]
            let indices = (0..<rows).map { _ in UInt32.random(in: 0..<UInt32(column.count), using: &generator) }
            let vector = Vector(type: .varchar, buffer: .string(column), validity: validity, encoding: .dictionary(indices),
                                count: rows, dictionaryToken: token)
            let chunk = DataChunk(columns: [vector], count: rows)
            try fast.consume(chunk, executor: executor)
            try reference.consume(chunk, executor: executor)
        }
        XCTAssertEqual(reference.batchesCountedByEntry, 0)
        XCTAssertEqual(fast.batchesCountedByEntry, 20, "the small and the second dictionary's batches")
        func rows(_ aggregate: HashAggregate) throws -> [String] {
            try aggregate.resultChunks().flatMap { chunk in
                (0..<chunk.count).map { row in chunk.columns.map { "\($0.value(at: row))" }.joined(separator: "|") }
            }.sorted()
        }
        let expected = try rows(reference)
        XCTAssertEqual(try rows(fast), expected)
        XCTAssertGreaterThan(expected.count, 40)
        XCTAssertTrue(expected.contains { $0.hasPrefix("NULL|") || $0.hasPrefix("null|") }, expected.prefix(3).joined(separator: "\n"))
    }

    func testLike() {
        XCTAssertTrue(like("abc", "abc"))
        XCTAssertFalse(like("abcd", "abc"))
        XCTAssertTrue(like("abc", "a%"))
        XCTAssertTrue(like("abc", "%c"))
        XCTAssertTrue(like("abc", "%b%"))
        XCTAssertTrue(like("abc", "a_c"))
        XCTAssertFalse(like("ac", "a_c"))
        XCTAssertTrue(like("", "%"))
        XCTAssertTrue(like("", ""))
        XCTAssertFalse(like("a", ""))
        XCTAssertTrue(like("aXbXc", "a%b%c"))
        XCTAssertFalse(like("aXbX", "a%b%c"))
        XCTAssertTrue(like("abab", "%ab"))
        XCTAssertTrue(like("aaa", "a%a"))
        XCTAssertFalse(like("a", "a%a"))
        XCTAssertTrue(like("émile", "_mile"))
        XCTAssertTrue(like("ÉMILE", "émile", caseInsensitive: true))
        XCTAssertTrue(like("a%b", "a%%b"))
        XCTAssertTrue(like("mississippi", "%iss%ipp%"))
        XCTAssertFalse(like("mississippi", "%iss%ipx%"))
    }

    func testTimestamps() {
        let micros = parseTimestamp("2026-11-28T10:15:03.123456Z")!
        XCTAssertEqual(formatTimestamp(micros, style: .iso), "2026-11-28T10:15:03.123456Z")
        XCTAssertEqual(formatTimestamp(micros, style: .sql), "2026-11-28 10:15:03.123456")
        XCTAssertEqual(parseTimestamp("2026-11-28 12:15:03+02:00"), parseTimestamp("2026-11-28 10:15:03"))
        XCTAssertEqual(parseTimestamp("1969-12-31 23:59:59"), -1_000_000)
        XCTAssertEqual(formatTimestamp(-1, style: .iso), "1969-12-31T23:59:59.999999Z")
        XCTAssertNil(parseTimestamp("2026-02-30"))
        XCTAssertNil(parseTimestamp("2026-01-01 25:00:00"))
        XCTAssertEqual(formatTimestamp(truncateTimestamp(parseTimestamp("2024-02-29 13:00:00")!, to: .week), style: .sql),
                       "2024-02-26 00:00:00")
        XCTAssertEqual(formatTimestamp(truncateTimestamp(parseTimestamp("1969-12-31 13:00:00")!, to: .week), style: .sql),
                       "1969-12-29 00:00:00")
        XCTAssertEqual(formatTimestamp(truncateTimestamp(parseTimestamp("2026-08-15 13:00:00")!, to: .quarter), style: .sql),
                       "2026-07-01 00:00:00")
        XCTAssertEqual(monthRange("2026-12")!.end, parseTimestamp("2027-01-01")!)
    }

    func testJSONPaths() throws {
        func extract(_ json: String, _ path: String) throws -> String? {
            let steps = try parseJSONPath(Array(path.utf8))
            return try Array(json.utf8).withUnsafeBufferPointer { try extractJSONString($0, steps) }
                .map { String(decoding: $0, as: UTF8.self) }
        }
        XCTAssertEqual(try extract(#"{"a": {"b": "x"}}"#, "$.a.b"), "x")
        XCTAssertEqual(try extract(#"{"a": {"b": "x"}}"#, "$.a"), #"{"b":"x"}"#)
        XCTAssertEqual(try extract(#"{"a": [10, {"c": true}]}"#, "$.a[1].c"), "true")
        XCTAssertEqual(try extract(#"{"a.b": 1}"#, #"$."a.b""#), "1")
        XCTAssertEqual(try extract(#"{"a": {"b": 2}}"#, "/a/b"), "2")
        XCTAssertEqual(try extract(#"{"u": "\u00e9\n"}"#, "$.u"), "é\n")
        XCTAssertNil(try extract(#"{"a": null}"#, "$.a"))
        XCTAssertNil(try extract(#"{"a": 1}"#, "$.b"))
        XCTAssertNil(try extract(#"[1]"#, "$.b"))
        XCTAssertThrowsError(try extract(#"{"a": }"#, "$.a"))
        XCTAssertThrowsError(try extract(#"{"a": 1}"#, "$..a"))
        // Skipped values of every shape, as DuckDB answers them.
        XCTAssertEqual(try extract(#"{"z": {"a": 1}, "a": [1, {"b": [true, null, "x"]}, [], {}], "c": {}}"#, "$.a"),
                       #"[1,{"b":[true,null,"x"]},[],{}]"#)
        XCTAssertEqual(try extract(#"{"z": {"a": [{}, []]}, "a": 2}"#, "$.a"), "2")
        XCTAssertThrowsError(try extract(#"{"a": [1, {"b": [true, nul]}]}"#, "$.a"))
        XCTAssertThrowsError(try extract(#"{"a": [1 2]}"#, "$.a"))
        XCTAssertThrowsError(try extract(#"{"z": {"a" 1}, "a": 2}"#, "$.a"))
        // Any depth, without recursion (the document may be any text a site sent): 100,000
        // levels are skipped or reported malformed, never a stack overflow.
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertEqual(try extract(deep, "$[0]")?.count, deep.count - 2)
        XCTAssertNil(try extract(deep, "$.a"))
        XCTAssertThrowsError(try extract(String(repeating: "[", count: 100_000), "$.a"))
        XCTAssertEqual(try extract(#"{"a": "#.appending(String(repeating: #"{"b": "#, count: 50_000)) + "1"
                                   + String(repeating: "}", count: 50_001), "$.a.b.b.b")?.prefix(6), #"{"b":{"#)
    }

    func testHyperLogLogIsExactWhenSmall() {
        var sketch = HyperLogLog()
        for value in 0..<500 { sketch.insert(mixHash(UInt64(value))) }
        for value in 0..<500 { sketch.insert(mixHash(UInt64(value))) }
        XCTAssertEqual(sketch.estimate, 500)
        var big = HyperLogLog()
        for value in 0..<1_000_000 { big.insert(mixHash(UInt64(value))) }
        XCTAssertEqual(Double(big.estimate), 1_000_000, accuracy: 20_000)
        var merged = HyperLogLog()
        merged.merge(sketch)
        merged.merge(big)
        XCTAssertEqual(Double(merged.estimate), 1_000_000, accuracy: 20_000)
    }

    func testParserPositions() {
        XCTAssertThrowsError(try Parser.parse("SELECT\n  a,\n  FROM events")) { error in
            let error = error as! QueryError
            XCTAssertEqual(error.position?.line, 3)
            XCTAssertEqual(error.position?.column, 3)
        }
    }
}
