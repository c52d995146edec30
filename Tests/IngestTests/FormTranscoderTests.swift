import Core
import XCTest
@testable import Ingest

/// The fast form path must give exactly the bytes the reference parser would, or decline.
final class FormTranscoderTests: XCTestCase {
    func reference(_ body: [UInt8]) -> [UInt8]? {
        guard let object = try? FormParser.parse(body) else { return nil }
        return JSONWriter.serialize(.object(object))
    }

    func check(_ body: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        guard let fast = FormTranscoder.transcode(body) else { return }  // declined: the parser decides
        XCTAssertEqual(String(decoding: fast.json, as: UTF8.self), reference(body).map { String(decoding: $0, as: UTF8.self) },
                       "body: \(String(decoding: body, as: UTF8.self))", file: file, line: line)
    }

    func testTableCasesMatchTheReferenceParser() {
        for testCase in FormParserTests.sharedCases { check(Array(testCase.body.utf8)) }
    }

    func testRealisticBodyTakesTheFastPath() {
        let body = Array("url=https%3A%2F%2Fshop.example.com&site=My+Shop&hash=A4A8DA5B-b419&server%5Bphp_version%5D=8.1.27&plugins%5Bwoo%5D%5Bversion%5D=8.5.1&client=2.0.4".utf8)
        let fast = FormTranscoder.transcode(body)
        XCTAssertNotNil(fast)
        XCTAssertEqual(fast?.hash, "A4A8DA5B-b419")
        check(body)
    }

    func testEscapesAndLongRunsMatchTheReferenceParser() {
        let bodies = [
            "hash=abc&site=A%22quoted%22+name+with+%5Cbackslash%5C+and+more+text&ctl=%01%02%1F%7F&nl=line%0Aline%0D%09",
            "url=https%3A%2F%2Fexample.com%2Fa%2Fvery%2Flong%2Fpath%2Fthat%2Fgoes%2Fon&sep=%E2%80%A8%E2%80%A9%E2%82%AC",
            "plugins%5Bwoocommerce-very-long-slug%5D%5Bname%5D=Woo&plugins%5Bwoocommerce-very-long-slug%5D%5Bversion%5D=8",
            "plugins%5Bwoocommerce-very-long-slug-a%5D%5Bname%5D=A&plugins%5Bwoocommerce-very-long-slug-b%5D%5Bname%5D=B",
            "abcdefgh=12345678&abcdefgh%5Bx%5D=1",  // an 8-byte key, then re-opened as an object: declined or equal
            "k=%ZZ%4%+%%41%4g12345678",
        ]
        for body in bodies {
            let bytes = Array(body.utf8)
            check(bytes)
            if !body.hasPrefix("abcdefgh") {
                XCTAssertNotNil(FormTranscoder.transcode(bytes), "the fast path should take: \(body)")
            }
        }
    }

    /// Consecutive keys that share their beginning, as SDK bodies do (`plugins[woo][name]`,
    /// `plugins[woo][version]`): the open path is compared segment by segment, so re-opened
    /// objects, scalars turned objects, duplicates, `[]`, text after `]`, mixed bracket
    /// encodings and `%` look-aheads next to a bracket must match the parser or decline.
    func testKeysSharingPrefixesMatchTheReferenceParser() {
        let bodies = [
            "a%5Bb%5D%5Bc%5D=1&a%5Bb%5D%5Bd%5D=2",
            "a[b][c]=1&a%5Bb%5D[d]=2&a%5bb%5d%5be%5d=3",
            "a%5Bb%5D%5Bc%5D=1&a%5Bb%5D=2",
            "a%5Bb%5D=1&a%5Bb%5D%5Bc%5D=2",
            "a%5Bb%5D%5Bc%5D=1&a%5Bb%5D%5B%5D=2",
            "a%5Bb%5D%5Bc%5D=1&a%5Bb%5D%5Bc",
            "a%5Bb%5D%5Bc%5D=1&a%5Bb%5Dx=2",
            "a%[x]=1&a%[y]=2&a%5[z]=3&a%5[w]=4",
            "a%5Bb%5D%5Bc%5D=1&a%5Bb%5D%5Bc%5D=2",
            "x%5Ba%5D%5Bb%5D=1&x%5Ba%5D%5Bc%5D=2&x%5Bb%5D=3&x%5Ba%5D%5Bd%5D=4",
            "p%5Bq%5D%5Br%5D%5Bs%5D=1&p%5Bq%5D%5Br%5D%5Bt%5D=2&p%5Bq%5D%5Bu%5D=3&p%5Bv%5D=4&w=5",
            "a%5Bb%5D=1&&=x&a%5Bc%5D=2&=&a%5Bd%5D=3",
            "a+b%5Bc%5D=1&a+b%5Bd%5D=2&a%20b%5Be%5D=3",
            "a%5Bb%5Bc%5D=1&a%5Bb%5Bd%5D=2",
            "plugins%5Bwoo%5D%5Bname%5D=W&plugins%5Bwoo%5D%5Bversion%5D=1&plugins%5Bwp-seo%5D%5Bname%5D=S&plugins%5Bwp-seo%5D%5Bversion%5D=2",
            "a%5Bb%5D%5Bc%5D=1&a%5Bb%5D%5Bc%5D%5Bd%5D=2",
            "ab%5Bc%5D=1&a%5Bc%5D=2&ab%5Bd%5D=3",
            "a%5Bbc%5D%5Bd%5D=1&a%5Bb%5D%5Bd%5D=2",
        ]
        for body in bodies { check(Array(body.utf8)) }
        XCTAssertNotNil(FormTranscoder.transcode(Array(bodies[0].utf8)), "the fast path must take the plain case")
        XCTAssertNotNil(FormTranscoder.transcode(Array(bodies[14].utf8)))
        XCTAssertNil(FormTranscoder.transcode(Array(bodies[8].utf8)), "a duplicate key goes to the parser")

        // Random keys over a small tree of names with mixed bracket encodings, so that
        // consecutive keys share prefixes of every length.
        var generator = SystemRandomNumberGenerator()
        let names = ["a", "b", "ab", "name", "v", "x%25y", "p%zz", "q+r", "", "%5B", "c%5"]
        let opens = ["[", "%5B", "%5b"]
        let closes = ["]", "%5D", "%5d"]
        for _ in 0..<20_000 {
            var pairs: [String] = []
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                var key = ["a", "ab", "plugins"].randomElement(using: &generator)!
                for _ in 0..<Int.random(in: 0...3, using: &generator) {
                    key += opens.randomElement(using: &generator)! + names.randomElement(using: &generator)!
                        + closes.randomElement(using: &generator)!
                }
                pairs.append(key + "=" + ["1", "x%41", "", "+"].randomElement(using: &generator)!)
            }
            check(Array(pairs.joined(separator: "&").utf8))
        }
    }

    /// Integer keys at and beyond Int64's edge: the fast path does no arithmetic on keys (it
    /// declines `[]`, which the parser then answers without trapping); both must agree.
    func testIntegerKeysAtInt64EdgesMatchTheReferenceParser() throws {
        let taken = [
            "a[9223372036854775807]=1&a[x]=2",
            "a%5B9223372036854775807%5D%5Bb%5D=1&a%5B99999999999999999999%5D=2&a%5B-9223372036854775809%5D=3",
        ]
        for body in taken {
            check(Array(body.utf8))
            XCTAssertNotNil(FormTranscoder.transcode(Array(body.utf8)), "the fast path should take: \(body)")
        }
        let appends = [
            "a[9223372036854775807]=1&a[]=2",
            "a%5B9223372036854775807%5D=1&a%5B%5D=2&a%5B%5D%5Bb%5D=3",
            "a[9223372036854775806]=1&a[]=2&a[]=3&a[]=4",
        ]
        for body in appends {
            check(Array(body.utf8))
            XCTAssertNil(FormTranscoder.transcode(Array(body.utf8)), "`[]` goes to the parser: \(body)")
            XCTAssertNotNil(try? FormParser.parse(Array(body.utf8)), body)
        }
        XCTAssertEqual(JSONWriter.string(.object(try FormParser.parse(Array(appends[1].utf8)))),
                       #"{"a":{"9223372036854775807":"1"}}"#)
    }

    func testRandomBodiesMatchOrDecline() {
        var generator = SystemRandomNumberGenerator()
        // Short pieces for the structure; runs of 8+ bytes for the word-at-a-time paths
        // (decode, bracket search, escape scan) and bytes that must be escaped in JSON.
        let pieces = ["a", "b", "hash", "server", "[", "]", "[x]", "[]", "=", "&", "%", "%2", "%41", "%C3%A9", "%FF", "+", " ", "1", "é", "%5B", "%5D", ".",
                      "abcdefghijkl", "plugins%5Bwoocommerce%5D", "Contact+Form+7+x", "%01", "%22", "%5C", "%7F", "%0A",
                      "%E2%80%A8", "%E2%80%A9", "\u{2028}", "%E2%82%AC", "quote\"inside", "back\\slash", "tab\there"]
        for _ in 0..<40_000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...12, using: &generator) { text += pieces.randomElement(using: &generator)! }
            check(Array(text.utf8))
        }
    }
}
