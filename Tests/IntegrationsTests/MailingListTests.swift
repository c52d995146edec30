import Core
import Foundation
@testable import Integrations
import XCTest

/// Mailchimp, MailerLite and Brevo against stand-ins of their documented endpoints: members
/// come only from activations of sites with an email; deactivations only tag (or move) a
/// member an activation added; skips and empty emails make no request.
final class MailingListTests: XCTestCase {
    typealias W = TestWarehouse

    override func setUp() {
        setenv("TEST_LIST_KEY", "key-123-us21", 1)
    }

    let events = [
        W.track("m1", "2026-11-02T10:00:00Z", "https://member.example", email: "Ada@Example.com", first: "Ada", last: "Lovelace"),
        W.deactivate("m2", "2026-11-02T11:00:00Z", "https://member.example", email: "Ada@Example.com"),
        W.deactivate("n1", "2026-11-02T10:30:00Z", "https://never.example", email: "never@example.com"),
        W.track("e1", "2026-11-02T10:40:00Z", "https://empty.example", email: "  "),
        W.skip("k1", "2026-11-02T10:50:00Z", "https://skip.example"),
    ]

    func run(_ integration: [String: Any], receiver: StandInReceiver) async throws -> TestWarehouse {
        let warehouse = W()
        try warehouse.register([integration])
        try warehouse.writeRaw(events, file: "t1-000001")
        try warehouse.compact()
        let worker = warehouse.worker()
        try await deliver(worker) { try warehouse.deliveries(.pending).isEmpty && !warehouse.deliveries().isEmpty }
        await worker.shutdown()
        XCTAssertEqual(try warehouse.deliveries().map(\.entry.id).sorted(), ["m1", "m2", "n1"], "no entry for the skip or the empty email")
        XCTAssertTrue(try warehouse.deliveries().allSatisfy { $0.entry.status == .delivered })
        return warehouse
    }

    func testMailchimpMembersAndTags() async throws {
        let receiver = try StandInReceiver(respond: Providers.mailchimp(apiKey: "key-123-us21"))
        _ = try await run(["id": "news", "kind": "mailchimp", "base_url": receiver.url, "api_key_env": "TEST_LIST_KEY",
                           "list_id": "a1b2c3", "since": "2026-01-01T00:00:00Z",
                           "tags": ["activated": "acme-active", "deactivated": "acme-deactivated"]], receiver: receiver)
        let hash = Providers.md5("ada@example.com")
        let calls = receiver.requests.map { "\($0.method) \($0.path)" }
        let expected = ["PUT /3.0/lists/a1b2c3/members/\(hash)", "POST /3.0/lists/a1b2c3/members/\(hash)/tags",
                        "POST /3.0/lists/a1b2c3/members/\(Providers.md5("never@example.com"))/tags",
                        "POST /3.0/lists/a1b2c3/members/\(hash)/tags"]
        XCTAssertEqual(calls.sorted(), expected.sorted())
        XCTAssertEqual(calls.firstIndex(of: expected[0]), calls.firstIndex { $0.contains(hash) }, "the member is upserted before it is tagged")
        XCTAssertEqual(calls.filter { $0.hasPrefix("PUT") }.count, 1, "only the activation upserts a member")
        receiver.state.withLock { state in
            XCTAssertEqual(state.store["member:" + hash], "Ada@Example.com")
            XCTAssertEqual(state.store["name:" + hash], "Ada|Lovelace")
            XCTAssertEqual(state.store["tag:\(hash):acme-deactivated"], "active")
            XCTAssertEqual(state.store["tag:\(hash):acme-active"], "inactive")
            XCTAssertNil(state.store["member:" + Providers.md5("never@example.com")], "a deactivation adds no member")
        }
    }

    func testMailerLiteSubscribersAndGroups() async throws {
        let receiver = try StandInReceiver(respond: Providers.mailerlite(apiKey: "key-123-us21"))
        _ = try await run(["id": "ml", "kind": "mailerlite", "base_url": receiver.url, "api_key_env": "TEST_LIST_KEY",
                           "group_id": "111", "deactivated_group_id": "222", "since": "2026-01-01T00:00:00Z"], receiver: receiver)
        receiver.state.withLock { state in
            let id = state.store["sub:ada@example.com"]
            XCTAssertNotNil(id)
            XCTAssertNil(state.store["group:\(id!):111"], "removed from the active group")
            XCTAssertEqual(state.store["group:\(id!):222"], "in")
            XCTAssertNil(state.store["sub:never@example.com"], "a deactivation adds no subscriber")
        }
        XCTAssertEqual(receiver.requests.filter { $0.method == "POST" && $0.path == "/api/subscribers" }.count, 1)
        let create = try XCTUnwrap(receiver.requests.first { $0.path == "/api/subscribers" }?.object)
        XCTAssertEqual(create["groups"] as? [String], ["111"])
        XCTAssertEqual((create["fields"] as? [String: Any])?["name"] as? String, "Ada")
    }

    func testBrevoContactsAndLists() async throws {
        let receiver = try StandInReceiver(respond: Providers.brevo(apiKey: "key-123-us21"))
        _ = try await run(["id": "bv", "kind": "brevo", "base_url": receiver.url, "api_key_env": "TEST_LIST_KEY",
                           "list_id": 7, "deactivated_list_id": "8", "since": "2026-01-01T00:00:00Z"], receiver: receiver)
        receiver.state.withLock { state in
            XCTAssertNotNil(state.store["contact:ada@example.com"])
            XCTAssertNil(state.store["list:ada@example.com:7"], "unlinked from the active list")
            XCTAssertEqual(state.store["list:ada@example.com:8"], "in")
            XCTAssertNil(state.store["contact:never@example.com"], "a deactivation creates no contact")
        }
        let create = try XCTUnwrap(receiver.requests.first { $0.method == "POST" }?.object)
        XCTAssertEqual(create["listIds"] as? [Int], [7])
        XCTAssertEqual(create["updateEnabled"] as? Bool, true)
        XCTAssertEqual((create["attributes"] as? [String: Any])?["LASTNAME"] as? String, "Lovelace")
    }

    /// The API key never shows in an error, a log record or the deliveries list.
    func testSecretsStayOutOfErrors() async throws {
        let receiver = try StandInReceiver { _, _ in .init(status: 400, body: Array("nope".utf8)) }
        let warehouse = W()
        try warehouse.register([["id": "news", "kind": "mailchimp", "base_url": receiver.url, "api_key_env": "TEST_LIST_KEY",
                                 "list_id": "l1", "since": "2026-01-01T00:00:00Z"]])
        try warehouse.writeRaw([events[0]], file: "t1-000001")
        try warehouse.compact()
        let worker = warehouse.worker()
        try await deliver(worker) { !(try warehouse.deliveries(.dead)).isEmpty }
        await worker.shutdown()
        for item in try warehouse.deliveries() {
            XCTAssertFalse(JSONWriter.string(item.json).contains("key-123"))
        }
        for file in FileIO.walkFiles(warehouse.data + "/outbox", includeHidden: true) {
            XCTAssertFalse(String(decoding: try FileIO.readFile(file), as: UTF8.self).contains("key-123"), file)
        }
        // A missing variable is named in the error, and the delivery waits for it.
        unsetenv("TEST_LIST_KEY")
        let settings = IntegrationSettings(projectID: "acme", id: "news", kind: "mailchimp", sinceMicros: 0, fields: ["api_key_env": "TEST_LIST_KEY"])
        XCTAssertThrowsError(try settings.secret("api_key_env")) { error in
            XCTAssertTrue("\(error)".contains("TEST_LIST_KEY"))
        }
    }
}
