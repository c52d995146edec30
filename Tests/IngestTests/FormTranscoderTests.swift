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

    func testRandomBodiesMatchOrDecline() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "b", "hash", "server", "[", "]", "[x]", "[]", "=", "&", "%", "%2", "%41", "%C3%A9", "%FF", "+", " ", "1", "é", "%5B", "%5D", "."]
        for _ in 0..<20_000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...12, using: &generator) { text += pieces.randomElement(using: &generator)! }
            check(Array(text.utf8))
        }
    }
}
