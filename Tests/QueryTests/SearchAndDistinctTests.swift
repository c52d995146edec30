import ColumnStore
import Logging
import XCTest
@testable import Query

/// The substring search behind LIKE and the partitioned DISTINCT sets, checked against
/// naive references and across thread counts.
final class SearchAndDistinctTests: XCTestCase {
    let logger = Logger(label: "query-tests")

    // MARK: Substring search

    func find(_ needle: [UInt8], _ haystack: [UInt8]) -> Int? {
        haystack.withUnsafeBytes { hay in needle.withUnsafeBytes { SubstringSearcher.find($0, in: hay) } }
    }

    func naiveFind(_ needle: [UInt8], _ haystack: [UInt8]) -> Int? {
        if needle.isEmpty { return 0 }
        if needle.count > haystack.count { return nil }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
            return start
        }
        return nil
    }

    func testSubstringSearchEdgeCases() {
        XCTAssertEqual(find([], []), 0, "empty needle matches at 0")
        XCTAssertEqual(find([], Array("abc".utf8)), 0)
        XCTAssertNil(find(Array("abcd".utf8), Array("abc".utf8)), "needle longer than the haystack")
        XCTAssertNil(find(Array("a".utf8), []))
        XCTAssertEqual(find(Array("abc".utf8), Array("abc".utf8)), 0, "needle equal to the haystack")
        // Matches ending exactly at the end, in the block loop and in the scalar tail.
        let long = Array(String(repeating: "x", count: 40).utf8) + Array("shop".utf8)
        XCTAssertEqual(find(Array("shop".utf8), long), 40)
        XCTAssertEqual(find(Array("p".utf8), long), 43)
        XCTAssertEqual(find(Array("xs".utf8), long), 39, "two-byte needle")
        // A match straddling a 16-byte block boundary.
        let straddle = Array(String(repeating: "y", count: 14).utf8) + Array("needle".utf8) + Array(String(repeating: "y", count: 20).utf8)
        XCTAssertEqual(find(Array("needle".utf8), straddle), 14)
        // Non-ASCII needles and haystacks (é is two bytes, 日 three).
        XCTAssertEqual(find(Array("日本".utf8), Array("the 日本 shop".utf8)), 4)
        XCTAssertEqual(find(Array("é".utf8), Array("caf\u{E9}".utf8)), 3)
        XCTAssertNil(find(Array("ée".utf8), Array(String(repeating: "é", count: 30).utf8)))
        // Leftmost of several matches.
        XCTAssertEqual(find(Array("ab".utf8), Array(String(repeating: "zab", count: 20).utf8)), 1)
    }

    func testSubstringSearchMatchesNaiveSearch() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x61, 0x62, 0xC3, 0xA9, 0x25]
        for _ in 0..<4000 {
            let haystack = (0..<Int.random(in: 0...70, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let needle = (0..<Int.random(in: 0...5, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            XCTAssertEqual(find(needle, haystack), naiveFind(needle, haystack), "needle \(needle) in \(haystack)")
        }
    }

    func testColumnSearchSkipsMatchesAcrossEntries() {
        let column = StringColumn(["sh", "op", "shop", "", "xxshop", "sho", "ashosho", "pshop", "shop"])
        let hits = entriesContaining(Array("shop".utf8), in: column, count: column.count, hit: 1)
        XCTAssertEqual(hits, [0, 0, 1, 0, 1, 0, 0, 1, 1])
        let negated = entriesContaining(Array("shop".utf8), in: column, count: column.count, hit: 0)
        XCTAssertEqual(negated, hits.map { 1 - $0 })
        XCTAssertEqual(entriesContaining(Array("x".utf8), in: StringColumn([]), count: 0, hit: 1), [])
    }

    // MARK: LIKE against a reference

    /// LIKE over Unicode scalars by recursion: the definition, not an algorithm.
    func referenceLike(_ value: [Unicode.Scalar], _ pattern: [Unicode.Scalar]) -> Bool {
        guard let head = pattern.first else { return value.isEmpty }
        switch head {
        case "%":
            for skip in 0...value.count where referenceLike(Array(value[skip...]), Array(pattern.dropFirst())) { return true }
            return false
        case "_":
            return !value.isEmpty && referenceLike(Array(value.dropFirst()), Array(pattern.dropFirst()))
        default:
            return value.first == head && referenceLike(Array(value.dropFirst()), Array(pattern.dropFirst()))
        }
    }

    func testLikeMatchesReferenceWithMixedWildcards() {
        var generator = SystemRandomNumberGenerator()
        let valueAlphabet: [Unicode.Scalar] = ["a", "b", "é", "日"]
        let patternAlphabet: [Unicode.Scalar] = ["a", "b", "é", "日", "%", "_", "%"]
        for _ in 0..<3000 {
            let value = (0..<Int.random(in: 0...12, using: &generator)).map { _ in valueAlphabet.randomElement(using: &generator)! }
            let pattern = (0..<Int.random(in: 0...7, using: &generator)).map { _ in patternAlphabet.randomElement(using: &generator)! }
            let valueString = String(String.UnicodeScalarView(value)), patternString = String(String.UnicodeScalarView(pattern))
            let matcher = LikeMatcher(pattern: Array(patternString.utf8), caseInsensitive: false)
            let matched = Array(valueString.utf8).withUnsafeBufferPointer { matcher.matches($0) }
            XCTAssertEqual(matched, referenceLike(value, pattern), "'\(valueString)' LIKE '\(patternString)'")
            if let needle = matcher.containedLiteral {
                let column = StringColumn([valueString])
                XCTAssertEqual(entriesContaining(needle, in: column, count: 1, hit: 1)[0] == 1, matched)
            }
        }
    }

    func testLikeOverPlainAndDictionaryColumns() throws {
        // site_key is dictionary-encoded in even units and plain in odd ones.
        let catalog = bigCatalog(rows: 30_000, unitRows: 2500, keys: 1000, projectIDColumn: false)
        let keys = (0..<30_000).map { "k\($0 % 1000)" }
        for threads in [1, 2] {
            let engine = QueryEngine(catalog: catalog, options: QueryOptions(threadsMax: threads), logger: logger)
            let cases: [(String, (String) -> Bool)] = [
                ("%99%", { $0.contains("99") }), ("k1%", { $0.hasPrefix("k1") }), ("%9", { $0.hasSuffix("9") }),
                ("%k_9%", { $0.count >= 3 && Array($0)[2] == "9" }), ("%%", { _ in true }), ("%k10000%", { _ in false }),
            ]
            for (pattern, test) in cases {
                let expected = Int64(keys.filter(test).count)
                let result = try engine.execute(sql: "SELECT count(*) FROM events WHERE site_key LIKE '\(pattern)'")
                XCTAssertEqual(result.rows[0][0], .int64(expected), "LIKE '\(pattern)' on \(threads) threads")
                let negated = try engine.execute(sql: "SELECT count(*) FROM events WHERE site_key NOT LIKE '\(pattern)'")
                XCTAssertEqual(negated.rows[0][0], .int64(30_000 - expected), "NOT LIKE '\(pattern)'")
            }
        }
    }

    // MARK: DISTINCT aggregates

    func testDistinctAggregatesAgreeAcrossThreadCounts() throws {
        let rows = 60_000
        let catalog = bigCatalog(rows: rows, unitRows: 1500, keys: 997, projectIDColumn: false)
        // Expected per group n % 3: distinct keys, distinct n % 1000 with their sum.
        var keySets = [Set<String>](repeating: [], count: 3)
        var numberSets = [Set<Int64>](repeating: [], count: 3)
        for n in 0..<rows {
            keySets[n % 3].insert("k\(n % 997)")
            numberSets[n % 3].insert(Int64(n % 1000))
        }
        for threads in [1, 2, 4] {
            let engine = QueryEngine(catalog: catalog, options: QueryOptions(threadsMax: threads), logger: logger)
            let result = try engine.execute(sql: """
                SELECT users_total % 3 AS g, count(DISTINCT site_key), count(DISTINCT users_total % 1000),
                       sum(DISTINCT users_total % 1000), avg(DISTINCT users_total % 1000),
                       count(DISTINCT users_total / 4) FROM events GROUP BY 1 ORDER BY 1
                """)
            XCTAssertEqual(result.rows.count, 3)
            for group in 0..<3 {
                let numbers = numberSets[group]
                let sum: Int64 = numbers.reduce(0, +)
                let average = Double(sum) / Double(numbers.count)
                let expected: [Value] = [
                    .int64(Int64(group)), .int64(Int64(keySets[group].count)), .int64(Int64(numbers.count)), .int64(sum),
                    .double(average), .int64(Int64(rows / 3)),
                ]
                XCTAssertEqual(result.rows[group], expected, "group \(group) on \(threads) threads")
            }
            let global = try engine.execute(sql: "SELECT count(DISTINCT site_key), count(DISTINCT event_id) FROM events")
            XCTAssertEqual(global.rows[0], [.int64(997), .int64(Int64(rows))])
        }
    }

    func testDistinctMergeRemapsGroupsAndValues() throws {
        let aggregate = BoundAggregate(kind: .count, argument: BoundExpression(.column(0), type: .varchar), distinct: true,
                                       type: .bigint)
        func strings(_ values: [String?]) -> Vector {
            let data = makeColumn(.string, values.map { $0.map(Value.string) ?? .null })
            guard case .strings(let column) = data.storage else { fatalError("expected plain strings") }
            var validity: [UInt8]?
            if values.contains(where: { $0 == nil }) { validity = values.map { $0 == nil ? 0 : 1 } }
            return Vector(type: .varchar, buffer: .string(column), validity: validity, count: values.count)
        }
        let left = DistinctAccumulator(aggregate, mergeThreads: 2)
        left.resize(2)
        try left.update(groups: [0, 0, 1, 1, 0], input: strings(["a", "b", "a", nil, "a"]), count: 5)
        XCTAssertEqual(left.pairCount, 3)
        let right = DistinctAccumulator(aggregate, mergeThreads: 2)
        right.resize(3)
        // Right's group 0 is left's group 1, its 1 is left's 0, its 2 is new (left's 2).
        try right.update(groups: [0, 0, 1, 2, 2], input: strings(["a", "c", "b", "d", "d"]), count: 5)
        left.resize(3)
        try left.merge(right, groupMap: [1, 0, 2])
        XCTAssertEqual(left.pairCount, 5, "(0,a) (0,b) (1,a) (1,c) (2,d)")
        XCTAssertEqual(try left.result(groups: 0..<3).value(at: 0), .int64(2))
        XCTAssertEqual(try left.result(groups: 0..<3).value(at: 1), .int64(2))
        XCTAssertEqual(try left.result(groups: 0..<3).value(at: 2), .int64(1))
    }

    // MARK: date_trunc over units within one period

    func testDateTruncColumnIsSkippedInUnitsWithinOnePeriod() throws {
        // Row n is received at 2026-01-01 00:00:00 + n seconds; units of 2500 rows (~42 min).
        let rows = 20_000
        let start: Int64 = 1_767_225_600_000_000
        let catalog = bigCatalog(rows: rows, unitRows: 2500, keys: 10)
        var perHour: [Int64: Int64] = [:]
        for n in 0..<rows { perHour[start + Int64(n / 3600) * 3_600_000_000, default: 0] += 1 }
        let expectedHours: [[Value]] = perHour.keys.sorted().map { [Value.timestamp($0), Value.int64(perHour[$0]!)] }
        for threads in [1, 2] {
            let engine = QueryEngine(catalog: catalog, options: QueryOptions(threadsMax: threads), logger: logger)
            let days = try engine.execute(sql: "SELECT date_trunc('day', received_at) AS d, count(*) FROM events GROUP BY 1")
            XCTAssertEqual(days.rows, [[.timestamp(start), .int64(Int64(rows))]])
            XCTAssertEqual(days.stats.columnsRead, 0, "every unit lies within one day: received_at is never read")
            // Hours: units that straddle an hour boundary must be read, the others need not be.
            let hours = try engine.execute(sql: """
                SELECT date_trunc('hour', received_at) AS h, count(*) FROM events GROUP BY 1 ORDER BY 1
                """)
            XCTAssertEqual(hours.rows, expectedHours)
            XCTAssertGreaterThan(hours.stats.columnsRead, 0)
            XCTAssertLessThan(hours.stats.columnsRead, 8)
            // Both parts must agree for the column to be skipped; a raw use always reads it.
            let mixed = try engine.execute(sql: """
                SELECT date_trunc('day', received_at), date_trunc('hour', received_at) AS h, count(*) FROM events
                WHERE received_at >= TIMESTAMP '2026-01-01 01:00:00' GROUP BY ALL ORDER BY h
                """)
            XCTAssertEqual(mixed.rows.map { $0[2] }, expectedHours.dropFirst().map { $0[1] })
            XCTAssertEqual(mixed.rows.map { $0[0] }, expectedHours.dropFirst().map { _ in Value.timestamp(start) })
        }
    }

    // MARK: Group ids over runs

    func testGroupingRunsOfTimeBucketsWithDictionaryKeys() throws {
        let rows = 20_000
        let start: Int64 = 1_767_225_600_000_000
        let catalog = bigCatalog(rows: rows, unitRows: 2500, keys: 7)
        // Per (minute, key) and per (day, key) over rows with n % 3 == 0.
        var perMinute: [String: Int64] = [:]
        var perKey: [String: Int64] = [:]
        for n in 0..<rows where n % 3 == 0 {
            perMinute["\(start + Int64(n / 60) * 60_000_000)|k\(n % 7)", default: 0] += 1
            perKey["k\(n % 7)", default: 0] += 1
        }
        func keyed(_ result: QueryResult) -> [String: Int64] {
            var out: [String: Int64] = [:]
            for row in result.rows {
                guard case .timestamp(let time) = row[0], case .string(let key) = row[1], case .int64(let n) = row[2] else {
                    XCTFail("unexpected row \(row)")
                    continue
                }
                out["\(time)|\(key)"] = n
            }
            return out
        }
        for threads in [1, 2] {
            let engine = QueryEngine(catalog: catalog, options: QueryOptions(threadsMax: threads), logger: logger)
            // Minutes change every 60 rows: runs of a flat key next to a dictionary key.
            let minutes = try engine.execute(sql: """
                SELECT date_trunc('minute', received_at), site_key, count(*) FROM events WHERE users_total % 3 = 0 GROUP BY 1, 2
                """)
            XCTAssertEqual(keyed(minutes), perMinute)
            // The day is constant in every unit (from statistics): a constant key next to a dictionary key.
            let days = try engine.execute(sql: """
                SELECT date_trunc('day', received_at), site_key, count(*) FROM events WHERE users_total % 3 = 0 GROUP BY 1, 2
                """)
            XCTAssertEqual(keyed(days), Dictionary(uniqueKeysWithValues: perKey.map { ("\(start)|\($0.key)", $0.value) }))
        }
    }
}
