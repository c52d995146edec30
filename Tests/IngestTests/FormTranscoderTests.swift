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
