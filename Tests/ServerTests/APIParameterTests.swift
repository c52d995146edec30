import Core
import HummingbirdTesting
import XCTest
@testable import Server

final class APIParameterTests: XCTestCase {
    func testBadParametersAre400NamingTheParameter() async throws {
        let fixture = APIFixture.shared
        let project = "/api/v1/projects/\(fixture.mainProject)"
        let cases: [(String, String)] = [
            ("/stats?from=yesterday", "from"),
            ("/stats?to=2026-13-01", "to"),
            ("/stats?from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", "from"),
            ("/stats?from=2026-05-01T00:00:00Z&to=2026-05-01T00:00:00Z", "from"),
            ("/timeseries?metric=visits", "metric"),
            ("/timeseries?interval=year", "interval"),
            ("/timeseries?interval=hour&from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "interval"),
            ("/timeseries?breakdown=colour", "breakdown"),
            ("/timeseries?metric=new_sites&breakdown=nope", "breakdown"),
            ("/timeseries?breakdown=php_minor&limit=-1", "limit"),
            ("/timeseries?breakdown=php_minor&limit=ten", "limit"),
            ("/breakdown", "dim"),
            ("/breakdown?dim=colour", "dim"),
            ("/breakdown?dim=php_minor&at=noon", "at"),
            ("/breakdown?dim=php_minor&active_days=0", "active_days"),
            ("/breakdown?dim=php_minor&limit=x", "limit"),
            ("/deactivations?per_page=1001", "per_page"),
            ("/deactivations?per_page=0", "per_page"),
            ("/deactivations?page=0", "page"),
            ("/deactivations?from=2026-05-01T25:00:00Z", "from"),
            ("/sites?per_page=5000", "per_page"),
            ("/sites?sort=colour", "sort"),
            ("/sites?sort=-nope", "sort"),
            ("/sites?colour=red", "colour"),
            ("/sites?status=sleeping", "status"),
            ("/sites?event_count=many", "event_count"),
            ("/sites?wp_multisite=maybe", "wp_multisite"),
            ("/sites?last_seen=tuesday", "last_seen"),
            ("/sites?format=xml", "format"),
            // Found by Fuzz/api: derived times before year 0000 were a 500 (the SQL layer
            // cannot write them), not a 400 naming the parameter.
            ("/stats?to=0000-01-02T00:00:00Z", "from"),
            ("/breakdown?dim=php_minor&at=0000-01-02T00:00:00Z&active_days=30", "active_days"),
        ]
        try await withAPI { client in
            for (path, parameter) in cases {
                let answer = try await client.call(project + path, token: fixture.adminToken)
                XCTAssertEqual(answer.status, 400, "\(path): \(answer.text)")
                XCTAssertEqual(answer.json["error"]?.string, "bad_request", path)
                let message = answer.json["message"]?.string ?? ""
                XCTAssertTrue(message.contains(parameter), "\(path): \(message)")
            }
        }
    }

    func testQueryStringDecoding() {
        let parameters = APIParameters(query: "q=a+b%2Bc&x=1&x=2&empty=&flag&%73ort=-last_seen")
        XCTAssertEqual(parameters["q"], "a b+c")
        XCTAssertEqual(parameters["x"], "2")
        XCTAssertEqual(parameters["empty"], "")
        XCTAssertEqual(parameters["flag"], "")
        XCTAssertEqual(parameters["sort"], "-last_seen")
        XCTAssertEqual(parameters.pairs.filter { $0.name == "x" }.map(\.value), ["1", "2"])
        // An offset whose `+` was not escaped still reads as an offset.
        let offset = APIParameters(query: "from=2026-05-01T02:00:00+02:00&to=2026-05-01T02:00:00%2B02:00")
        XCTAssertEqual(try offset.time("from", default: 0), UTCTime.parseISO("2026-05-01T00:00:00Z"))
        XCTAssertEqual(try offset.time("to", default: 0), UTCTime.parseISO("2026-05-01T00:00:00Z"))
        // A leading byte order mark is a character like any other (Foundation's decoder
        // dropped it, so `wp_locale=%EF%BB%BFbom` found nothing); stray `%` stay as they are;
        // bytes that are not UTF-8 become U+FFFD instead of voiding the whole value.
        let odd = APIParameters(query: "a=%EF%BB%BFbom&b=100%25&c=50%&d=%zz%2&e=%FFx&f=%C3%A9t%C3%A9")
        XCTAssertEqual(odd["a"], "\u{FEFF}bom")
        XCTAssertEqual(odd["a"]?.unicodeScalars.count, 4)
        XCTAssertEqual(odd["b"], "100%")
        XCTAssertEqual(odd["c"], "50%")
        XCTAssertEqual(odd["d"], "%zz%2")
        XCTAssertEqual(odd["e"], "\u{FFFD}x")
        XCTAssertEqual(odd["f"], "été")
    }

    func testAnIngestOnlyServerDoesNotServeTheAPI() async throws {
        let data = makeDataDirectory()
        var configuration = ServerConfiguration(dataDirectory: data, writerID: "api")
        configuration.role = .ingest
        configuration.port = 0
        let components = try buildComponents(configuration: configuration, logger: quietLogger)
        let app = buildApplication(components: components, logger: quietLogger)
        try await app.test(.router) { client in
            let answer = try await client.call("/api/v1/projects", token: "th_anything")
            XCTAssertEqual(answer.status, 404)
        }
        components.writer?.shutdown()
    }
}
