import Core
import Foundation
import XCTest
@testable import ColumnStore
import Ingest
import Workload

/// The compactor's fast path (`EnvelopeLineScanner` + `ScannedPayloadSource`) must give the
/// same result as `Envelope.decode` + the JSON-tree normalizer for every line it accepts,
/// and declining a line must hand it to the general path unchanged.
final class NormalizeFastPathTests: XCTestCase {
    /// Runs both paths over one line; returns whether the fast path took it.
    @discardableResult
    func check(_ text: String, registry: ProjectRegistry, normalizer: inout EventLineNormalizer,
               file: StaticString = #filePath, line: UInt = #line) -> Bool {
        check(Array(text.utf8), registry: registry, normalizer: &normalizer, file: file, line: line)
    }

    @discardableResult
    func check(_ bytes: [UInt8], registry: ProjectRegistry, normalizer: inout EventLineNormalizer,
               file: StaticString = #filePath, line: UInt = #line) -> Bool {
        bytes.withUnsafeBytes { buffer in
            let general = EventLineNormalizer.normalizeGeneral(line: buffer, registry: registry)
            let fast = normalizer.normalizeFast(line: buffer)
            if let fast, fast != general {
                XCTFail("fast path differs for \(String(decoding: bytes, as: UTF8.self))\nfast:    \(fast)\ngeneral: \(general)",
                        file: file, line: line)
            }
            XCTAssertEqual(normalizer.normalize(line: buffer), general, file: file, line: line)
            return fast != nil
        }
    }

    func testGeneratedLinesTakeTheFastPathWithIdenticalRows() throws {
        let directory = NSTemporaryDirectory() + "trackhouse-fastpath-\(UUID().uuidString)"
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        _ = try WorkloadGenerator.generate(
            options: GeneratorOptions(outDirectory: directory, projects: 4, sites: 1_000, weeks: 8, seed: 11))
        let registry = try ProjectRegistry.parse(try FileIO.readFile(directory + "/projects.json"), path: "projects.json")
        var normalizer = EventLineNormalizer(registry: registry)
        var lines = 0, fast = 0, events = 0
        for file in RawLayout(dataDirectory: directory).listFiles() {
            try RawFileReader.forEachLine(path: file.path) { line in
                lines += 1
                if check(Array(line.bytes), registry: registry, normalizer: &normalizer) { fast += 1 }
                if case .event = EventLineNormalizer.normalizeGeneral(line: line.bytes, registry: registry) { events += 1 }
            }
        }
        XCTAssertGreaterThan(lines, 4_000)
        XCTAssertGreaterThan(events, lines / 2)
        // Generated lines have no escapes: the fast path must take (nearly) all of them.
        XCTAssertGreaterThan(Double(fast), Double(lines) * 0.99, "fast \(fast) of \(lines)")
    }

    /// Random payloads over every field the normalizer reads, with values of every JSON type,
    /// odd text (whitespace, unicode, escapes, overflow), duplicate keys, nesting and
    /// envelope variants; both paths must agree on all of them.
    func testRandomOddLinesAgree() {
        let registry = NormalizeFixture.registry
        var normalizer = EventLineNormalizer(registry: registry)
        var random = SplitMix64(seed: 42)
        let scalars = [
            #""Yes""#, #""no""#, #"" on ""#, #""TRUE""#, #""FaLsE""#, #""off""#, #""yess""#, "true", "false", "null",
            "0", "1", "-7", "12.0", "1e2", "8.5", "-0", "1E+2", "123456789012345678901", #""""#, #""  ""#, #""15""#,
            #""+15""#, #""-0""#, #"" 42 ""#, #""99999999999999999999""#, #""123456789012345678""#,
            #""1234567890123456789""#, #""9223372036854775807""#, #""-9223372036854775808""#, #""8.0""#,
            "1e-999", "1e999", "-0.0", "1e18", "9223372036854775808", "-9223372036854775808", "0e-999", "1.5e1",
            "{}", "[]", "[ ]", "[1]", #"{"a":1}"#, #"[{"b":[null]}]"#, #""Müller""#, #""日本語""#, #""😀""#,
            "\"\u{00A0}yes\u{00A0}\"",
            "\"\u{2003}8.1.27\u{2003}\"", #""https://WWW.Example.com/x/?q=1#f""#, #""//host/path/""#, #""www.""#,
            #""8.1.27""#, #""10.6.12-MariaDB""#, #""6.""#, #""x""#, #""could-not-understand""#, #""too-expensive""#,
            #""other""#, #"" none ""#, #""Other""#, #""Appsero/0123456789ABCDEF0123456789abcdef;""#,
        ]
        let hashes = [
            "\"\(NormalizeFixture.projectHash)\"", "\"  \(NormalizeFixture.projectHash.uppercased()) \"",
            #""11111111-2222-3333-4444-555555555555""#, #""nope""#, "42", "null", "{}",
            "\"\u{00A0}\(NormalizeFixture.projectHash)\"",
        ]
        let topKeys = ["url", "site", "admin_email", "first_name", "last_name", "ip_address", "project_version",
                       "version", "client", "theme", "active_plugins", "inactive_plugins", "is_local",
                       "tracking_skipped", "previously_skipped", "reason_id", "reason_info", "user_email", "unknown"]
        let serverKeys = ["software", "php_version", "mysql_version", "php_max_upload_size", "php_default_timezone",
                          "php_soap", "php_fsockopen", "php_curl", "other"]
        let wpKeys = ["version", "locale", "memory_limit", "debug_mode", "multisite", "theme_slug", "theme_name",
                      "theme_version", "theme_uri", "theme_author", "other"]
        let extraKeys = ["total_posts", "store_currency", "conversion_rate", "pro_active", "undeclared"]

        // Escapes make the scanner decline the whole line, so they are rare here (the
        // general path is compared on those lines as well).
        let escaped = [#""\u00e9t\u00e9""#, #""a\"b""#, #""tab\there""#, #""\ud83d\ude00""#, #""\u00a0yes""#]
        func pick(_ values: [String]) -> String {
            if random.next() % 200 == 0 { return escaped[Int(random.next() % UInt64(escaped.count))] }
            return values[Int(random.next() % UInt64(values.count))]
        }
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
        func space() -> String { chance(10) ? pick([" ", "\t", " \r\n "]) : "" }
        func object(_ pairs: [(String, String)]) -> String {
            var members = pairs.map { "\(space())\"\($0.0)\"\(space()):\(space())\($0.1)\(space())" }
            if chance(5), let first = members.first { members.append(first) }          // duplicate key
            if chance(3), members.count > 1 { members.swapAt(0, members.count - 1) }
            return "{" + members.joined(separator: ",") + "}"
        }
        func group(_ keys: [String]) -> String {
            if chance(8) { return pick(scalars) }
            return object(keys.filter { _ in chance(70) }.map { ($0, pick(scalars)) })
        }
        func counts() -> String {
            if chance(8) { return pick(scalars) }
            let roles = ["total", "administrator", "editor", "subscriber", "Ädmin", "b", "a"]
            return object(roles.filter { _ in chance(60) }.map { ($0, chance(70) ? "\"\(random.next() % 500)\"" : pick(scalars)) })
        }
        func plugins() -> String {
            if chance(8) { return pick(scalars) }
            let slugs = ["woocommerce", "akismet", " padded ", "", "Zeta", "älpha", "wp-super-cache"]
            return object(slugs.filter { _ in chance(50) }.map { slug in
                (slug, chance(80) ? object([("name", pick(scalars)), ("version", pick(scalars))].filter { _ in chance(85) })
                                  : pick(scalars))
            })
        }
        func extra() -> String {
            if chance(8) { return pick(scalars) }
            return object(extraKeys.filter { _ in chance(60) }.map { ($0, pick(scalars)) })
        }

        var fast = 0
        let total = 20_000
        for _ in 0..<total {
            var payload: [(String, String)] = []
            if !chance(3) { payload.append(("hash", chance(80) ? hashes[Int(random.next() % 2)] : pick(hashes))) }
            for key in topKeys where chance(55) { payload.append((key, pick(scalars))) }
            if chance(85) { payload.append(("server", group(serverKeys))) }
            if chance(85) { payload.append(("wp", group(wpKeys))) }
            if chance(80) { payload.append(("users", counts())) }
            if chance(70) { payload.append(("plugins", plugins())) }
            if chance(70) { payload.append(("extra", extra())) }
            if chance(3) { payload.append(("deep", String(repeating: "[", count: 40) + String(repeating: "]", count: 40))) }
            payload.shuffle(using: &random)

            var envelope: [(String, String)] = [
                ("v", chance(97) ? "1" : pick(["1.0", #""1""#, "2", "null"])),
                ("id", chance(97) ? "\"01J\(random.next() % 1_000_000)\"" : pick([#""""#, "7", "\"\(String(repeating: "x", count: 129))\"",
                                                                                  "\"\(String(repeating: "y", count: 128))\"", #""\u0041B""#])),
                ("received_at", chance(90) ? #""2026-11-28T10:15:03.123456Z""#
                    : pick([#""2026-11-28T10:15:03Z""#, #""2026-11-28 10:15:03.5+02:00""#, #""2026-02-30T10:15:03.123456Z""#,
                            #""2026-11-28T24:15:03.123456Z""#, #""2026-11-28T10:15:03.12345Z""#, #""2026-11-28""#,
                            #""2024-02-29T23:59:59.999999Z""#, #""2026-11-28T10:15:03.123456z""#, "1", #""x""#])),
                ("route", chance(90) ? pick([#""track""#, #""deactivate""#, #""tracking-skipped""#])
                    : pick([#""skip""#, #""Track""#, "null", #""deactivate ""#])),
                ("ip", pick([#""203.0.113.9""#, "null", "{}"])),
                ("user_agent", pick(["\"Appsero/\(NormalizeFixture.siteMD5);\"", #""appsero/0123456789ABCDEF0123456789ABCDEFA""#,
                                     "null", "5", #""curl/8""#, #""x Appsero/0123456789abcdef0123456789abcdeg""#,
                                     #""Appsero/0123456789abcdef0123456789abcde\u0066;""#])),
                ("payload", object(payload)),
            ]
            if chance(3) { envelope.removeAll { $0.0 == pick(["v", "id", "payload", "route", "received_at"]) } }
            if chance(2) { envelope.append(("payload", pick(["[]", "\"x\"", "{}"]))) }
            envelope.shuffle(using: &random)
            var line = Array((space() + object(envelope) + space()).utf8)
            if chance(2) { line.removeLast(Int(random.next() % 20)) }                          // truncated
            if chance(1), !line.isEmpty {
                let garbage: [UInt8] = [0xFF, 0x01, 0xC3, 0x80]
                line[Int(random.next() % UInt64(line.count))] = garbage[Int(random.next() % 4)]
            }
            if check(line, registry: registry, normalizer: &normalizer) { fast += 1 }
        }
        XCTAssertGreaterThan(fast, total / 4, "the fast path must take a good share of the random lines")
    }

    func testHandMadeOddLines() {
        let registry = NormalizeFixture.registry
        var normalizer = EventLineNormalizer(registry: registry)
        let hash = NormalizeFixture.projectHash
        let head = #"{"v":1,"id":"01J0000000000000000000TEST","received_at":"2026-11-28T10:15:03.123456Z","route":"deactivate","ip":null,"user_agent":"Appsero/0123456789abcdef0123456789abcdef;","payload":"#
        var payloads = [
            #"{"hash":"\#(hash)","url":"HTTPS://www.Ex.com/","server":{"php_soap":"Yes","php_version":"8.1.2"}}"#,
            #"{"hash":"\#(hash)","url":"a","url":"b"}"#,
            #"{"hash":"\#(hash)","server":{"php_curl":"1","php_curl":"0"}}"#,
            #"{"hash":"\#(hash)","server":{"software":"x"},"server":{"software":"y"}}"#,
            #"{"hash":"\#(hash)","site":"caf\u00e9"}"#,
            #"{"hash":"\#(hash)","site":"Ünïcödé ✓"}"#,
            #"{"hash":"\#(hash)","users":{"total":"3","editor":"1","editor":"2"}}"#,
            #"{"hash":"\#(hash)","plugins":{"b":{"name":"B"},"a":{"name":"A","version":"1"},"b":{"name":"B2"}}}"#,
            #"{"hash":"\#(hash)","plugins":{"x":"y","z":null,"w":[]}}"#,
            #"{"hash":"\#(hash)","plugins":{"a":{"name":"A","name":"A2","version":"1","version":null}}}"#,
            #"{"hash":"\#(hash)","extra":{"total_posts":"x","total_posts":"9","store_currency":" EUR ","conversion_rate":"1e3","pro_active":"maybe"}}"#,
            #"{"hash":"\#(hash)","extra":{ }}"#,
            #"{"hash":"\#(hash)","extra":{"total_posts":"7","total_posts":"8","pro_active":"yes","conversion_rate":"2.50"}}"#,
            #"{"hash":"\#(hash)","server":"","wp":[],"users":"","plugins":[],"extra":[]}"#,
            #"{"hash":"\#(hash)","server":"x","wp":[1],"users":[2],"plugins":"y","extra":5}"#,
            #"{"hash":"\#(hash)","reason_id":"too-expensive","wp":{"theme_slug":null},"theme":"tt4"}"#,
            #"{"hash":"\#(hash)","project_version":"","version":"1.2"}"#,
            #"{ "hash" : "\#(hash)" , "is_local" : true , "active_plugins" : 12.0 , "inactive_plugins" : "0012" }"#,
            #"{"hash":"\#(hash)","active_plugins":"1234567890123456789","inactive_plugins":"-5"}"#,
            #"{"hash":"\#(hash)","nested":{"a":{"b":{"c":{"d":[1,2,{"e":null}]}}}}}"#,
            #"{"hash":"\#(hash)","\u0075rl":"escaped key"}"#,
            #"{"hash":"\#(hash)"}"#,
            #"{}"#,
            #"{"hash":"nope"}"#,
            #"{"hash":"\#(hash)","tracking_skipped":"YES","previously_skipped":"On","is_local":"0.0"}"#,
        ]
        // JSON numbers in every int field: whole only by their exact decimal value (`1e-999` is
        // not 0, `1e999` and 2^63 overflow), on both paths.
        payloads += ["1e-999", "-1e-999", "1e999", "-0.0", "1e18", "9223372036854775808", "-9223372036854775808",
                     "9223372036854775808.0", "0e-999", "1.5e1", "100e-2", "9007199254740993.0",
                     "1.00000000000000001"].map { (number: String) -> String in
            #"{"hash":"\#(hash)","active_plugins":\#(number),"inactive_plugins":\#(number),"users":{"total":\#(number),"#
                + #""editor":\#(number)},"extra":{"total_posts":\#(number),"conversion_rate":\#(number)}}"#
        }
        var fast = 0
        for payload in payloads {
            if check(head + payload + "}", registry: registry, normalizer: &normalizer) { fast += 1 }
            if check(head + payload + "}  ", registry: registry, normalizer: &normalizer) { fast += 1 }
        }
        XCTAssertGreaterThan(fast, payloads.count)
        // A key declared twice: the first declaration that casts wins (each miss counts).
        let twice = ProjectRegistry(projects: [
            Project(id: "twice", name: "Twice", hash: hash,
                    extraFields: [.init(key: "n", type: .int), .init(key: "n", type: .string),
                                  .init(key: "r", type: .float), .init(key: "r", type: .bool), .init(key: "b", type: .bool)]),
        ])
        var twiceNormalizer = EventLineNormalizer(registry: twice)
        for extra in [#"{"n":"abc","r":"yes","b":"1"}"#, #"{"n":"12","r":"2.5","b":"x"}"#, #"{"r":"no","r":"3","n":" 7 "}"#] {
            XCTAssertTrue(check(head + #"{"hash":"\#(hash)","extra":"# + extra + "}}", registry: twice, normalizer: &twiceNormalizer))
        }
        for line in [
            "", " ", "{", "[]", "null", #"{"v":1}"#, head + "{}}x", head + "{}", head + "{}},", head + #"{"a":tru}}"#,
            head + #"{"a":01}}"#, head + #"{"a":1.}}"#, head + #"{"a":-}}"#, head + #"{"a":"\x"}}"#, head + "{\"a\":\"\u{01}\"}}",
            head + #"{"a":[1,]}}"#, head + #"{"a":{"b":1,}}}"#, head + #"{"a" 1}}"#,
            head.replacingOccurrences(of: #""v":1"#, with: #""v":1,"v":1"#) + "{}}",
            head.replacingOccurrences(of: #""route":"deactivate""#, with: #""route":"track","route":"deactivate""#) + "{}}",
        ] {
            check(line, registry: registry, normalizer: &normalizer)
        }
        // Invalid UTF-8 anywhere (kept value, skipped value, key) is refused by both.
        for bad: [UInt8] in [[0xFF], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            for template in [#"{"hash":"\#(hash)","site":"aXb"}"#, #"{"hash":"\#(hash)","other":"aXb"}"#, #"{"hash":"\#(hash)","aXb":1}"#] {
                var bytes = Array((head + template + "}").utf8)
                let marker = bytes.firstIndex(of: UInt8(ascii: "X"))!
                bytes.replaceSubrange(marker...marker, with: bad)
                check(bytes, registry: registry, normalizer: &normalizer)
            }
        }
    }

    /// The scanner reads strings eight bytes at a time: a quote, backslash, control byte or
    /// non-ASCII byte at any offset of a long value (and of the word that holds it) must give
    /// what the general path gives.
    func testSpecialBytesAtEveryOffsetOfALongString() {
        let registry = NormalizeFixture.registry
        var normalizer = EventLineNormalizer(registry: registry)
        let hash = NormalizeFixture.projectHash
        let head = #"{"v":1,"id":"01J0000000000000000000TEST","received_at":"2026-11-28T10:15:03.123456Z","route":"track","ip":null,"user_agent":"Appsero/0123456789abcdef0123456789abcdef;","payload":{"hash":""#
        let specials: [[UInt8]] = [[0x5C, 0x22], [0x5C, 0x6E], [0x09], [0x1F], [0x7F], [0xC3, 0xA9], [0xE2, 0x80, 0xA8], [0xFF], [0x20]]
        for length in [7, 8, 9, 16, 23, 40] {
            for offset in 0...length {
                for special in specials {
                    var value = Array(repeating: UInt8(ascii: "a"), count: length)
                    value.insert(contentsOf: special, at: offset)
                    let line = Array((head + hash + #"","site":""#).utf8) + value + Array(#""}}"#.utf8)
                    check(line, registry: registry, normalizer: &normalizer)
                }
            }
        }
    }

    func testUTF8ValidationMatchesTheStandardLibrary() {
        var random = SplitMix64(seed: 7)
        let pieces: [[UInt8]] = [[0x41], [0x7F], [0x80], [0xC2, 0x80], [0xC1, 0xBF], [0xDF, 0xBF], [0xE0, 0xA0, 0x80],
                                 [0xE0, 0x9F, 0xBF], [0xED, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF],
                                 [0xF0, 0x90, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF],
                                 [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xC3], [0xE2, 0x82],
                                 Array("plain ascii text".utf8)]
        for _ in 0..<50_000 {
            var bytes: [UInt8] = []
            for _ in 0..<(random.next() % 6) {
                if random.next() % 4 == 0 { bytes.append(UInt8(truncatingIfNeeded: random.next())) } else {
                    bytes.append(contentsOf: pieces[Int(random.next() % UInt64(pieces.count))])
                }
            }
            let expected = String(validating: bytes, as: UTF8.self)
            bytes.withUnsafeBytes { buffer in
                XCTAssertEqual(UTF8Validation.isValid(buffer), expected != nil, "\(bytes)")
                XCTAssertEqual(UTF8Validation.string(buffer), expected)
            }
        }
    }
}
