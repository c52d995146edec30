import ColumnStore
import Query
import XCTest
@testable import Server

/// `SitesIndex+Order.swift`: the fast site_key ranks and sort keys against their references.
final class SitesIndexOrderTests: XCTestCase {
    /// Deterministic: a failure reproduces.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
        mutating func next(_ bound: Int) -> Int { Int((next() >> 33) % UInt64(bound)) }
    }

    /// Sorted runs (a base and deltas) merge into the ranks a full sort gives; a run out of
    /// order is refused (and then sorted whole).
    func testRanksFromSortedRunsEqualAFullSort() {
        var random = Random(state: 7)
        for trial in 0..<30 {
            let keys = Set((0..<random.next(400)).map { _ in "site-\(random.next(100_000)).example/\(random.next(3) == 0 ? "ü" : "")" })
            var remaining = Array(keys)
            var runs: [[String]] = []
            while !remaining.isEmpty {
                let take = min(remaining.count, 1 + random.next(trial % 3 == 0 ? 300 : 40))
                runs.append(remaining.prefix(take).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
                remaining.removeFirst(take)
            }
            runs.shuffle(using: &random)
            var column = StringColumn()
            var ranges: [Range<Int>] = []
            for run in runs {
                let start = column.count
                for key in run { column.append(key) }
                ranges.append(start..<column.count)
            }
            XCTAssertEqual(SitesIndex.ranksByMerging(column, runs: ranges), SitesIndex.ranksBySorting(column), "trial \(trial)")
            if let long = ranges.firstIndex(where: { $0.count > 2 }) {
                var swapped = StringColumn()
                for (position, range) in ranges.enumerated() {
                    let run = range.map { column[$0] }
                    for key in position == long ? run.reversed() : run { swapped.append(key) }
                }
                XCTAssertNil(SitesIndex.ranksByMerging(swapped, runs: ranges), "an unsorted run is refused")
            }
        }
        XCTAssertEqual(SitesIndex.ranksByMerging(StringColumn(), runs: [0..<0]), [])
    }

    /// Integer keys order every kind of column as the comparator sort does, both directions,
    /// with duplicates (ties by site_key rank) and NULLs last.
    func testSortKeysEqualTheComparatorSort() {
        var random = Random(state: 11)
        let count = 2_000
        var ranks = (0..<UInt32(count)).map { $0 }
        ranks.shuffle(using: &random)
        let columns: [(String, [Value])] = [
            ("int64", (0..<count).map { _ in random.next(9) == 0 ? .null : .int64(Int64(random.next(50)) - 25) }),
            ("extremes", (0..<count).map { _ in [Value.int64(.min), .int64(.max), .int64(0), .int64(-1), .null][random.next(5)] }),
            ("timestamp", (0..<count).map { _ in random.next(7) == 0 ? .null : .timestamp(1_700_000_000_000_000 + Int64(random.next(1_000)) * 1_000_000) }),
            ("string", (0..<count).map { _ in random.next(8) == 0 ? .null : .string(["8.1", "8.2", "7.4", "", "10.0", "é", "e\u{301}", "Z", "a"][random.next(9)]) }),
            ("bool", (0..<count).map { _ in [Value.bool(true), .bool(false), .null][random.next(3)] }),
            ("all null", [Value](repeating: .null, count: count)),
        ]
        for (name, values) in columns {
            for descending in [false, true] {
                let fast = SitesIndex.orderByKeys(values, siteKeyRanks: ranks, descending: descending)
                XCTAssertEqual(fast, SitesIndex.orderByComparator(values, siteKeyRanks: ranks, descending: descending), "\(name) \(descending ? "desc" : "asc")")
            }
        }
        XCTAssertNil(SitesIndex.orderByKeys([.double(1), .double(2)], siteKeyRanks: [0, 1], descending: false), "doubles take the reference")
        XCTAssertNil(SitesIndex.orderByKeys([.int64(1), .string("a")], siteKeyRanks: [0, 1], descending: false), "mixed kinds take the reference")
    }
}
