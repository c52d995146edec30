@testable import Core
import XCTest

final class JSONTests: XCTestCase {
    func testRoundTripKeepsOrderAndNumberLiterals() throws {
        let text = #"{"b":1.50,"a":[true,false,null,-0.5e+3],"c":{"z":"\u00e9\n\"","y":{}},"d":[]}"#
        let value = try JSONParser.parse(text)
        XCTAssertEqual(JSONWriter.string(value), #"{"b":1.50,"a":[true,false,null,-0.5e+3],"c":{"z":"é\n\"","y":{}},"d":[]}"#)
    }

    /// `appendEscaped` (table-driven) against the rule written out byte by byte: every single
    /// byte, and the U+2028/U+2029 lead byte 0xE2 at the end, before other continuations, twice.
    func testAppendEscapedMatchesTheRuleForEveryByte() {
        func reference(_ bytes: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0xE2, index + 2 < bytes.count, bytes[index + 1] == 0x80, bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9 {
                    out += Array((bytes[index + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                    index += 3
                    continue
                }
                switch byte {
                case 0x22: out += [0x5C, 0x22]
                case 0x5C: out += [0x5C, 0x5C]
                case 0x0A: out += Array("\\n".utf8)
                case 0x0D: out += Array("\\r".utf8)
                case 0x09: out += Array("\\t".utf8)
                case 0x00..<0x20, 0x7F: out += Array(String(format: "\\u%04x", Int(byte)).utf8)
                default: out.append(byte)
                }
                index += 1
            }
            return out
        }
        var cases: [[UInt8]] = (0...255).map { [UInt8(ascii: "a"), UInt8($0), UInt8(ascii: "b")] }
        cases += [[0xE2], [0xE2, 0x80], [0xE2, 0x80, 0xA8], [0xE2, 0x80, 0xA9, 0xE2, 0x80, 0xA8],
                  [0xE2, 0x82, 0xAC], [0xE2, 0x80, 0xA7], [0x41, 0xE2, 0x80, 0xA9, 0x22], [], Array("plain text".utf8)]
        for bytes in cases {
            var out: [UInt8] = []
            bytes.withUnsafeBufferPointer { JSONWriter.appendEscaped($0, to: &out) }
            XCTAssertEqual(out, reference(bytes), "bytes \(bytes)")
        }
    }

    func testDuplicateKeysKeepFirstPositionLastValue() throws {
        XCTAssertEqual(JSONWriter.string(try JSONParser.parse(#"{"a":1,"b":2,"a":3}"#)), #"{"a":3,"b":2}"#)
    }

    func testSurrogatePairs() throws {
        XCTAssertEqual(try JSONParser.parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertThrowsError(try JSONParser.parse(#""\ud83d""#))
        XCTAssertThrowsError(try JSONParser.parse(#""\ude00""#))
    }

    func testRejectsInvalidDocuments() {
        let bad = [#"{"a":1,}"#, "[1,]", "01", "1.", ".5", "-", #"{"a" 1}"#, "tru", #""\x""#, "\"a\u{01}b\"",
                   "{} {}", "", "   ", "[", #"{"a":"#, "+1", "1e", "NaN", "[1 2]"]
        for text in bad {
            XCTAssertThrowsError(try JSONParser.parse(text), "should refuse \(text)")
        }
    }

    func testInvalidUTF8InsideStringIsRefused() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        XCTAssertThrowsError(try JSONParser.parse(bytes)) { error in
            XCTAssertEqual((error as? JSONParseError)?.kind, .invalidUTF8)
        }
    }

    func testDepthLimit() {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        XCTAssertNoThrow(try JSONParser.parse(ok))
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        XCTAssertThrowsError(try JSONParser.parse(deep)) { error in
            XCTAssertEqual((error as? JSONParseError)?.kind, .tooDeep)
        }
        // A hostile 1 MiB of '[' fails fast instead of overflowing the stack.
        let hostile = String(repeating: "[", count: 1 << 20)
        XCTAssertThrowsError(try JSONParser.parse(hostile))
    }

    func testWriterEscapesControlCharactersAndLineSeparators() {
        let value = JSONValue.string("a\u{0}b\u{1F}c\u{2028}d\u{7F}")
        XCTAssertEqual(JSONWriter.string(value), #""a\u0000b\u001fc\u2028d\u007f""#)
        XCTAssertEqual(try JSONParser.parse(JSONWriter.serialize(value)), value)
    }

    func testErrorNamesTheOffset() {
        XCTAssertThrowsError(try JSONParser.parse(#"{"a": tx}"#)) { error in
            XCTAssertEqual((error as? JSONParseError)?.offset, 6)
        }
    }

    /// Skipping a top-level key's value (`parse(_:skipping:)`) is the fast path of parsing it:
    /// the same documents are accepted and refused, with the same error kind and offset, and the
    /// result is the full parse without that key. Over hand-picked values, every valid and
    /// invalid document above as the skipped value, and seeded byte mutations of them.
    func testSkippingAKeyAcceptsAndRefusesExactlyAsParsing() throws {
        var values = [#"{"a":[1,2,{"b":"c\u00e9\n"}],"d":-0.5e+3}"#, #""plain""#, #""esc\"aped\\""#, "true", "null",
                      "[]", "{}", #"[{"key":"k","bytes":12,"complete":false}]"#, "\"\u{00e9}\"",
                      String(repeating: "[", count: 31) + String(repeating: "]", count: 31),
                      String(repeating: "[", count: 32) + String(repeating: "]", count: 32)]
        values += [#"{"a":1,}"#, "[1,]", "01", "1.", ".5", "-", #"{"a" 1}"#, "tru", #""\x""#, "\"a\u{01}b\"",
                   "[", #"{"a":"#, "+1", "1e", "NaN", "[1 2]", #""\ud800""#, #""unterminated"#]
        var documents: [[UInt8]] = values.map { Array(#"{"first":1,"raw":"#.utf8) + Array($0.utf8) + Array(#","last":[true]}"#.utf8) }
        documents.append([0x7B, 0x22, 0x72, 0x61, 0x77, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D]) // {"raw":"\xC3("}
        var seeded = UInt64(42)
        for document in documents.prefix(12) {
            for _ in 0..<40 {
                var mutated = document
                seeded = seeded &* 6364136223846793005 &+ 1442695040888963407
                let position = Int(seeded >> 33) % mutated.count
                mutated[position] = UInt8(truncatingIfNeeded: seeded >> 17)
                documents.append(mutated)
            }
        }
        for document in documents {
            let full = Result { try JSONParser.parse(document) }
            let skipped = Result { try JSONParser.parse(document, skipping: ["raw"]) }
            switch (full, skipped) {
            case (.success(let value), .success(let fast)):
                guard case .object(var object) = value else { XCTFail("not an object"); continue }
                object["raw"] = nil
                XCTAssertEqual(fast, .object(object), String(decoding: document, as: UTF8.self))
            case (.failure(let error), .failure(let fastError)):
                XCTAssertEqual(error as? JSONParseError, fastError as? JSONParseError, String(decoding: document, as: UTF8.self))
            default:
                XCTFail("verdicts differ for \(String(decoding: document, as: UTF8.self)): \(full) vs \(skipped)")
            }
        }
    }

    /// `parseLeadingMembers` reads a top-level object up to its first stop key: what comes
    /// back is the members before it, exactly as the full parse builds them; the bytes after
    /// it are not read (a damaged tail passes, a damaged head does not); without a stop key
    /// the verdict and value are the full parse's.
    func testLeadingMembersStopAtTheFirstStopKey() throws {
        let head = #"{"version":3,"add":[{"path":"a\u00e9"}],"remove":[]"#
        let (value, stopped) = try JSONParser.parseLeadingMembers(Array((head + #","raw":[{"key":"k"}],"removed":[]}"#).utf8), stoppingAt: ["raw", "removed"])
        XCTAssertTrue(stopped)
        XCTAssertEqual(value, try JSONParser.parse(head + "}"))
        // The tail after the stop key is never read: damage there is not seen.
        let damagedTail = try JSONParser.parseLeadingMembers(Array((head + #","raw":[{"key":"k",}]"#).utf8), stoppingAt: ["raw"])
        XCTAssertEqual(damagedTail.value, try JSONParser.parse(head + "}"))
        XCTAssertThrowsError(try JSONParser.parse(head + #","raw":[{"key":"k",}]"#))
        // Damage before it is refused with the full parse's error.
        let damagedHead = #"{"version":3,"add":[1,],"raw":[]}"#
        let leadingError = Result { try JSONParser.parseLeadingMembers(Array(damagedHead.utf8), stoppingAt: ["raw"]) }
        let fullError = Result { try JSONParser.parse(damagedHead) }
        guard case .failure(let leading) = leadingError, case .failure(let full) = fullError else {
            return XCTFail("a damaged head must be refused by both")
        }
        XCTAssertEqual(leading as? JSONParseError, full as? JSONParseError)
        // A stop key nested deeper does not stop; without one the whole document is checked.
        let nested = #"{"a":{"raw":1},"b":2}"#
        let whole = try JSONParser.parseLeadingMembers(Array(nested.utf8), stoppingAt: ["raw"])
        XCTAssertFalse(whole.stopped)
        XCTAssertEqual(whole.value, try JSONParser.parse(nested))
        XCTAssertThrowsError(try JSONParser.parseLeadingMembers(Array((nested + " x").utf8), stoppingAt: ["raw"]))
        // A stop key first: an empty object comes back, stopped.
        let first = try JSONParser.parseLeadingMembers(Array(#"{"raw":[],"add":[]}"#.utf8), stoppingAt: ["raw"])
        XCTAssertTrue(first.stopped)
        XCTAssertEqual(first.value, .object(JSONObject()))
    }
}
