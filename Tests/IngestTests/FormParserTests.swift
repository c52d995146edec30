import Core
import XCTest
@testable import Ingest

/// Table-driven: each case is a body as an SDK version (or an odd client) sends it, and the
/// JSON the envelope must hold.
final class FormParserTests: XCTestCase {
    struct Case {
        var name: String
        var body: String
        var expected: String
    }

    var cases: [Case] { Self.sharedCases }

    static let sharedCases: [Case] = [
        Case(name: "client 2.0.x track, http_build_query encoding",
             body: "url=https%3A%2F%2Fshop.example.com&site=My+Shop&admin_email=admin%40example.com&first_name=Jane&last_name=&hash=a4a8da5b-b419-4656-98e9-4a42e9044891"
                + "&server%5Bsoftware%5D=nginx%2F1.21.0&server%5Bphp_version%5D=8.1.27&server%5Bphp_soap%5D=Yes"
                + "&wp%5Blocale%5D=de_DE_formal&wp%5Bversion%5D=6.4.2&wp%5Bmultisite%5D=No"
                + "&users%5Btotal%5D=10&users%5Badministrator%5D=1&users%5Bcustomer%5D=8"
                + "&active_plugins=8&inactive_plugins=5&ip_address=203.0.113.7&project_version=1.7.2&tracking_skipped=0&is_local=0"
                + "&plugins%5Bwoocommerce%5D%5Bname%5D=WooCommerce&plugins%5Bwoocommerce%5D%5Bversion%5D=8.5.1"
                + "&extra%5Btotal_posts%5D=42&client=2.0.4",
             expected: #"{"url":"https://shop.example.com","site":"My Shop","admin_email":"admin@example.com","first_name":"Jane","last_name":"","hash":"a4a8da5b-b419-4656-98e9-4a42e9044891","server":{"software":"nginx/1.21.0","php_version":"8.1.27","php_soap":"Yes"},"wp":{"locale":"de_DE_formal","version":"6.4.2","multisite":"No"},"users":{"total":"10","administrator":"1","customer":"8"},"active_plugins":"8","inactive_plugins":"5","ip_address":"203.0.113.7","project_version":"1.7.2","tracking_skipped":"0","is_local":"0","plugins":{"woocommerce":{"name":"WooCommerce","version":"8.5.1"}},"extra":{"total_posts":"42"},"client":"2.0.4"}"#),
        Case(name: "client 1.1.x deactivate: version, theme, user_email",
             body: "hash=abc&reason_id=none&reason_info=&site=Blog&url=http%3A%2F%2Fblog.test&admin_email=a%40b.c&user_email=u%40b.c&version=1.0.3&theme=twentytwenty&client=1.1.9",
             expected: #"{"hash":"abc","reason_id":"none","reason_info":"","site":"Blog","url":"http://blog.test","admin_email":"a@b.c","user_email":"u@b.c","version":"1.0.3","theme":"twentytwenty","client":"1.1.9"}"#),
        Case(name: "client 1.2.x tracking-skipped",
             body: "hash=abc&previously_skipped=1&client=1.2.1",
             expected: #"{"hash":"abc","previously_skipped":"1","client":"1.2.1"}"#),
        Case(name: "client 1.0 with raw brackets (not percent-encoded)",
             body: "hash=abc&server[php_version]=7.4.3-4ubuntu2.19&wp[version]=5.6",
             expected: #"{"hash":"abc","server":{"php_version":"7.4.3-4ubuntu2.19"},"wp":{"version":"5.6"}}"#),
        Case(name: "appends with []", body: "a[]=x&a[]=y&a[5]=z&a[]=w",
             expected: #"{"a":{"0":"x","1":"y","5":"z","6":"w"}}"#),
        Case(name: "repeated key: last wins, first position kept", body: "a=1&b=2&a=3",
             expected: #"{"a":"3","b":"2"}"#),
        Case(name: "scalar replaced by nested, nested replaced by scalar", body: "a=1&a[b]=2&c[d]=3&c=4",
             expected: #"{"a":{"b":"2"},"c":"4"}"#),
        Case(name: "empty values and missing '='", body: "a=&b&c=%20",
             expected: #"{"a":"","b":"","c":" "}"#),
        Case(name: "empty keys and empty pairs are ignored", body: "&&=x&a=1&",
             expected: #"{"a":"1"}"#),
        Case(name: "plus is space, %2B is plus", body: "q=a+b%2Bc",
             expected: #"{"q":"a b+c"}"#),
        Case(name: "malformed percent escapes stay literal", body: "q=100%&r=%zz&s=%4",
             expected: #"{"q":"100%","r":"%zz","s":"%4"}"#),
        Case(name: "UTF-8 percent-encoded", body: "site=Caf%C3%A9+M%C3%BCller&l=%E6%97%A5%E6%9C%AC",
             expected: #"{"site":"Café Müller","l":"日本"}"#),
        Case(name: "unclosed bracket is a plain key", body: "a[b=1",
             expected: #"{"a_b":"1"}"#),
        Case(name: "text after a closing bracket is ignored", body: "a[b]c=1",
             expected: #"{"a":{"b":"1"}}"#),
        Case(name: "lowercase hex escapes", body: "u=%2f%3a",
             expected: #"{"u":"/:"}"#),
        Case(name: "JSON special characters in values are escaped", body: "q=%22quoted%22%5C%0A",
             expected: #"{"q":"\"quoted\"\\\n"}"#),
        // PHP 8.2's parse_str gives each of these (json_encode with JSON_FORCE_OBJECT).
        Case(name: "no append after the key Int64.max: the pair is dropped (it trapped on Int.max + 1)",
             body: "a[9223372036854775807]=1&a[]=2&a[x]=3",
             expected: #"{"a":{"9223372036854775807":"1","x":"3"}}"#),
        Case(name: "appends up to Int64.max, then drops", body: "a[9223372036854775806]=1&a[]=2&a[]=3",
             expected: #"{"a":{"9223372036854775806":"1","9223372036854775807":"2"}}"#),
        Case(name: "a nested append after Int64.max is dropped whole",
             body: "a[9223372036854775807][b]=1&a[][c]=2&a[9223372036854775807][d]=3",
             expected: #"{"a":{"9223372036854775807":{"b":"1","d":"3"}}}"#),
        Case(name: "the next index is per object", body: "b[x][9223372036854775807]=1&b[x][]=2&b[y][]=3",
             expected: #"{"b":{"x":{"9223372036854775807":"1"},"y":{"0":"3"}}}"#),
        Case(name: "a scalar turned object starts appending at 0 again", body: "a[9223372036854775807]=1&a=2&a[]=3",
             expected: #"{"a":{"0":"3"}}"#),
        Case(name: "keys beyond Int64, with leading zeros, '-0' or '+' are string keys",
             body: "a[99999999999999999999]=1&a[]=2&a[-9223372036854775808]=3&a[]=4&a[007]=5&a[]=6&a[-0]=7&a[]=8"
                + "&a[%2B9]=9&a[]=10&a[9223372036854775808]=11&a[]=12&a[-9223372036854775809]=13&a[]=14",
             expected: #"{"a":{"99999999999999999999":"1","0":"2","-9223372036854775808":"3","1":"4","007":"5","2":"6","#
                + #""-0":"7","3":"8","+9":"9","4":"10","9223372036854775808":"11","5":"12","-9223372036854775809":"13","6":"14"}}"#),
    ]

    func testTable() throws {
        for testCase in cases {
            let object = try FormParser.parse(Array(testCase.body.utf8))
            XCTAssertEqual(JSONWriter.string(.object(object)), testCase.expected, testCase.name)
        }
    }

    func testTooManyKeysIsRefused() {
        let body = (0...10_000).map { "k\($0)=v" }.joined(separator: "&")
        XCTAssertThrowsError(try FormParser.parse(Array(body.utf8))) { error in
            XCTAssertEqual((error as? FormParser.Failure)?.kind, .tooManyKeys)
        }
        let ok = (0..<10_000).map { "k\($0)=v" }.joined(separator: "&")
        XCTAssertEqual(try FormParser.parse(Array(ok.utf8)).count, 10_000)
    }

    func testNestingDeeperThan32IsRefused() {
        let deep = "a" + String(repeating: "[x]", count: 33) + "=1"
        XCTAssertThrowsError(try FormParser.parse(Array(deep.utf8))) { error in
            XCTAssertEqual((error as? FormParser.Failure)?.kind, .tooDeep)
        }
        let fine = "a" + String(repeating: "[x]", count: 32) + "=1"
        XCTAssertNoThrow(try FormParser.parse(Array(fine.utf8)))
    }

    func testInvalidUTF8IsRefused() {
        XCTAssertThrowsError(try FormParser.parse(Array("site=%C3%28".utf8))) { error in
            XCTAssertEqual((error as? FormParser.Failure)?.kind, .invalidUTF8)
        }
        XCTAssertThrowsError(try FormParser.parse([0x61, 0x3D, 0xFF]))
    }

    func testLargeFlatBodyIsLinear() throws {
        // 10,000 distinct keys must parse quickly (a quadratic key lookup would take seconds).
        let body = (0..<10_000).map { "plugins[p\($0)][version]=1.\($0)" }.joined(separator: "&")
        let started = Date()
        let object = try FormParser.parse(Array(body.utf8))
        XCTAssertEqual(object["plugins"]?.objectValue?.count, 10_000)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }
}
