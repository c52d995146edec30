import ColumnStore
import Core
import Foundation
@testable import Integrations
import XCTest

final class WebhookDeliveryTests: XCTestCase {
    typealias W = TestWarehouse
    let secret = "whsec-test-1234"

    override func setUp() {
        setenv("TEST_HOOK_SECRET", secret, 1)
    }

    func hook(_ receiver: StandInReceiver, id: String = "hooks", since: String = "2026-01-01T00:00:00Z") -> [String: Any] {
        ["id": id, "kind": "webhook", "url": receiver.url + "/in", "secret_env": "TEST_HOOK_SECRET", "since": since]
    }

    /// Per site: first track → activated; track again → nothing; deactivate → deactivated;
    /// track after deactivate → activated; skip → skipped; track after skip → activated. Every
    /// signature verifies, every body has §8's fields and the site row at that event.
    func testLifecycleRulesSignedBodiesAndOrderPerSite() async throws {
        let warehouse = W()
        let receiver = try StandInReceiver(respond: Providers.webhook(secret: secret))
        try warehouse.register([hook(receiver)])
        try warehouse.writeRaw([
            W.track("a1", "2026-11-02T10:00:00Z", "https://www.a.example/"),
            W.track("a2", "2026-11-02T11:00:00Z", "https://a.example"),
            W.deactivate("a3", "2026-11-02T12:00:00Z", "https://a.example"),
            W.track("a4", "2026-11-02T13:00:00Z", "https://a.example"),
            W.skip("a5", "2026-11-02T14:00:00Z", "https://a.example"),
            W.track("a6", "2026-11-02T15:00:00Z", "https://a.example"),
            W.deactivate("b1", "2026-11-02T10:30:00Z", "https://b.example", reason: nil),
            W.track("c1", "2026-11-02T10:40:00Z", "https://c.example", email: ""),
            W.skip("n1", "2026-11-02T10:50:00Z", nil),
        ], file: "t1-000001")
        try warehouse.compact()
        let worker = warehouse.worker()
        try await deliver(worker) { try warehouse.deliveries(.pending).isEmpty && !warehouse.deliveries().isEmpty }
        let received = receiver.requests
        XCTAssertEqual(received.filter { $0.method == "POST" }.count, received.count)
        XCTAssertNil(receiver.state.withLock { $0.store["bad_signatures"] }, "every signature verifies")
        let ids = received.compactMap(\.deliveryID)
        XCTAssertEqual(Set(ids), ["a1", "a3", "a4", "a5", "a6", "b1", "c1"])
        XCTAssertEqual(ids.filter { $0.hasPrefix("a") }, ["a1", "a3", "a4", "a5", "a6"], "site a in lifecycle order")
        let byID = Dictionary(received.map { ($0.deliveryID!, $0.object) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(byID["a1"]?["type"] as? String, "site.activated")
        XCTAssertEqual(byID["a3"]?["type"] as? String, "site.deactivated")
        XCTAssertEqual(byID["a4"]?["type"] as? String, "site.activated")
        XCTAssertEqual(byID["a5"]?["type"] as? String, "site.skipped")
        XCTAssertEqual(byID["a6"]?["type"] as? String, "site.activated")
        XCTAssertEqual(byID["b1"]?["type"] as? String, "site.deactivated")
        let body = try XCTUnwrap(byID["a3"])
        XCTAssertEqual(Set(body.keys), ["id", "type", "project_id", "occurred_at", "site", "reason_id", "reason_info"])
        XCTAssertEqual(body["id"] as? String, "a3")
        XCTAssertEqual(body["project_id"] as? String, "acme")
        XCTAssertEqual(body["occurred_at"] as? String, "2026-11-02T12:00:00Z")
        XCTAssertEqual(body["reason_id"] as? String, "other")
        XCTAssertEqual(body["reason_info"] as? String, "why not")
        let site = try XCTUnwrap(body["site"] as? [String: Any])
        XCTAssertEqual(Set(site.keys), Set(TableSchema.sites.columns.map(\.name)), "every sites column")
        XCTAssertEqual(site["site_key"] as? String, "a.example")
        XCTAssertEqual(site["event_id"] as? String, "a3")
        XCTAssertEqual(site["event_count"] as? Int, 3)
        XCTAssertEqual(site["first_seen"] as? String, "2026-11-02T10:00:00Z")
        XCTAssertEqual(site["last_seen"] as? String, "2026-11-02T12:00:00Z")
        XCTAssertEqual(site["status"] as? String, "deactivated")
        XCTAssertEqual(site["admin_email"] as? String, "admin@example.com")
        XCTAssertTrue(byID["b1"]?["reason_id"] is NSNull)
        // The API/CLI view: all delivered, one attempt each, no error.
        let listed = try warehouse.deliveries()
        XCTAssertEqual(listed.count, 7)
        XCTAssertTrue(listed.allSatisfy { $0.entry.status == .delivered && $0.entry.attempts == 1 && $0.entry.lastStatus == 200 })
        await worker.shutdown()
    }

    /// The same raw lines imported again and compacted twice, and the follower's state lost:
    /// one delivery per id.
    func testReplaysOfTheSameRawFilesDeliverOncePerID() async throws {
        let warehouse = W()
        let receiver = try StandInReceiver(respond: Providers.webhook(secret: secret))
        try warehouse.register([hook(receiver)])
        let events = [W.track("r1", "2026-11-03T10:00:00Z", "https://r.example"),
                      W.deactivate("r2", "2026-11-03T11:00:00Z", "https://r.example"),
                      W.track("s1", "2026-11-03T10:10:00Z", "https://s.example")]
        try warehouse.writeRaw(events, file: "t1-000001")
        try warehouse.compact()
        let worker = warehouse.worker()
        try await deliver(worker) { receiver.requests.count == 3 }
        // A re-import under other file names, compacted twice: compaction dedupes by id.
        try warehouse.writeRaw(events, file: "imported-000001")
        try warehouse.compact()
        try warehouse.compact()
        await worker.runOnce()
        // The follower's state lost: a rescan of history finds only ids the outbox holds.
        FileIO.remove(warehouse.data + "/outbox/acme/lifecycle.json")
        let fresh = warehouse.worker()
        await fresh.runOnce()
        await fresh.runOnce()
        XCTAssertEqual(receiver.requests.compactMap(\.deliveryID).sorted(), ["r1", "r2", "s1"])
        XCTAssertEqual(try warehouse.deliveries().count, 3)
        await worker.shutdown()
        await fresh.shutdown()
    }

    /// Events before `since` are never delivered, but they are history: a track after `since`
    /// of a site that tracked before is no activation. An integration added later gets the
    /// backlog from its own `since` only.
    func testSinceIsRespectedAndHistoryCountsBeforeIt() async throws {
        let warehouse = W()
        let receiver = try StandInReceiver(respond: Providers.webhook(secret: secret))
        try warehouse.register([hook(receiver, since: "2026-11-10T00:00:00Z")])
        try warehouse.writeRaw([
            W.track("old1", "2026-11-05T10:00:00Z", "https://old.example"),
            W.track("old2", "2026-11-11T10:00:00Z", "https://old.example"),
            W.deactivate("old3", "2026-11-12T10:00:00Z", "https://old.example"),
            W.track("new1", "2026-11-11T09:00:00Z", "https://new.example"),
            W.track("early", "2026-11-01T09:00:00Z", "https://early.example"),
        ], file: "t1-000001")
        try warehouse.compact()
        let worker = warehouse.worker()
        try await deliver(worker) { try receiver.requests.count >= 2 && warehouse.deliveries(.pending).isEmpty }
        XCTAssertEqual(receiver.requests.compactMap(\.deliveryID).sorted(), ["new1", "old3"])
        // A second integration added later, since 2026-11-12: only old3 is in its backlog.
        let second = try StandInReceiver(respond: Providers.webhook(secret: secret))
        try warehouse.register([hook(receiver, since: "2026-11-10T00:00:00Z"), hook(second, id: "later", since: "2026-11-12T00:00:00Z")])
        let worker2 = warehouse.worker()
        try await deliver(worker2) { try second.requests.count >= 1 && warehouse.deliveries(.pending).isEmpty }
        XCTAssertEqual(second.requests.compactMap(\.deliveryID), ["old3"])
        XCTAssertEqual(receiver.requests.count, 2, "the first integration got nothing twice")
        // New events reach both.
        try warehouse.writeRaw([W.track("late1", "2026-11-13T10:00:00Z", "https://old.example")], file: "t1-000002")
        try warehouse.compact()
        try await deliver(worker2) { second.requests.count >= 2 && receiver.requests.count >= 3 }
        XCTAssertEqual(second.requests.last?.deliveryID, "late1")
        XCTAssertEqual(receiver.requests.last?.deliveryID, "late1")
        await worker.shutdown()
        await worker2.shutdown()
    }
}
