import Core
import XCTest

final class APIQueryTests: XCTestCase {
    func testFormatsFollowTheQuerySurface() async throws {
        let fixture = APIFixture.shared
        let project = fixture.mainProject
        let token = fixture.tokens[project]!
        let sql = "SELECT event, count(*) AS n, max(received_at) AS last FROM events GROUP BY 1 ORDER BY 1"
        var counted: [String: (Int64, Int64)] = [:]
        for event in fixture.events(of: project) {
            let current = counted[event.event] ?? (0, Int64.min)
            counted[event.event] = (current.0 + 1, max(current.1, event.receivedAt))
        }
        let expected = counted
        let names = expected.keys.sorted()
        try await withAPI { client in
            let json = try await client.call("/api/v1/query", method: .post, token: token, body: sql)
            XCTAssertEqual(json.status, 200, json.text)
            XCTAssertTrue(json.headers[.contentType]?.hasPrefix("application/json") ?? false)
            XCTAssertEqual(json.json["columns"]?.array, [
                .object(JSONObject([("name", .string("event")), ("type", .string("VARCHAR"))])),
                .object(JSONObject([("name", .string("n")), ("type", .string("BIGINT"))])),
                .object(JSONObject([("name", .string("last")), ("type", .string("TIMESTAMP"))])),
            ])
            XCTAssertEqual(json.json["rows"]?.array, names.map {
                .array([.string($0), .number(String(expected[$0]!.0)), .string(iso(expected[$0]!.1))])
            })
            XCTAssertNotNil(json.json["stats"]?["rows"])

            let lines = try await client.call("/api/v1/query?format=jsonl", method: .post, token: token, body: sql)
            XCTAssertEqual(lines.text.split(separator: "\n").count, names.count)
            XCTAssertTrue(lines.text.hasPrefix("{\"event\":\"\(names[0])\",\"n\":\(expected[names[0]]!.0),"))

            let csv = try await client.call("/api/v1/query?format=csv", method: .post, token: token, body: sql)
            XCTAssertTrue(csv.headers[.contentType]?.hasPrefix("text/csv") ?? false)
            XCTAssertEqual(csv.text.split(separator: "\n").first, "event,n,last")
            XCTAssertEqual(csv.text.split(separator: "\n").count, names.count + 1)
        }
    }

    func testEngineErrorsAre400WithTheEngineMessage() async throws {
        let fixture = APIFixture.shared
        try await withAPI { client in
            let cases = [
                ("SELEC 1", "SELEC", "syntax_error"),
                ("SELECT nope FROM events", "nope", "binder_error"),
                ("SELECT * FROM nowhere", "nowhere", "unknown_name"),
                ("SELECT * FROM events a JOIN sites b ON true", "JOIN", "not_supported"),
                ("DELETE FROM events", "DELETE", nil),
            ]
            for (sql, mention, code) in cases {
                let answer = try await client.call("/api/v1/query", method: .post, token: fixture.adminToken, body: sql)
                XCTAssertEqual(answer.status, 400, sql)
                XCTAssertNotNil(answer.json["error"]?.string, sql)
                if let code { XCTAssertEqual(answer.json["error"]?.string, code, sql) }
                XCTAssertTrue(answer.json["message"]?.string?.contains(mention) ?? false, "\(sql): \(answer.text)")
            }
            let wrapped = try await client.call("/api/v1/query?format=csv", method: .post, token: fixture.adminToken,
                                                body: #"{"sql": "SELECT count(*) AS n FROM events"}"#)
            XCTAssertEqual(wrapped.text, "n\n\(fixture.events.count)\n")
            let empty = try await client.call("/api/v1/query", method: .post, token: fixture.adminToken, body: "  ")
            XCTAssertEqual(empty.status, 400)
            let format = try await client.call("/api/v1/query?format=xml", method: .post, token: fixture.adminToken, body: "SELECT 1")
            XCTAssertEqual(format.status, 400)
            XCTAssertTrue(format.json["message"]?.string?.contains("format") ?? false)
        }
    }
}
