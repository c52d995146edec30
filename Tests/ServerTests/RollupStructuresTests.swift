import XCTest
@testable import Server

/// The small structures under the rollups: byte-keyed ids, interned states, id bitmaps.
final class RollupStructuresTests: XCTestCase {
    func testByteKeyTableGivesStableDenseIDsAcrossGrowth() {
        var table = ByteKeyTable()
        let keys = [""] + (0..<50_000).map { "site-\($0 * 7919 % 50_000).example.com" } + ["ü", "u\u{308}", "a\u{0}b", "a"]
        // Keyed by bytes: a String dictionary would merge "ü" and "u\u{308}".
        var first: [[UInt8]: UInt32] = [:]
        for key in keys {
            let id = table.id(key)
            if let known = first[Array(key.utf8)] { XCTAssertEqual(id, known, key) } else { first[Array(key.utf8)] = id }
        }
        XCTAssertEqual(table.count, first.count)
        XCTAssertEqual(Set(first.values).count, first.count, "ids are distinct")
        XCTAssertEqual(first.values.max(), UInt32(first.count - 1), "ids are dense from 0")
        // Asked again after all the growth: the same ids.
        for (key, id) in first { XCTAssertEqual(key.withUnsafeBytes { table.id($0) }, id) }
        XCTAssertNotEqual(table.id("ü"), table.id("u\u{308}"), "keys are bytes, not canonically equivalent strings")
    }

    func testStateTableInternsEqualTuplesOnce() {
        var states = StateTable(width: 3)
        var ids: [[UInt16]: UInt32] = [:]
        for a in 0..<40 {
            for b in 0..<40 {
                for tuple in [[UInt16(a), UInt16(b), 7], [UInt16(a), UInt16(b), 7], [UInt16(b), UInt16(a), 0]] {
                    let id = tuple.withUnsafeBufferPointer { states.intern($0) }
                    if let known = ids[tuple] { XCTAssertEqual(id, known) } else { ids[tuple] = id }
                    XCTAssertEqual((0..<3).map { states.code(state: id, dimension: $0) }, tuple)
                }
            }
        }
        XCTAssertEqual(states.count, ids.count)
    }

    func testBitmapsCountAndUnite() {
        var a = IDBitmap(), b = IDBitmap()
        for id in stride(from: UInt32(0), to: 1_000, by: 3) { a.insert(id) }
        XCTAssertFalse(a.insert(3), "already there")
        for id in stride(from: UInt32(0), to: 5_000, by: 5) { b.insert(id) }
        XCTAssertEqual(a.count, 334)
        XCTAssertEqual(b.count, 1_000)
        var union = IDUnion(idCount: 5_000)
        union.formUnion(a)
        union.formUnion(b)
        union.insert(4_999)
        let expected = Set(stride(from: 0, to: 1_000, by: 3)).union(stride(from: 0, to: 5_000, by: 5)).union([4_999])
        XCTAssertEqual(union.count, expected.count)
        XCTAssertTrue(union.testAndInsert(4_998))
        XCTAssertFalse(union.testAndInsert(4_998))
    }

    func testSubstringSearch() {
        func contains(_ haystack: String, _ needle: String) -> Bool {
            Array(haystack.utf8).withUnsafeBytes { h in Array(needle.utf8).withUnsafeBytes { n in SitesIndex.contains(h, n) } }
        }
        XCTAssertTrue(contains("bakery-north12.de", "north"))
        XCTAssertTrue(contains("aaab", "aab"))
        XCTAssertTrue(contains("abc", "abc"))
        XCTAssertTrue(contains("xx%_yy", "%_"))
        XCTAssertFalse(contains("abc", "abcd"))
        XCTAssertFalse(contains("abcabd", "abe"))
        XCTAssertFalse(contains("", "a"))
        XCTAssertTrue(contains("café-ü", "é-ü"))
    }
}
