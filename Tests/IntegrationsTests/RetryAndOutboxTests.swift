import ColumnStore
import Core
import Foundation
@testable import Integrations
import XCTest

final class RetryAndOutboxTests: XCTestCase {
    typealias W = TestWarehouse
    let secret = "whsec-retry"

    override func setUp() {
        setenv("TEST_RETRY_SECRET", secret, 1)
    }

    func setUp(_ warehouse: W, _ receiver: StandInReceiver, events: [W.Event]) throws {
        try warehouse.register([["id": "hooks", "kind": "webhook", "url": receiver.url + "/in",
                                 "secret_env": "TEST_RETRY_SECRET", "since": "2026-01-01T00:00:00Z"]])
        try warehouse.writeRaw(events, file: "t1-000001")
        try warehouse.compact()
    }

    /// 429 with `Retry-After: 1`, then 500, then 200: three attempts, the second one at least
    /// a second after the first; the site's next event waits for the first to be delivered.
    func testRetryAfterAndBackoffKeepOrderPerSite() async throws {
        let warehouse = W()
        let receiver = try StandInReceiver(respond: Providers.webhook(secret: secret))
        try setUp(warehouse, receiver, events: [W.track("x1", "2026-11-02T10:00:00Z", "https://x.example"),
                                                W.deactivate("x2", "2026-11-02T11:00:00Z", "https://x.example")])
        receiver.queue(.init(status: 429, headers: [("Retry-After", "1")]), .init(status: 500))
        let worker = warehouse.worker()
        let started = Date()
        try await deliver(worker) { receiver.requests.count >= 4 }
        let ids = receiver.requests.compactMap(\.deliveryID)
        XCTAssertEqual(ids, ["x1", "x1", "x1", "x2"], "x2 waits until x1 is delivered")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1.0, "Retry-After: 1 was honoured")
        let first = try XCTUnwrap(warehouse.deliveries().first { $0.entry.id == "x1" }?.entry)
        XCTAssertEqual(first.status, .delivered)
        XCTAssertEqual(first.attempts, 3)
        XCTAssertEqual(first.lastStatus, 200)
        await worker.shutdown()
    }

    func testRetryAfterAsHTTPDate() {
        let now = UTCTime.parseISO("2026-12-06T10:00:00Z")!
        let answer = HTTPAnswer(status: 503, headers: [("Retry-After", "Sun, 06 Dec 2026 10:00:30 GMT")])
        XCTAssertEqual(answer.retryAfterSeconds(nowMicros: now) ?? -1, 30, accuracy: 0.001)
        XCTAssertEqual(HTTPAnswer(status: 429, headers: [("retry-after", "7")]).retryAfterSeconds(nowMicros: now), 7)
        XCTAssertNil(HTTPAnswer(status: 429, headers: [("Retry-After", "soon")]).retryAfterSeconds(nowMicros: now))
    }

    /// A 400 is dead at once; the site's next delivery then goes; `retryDead` sends it again.
    func testDeadOn400ThenRetryCommand() async throws {
        let warehouse = W()
        let receiver = try StandInReceiver(respond: Providers.webhook(secret: secret))
        try setUp(warehouse, receiver, events: [W.track("d1", "2026-11-02T10:00:00Z", "https://d.example"),
                                                W.deactivate("d2", "2026-11-02T11:00:00Z", "https://d.example")])
        receiver.queue(.init(status: 400, body: Array("bad input".utf8)))
        let worker = warehouse.worker()
        try await deliver(worker) { try receiver.requests.count >= 2 && warehouse.deliveries(.pending).isEmpty }
        let dead = try warehouse.deliveries(.dead)
        XCTAssertEqual(dead.map(\.entry.id), ["d1"])
        XCTAssertEqual(dead.first?.entry.lastStatus, 400)
        XCTAssertEqual(dead.first?.entry.attempts, 1)
        XCTAssertTrue(dead.first?.entry.lastError?.contains("400") ?? false)
        XCTAssertEqual(receiver.requests.compactMap(\.deliveryID), ["d1", "d2"])
        XCTAssertEqual(try OutboxStore(dataDirectory: warehouse.data).retryDead(projectID: "acme", integrationID: "hooks"), 1)
        try await deliver(worker) { receiver.requests.count >= 3 }
        XCTAssertEqual(receiver.requests.last?.deliveryID, "d1")
        XCTAssertTrue(try warehouse.deliveries(.dead).isEmpty)
        XCTAssertEqual(try warehouse.deliveries(.delivered).count, 2)
        await worker.shutdown()
    }

    /// 5xx past the retry window: dead, with the reason.
    func testDeadAfterTheRetryWindow() async throws {
        let warehouse = W()
        let receiver = try StandInReceiver { _, _ in .init(status: 503) }
        try setUp(warehouse, receiver, events: [W.track("w1", "2026-11-02T10:00:00Z", "https://w.example")])
        let worker = warehouse.worker { $0.retryWindowSeconds = 0.5 }
        try await deliver(worker) { !(try warehouse.deliveries(.dead)).isEmpty }
        let entry = try XCTUnwrap(warehouse.deliveries(.dead).first?.entry)
        XCTAssertGreaterThan(entry.attempts, 1)
        XCTAssertEqual(entry.lastStatus, 503)
        XCTAssertTrue(entry.lastError?.contains("gave up") ?? false, entry.lastError ?? "")
        await worker.shutdown()
    }

    /// The receiver down (connections closed), then back: everything arrives, in order per site.
    func testReceiverDownThenBack() async throws {
        let warehouse = W()
        let receiver = try StandInReceiver(respond: Providers.webhook(secret: secret))
        var events: [W.Event] = []
        for site in 0..<5 {
            events.append(W.track("s\(site)-1", "2026-11-02T10:0\(site):00Z", "https://s\(site).example"))
            events.append(W.deactivate("s\(site)-2", "2026-11-02T11:0\(site):00Z", "https://s\(site).example"))
            events.append(W.track("s\(site)-3", "2026-11-02T12:0\(site):00Z", "https://s\(site).example"))
        }
        receiver.setDown(true)
        try setUp(warehouse, receiver, events: events)
        let worker = warehouse.worker { $0.inFlightMax = 2 }
        for _ in 0..<5 { await worker.runOnce() }
        let failing = try warehouse.deliveries(.pending)
        XCTAssertEqual(failing.count, 15)
        XCTAssertTrue(failing.filter { $0.entry.id.hasSuffix("-2") || $0.entry.id.hasSuffix("-3") }.allSatisfy { $0.entry.attempts == 0 },
                      "a site's later deliveries wait for its first")
        XCTAssertTrue(failing.contains { $0.entry.attempts > 0 && $0.entry.lastError != nil })
        receiver.setDown(false)
        try await deliver(worker) { (try warehouse.deliveries(.delivered)).count == 15 }
        let ids = receiver.requests.compactMap(\.deliveryID)
        for site in 0..<5 {
            XCTAssertEqual(ids.filter { $0.hasPrefix("s\(site)-") }, ["s\(site)-1", "s\(site)-2", "s\(site)-3"])
        }
        await worker.shutdown()
    }

    /// A torn last line (a writer killed mid-record) is ignored on replay and cut by the next
    /// append; a damaged line does not stop the replay.
    func testTornTailIsCutAndDamageIsSkipped() throws {
        let data = makeTemporaryDirectory()
        let store = OutboxStore(dataDirectory: data)
        let log = store.log(projectID: "acme", integrationID: "hooks")
        func event(_ id: String) -> LifecycleEvent {
            LifecycleEvent(id: id, type: .activated, projectID: "acme", siteKey: "a.example", occurredAtMicros: 1_000_000,
                           body: JSONObject([("id", .string(id))]))
        }
        XCTAssertEqual(try log.add([event("e1"), event("e2"), event("e1")]), 2)
        let path = data + "/outbox/acme/hooks/log.ndjson"
        let fd = open(path, O_WRONLY | O_APPEND)
        _ = "{\"op\":\"delivered\",\"id\":\"e1\",\"at\":\"2026-".withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let reopened = OutboxStore(dataDirectory: data).log(projectID: "acme", integrationID: "hooks")
        XCTAssertEqual(try reopened.entries().map(\.status), [.pending, .pending], "the torn record is not acknowledged")
        try reopened.record("e2", outcome: AttemptRecord(kind: .delivered, atMicros: 2_000_000, status: 200, error: nil))
        let text = String(decoding: try FileIO.readFile(path), as: UTF8.self)
        XCTAssertFalse(text.contains("2026-{"), "the torn tail was cut before appending")
        XCTAssertEqual(text.split(separator: "\n").count, 3)
        XCTAssertEqual(try OutboxStore(dataDirectory: data).log(projectID: "acme", integrationID: "hooks").entries().map(\.status),
                       [.pending, .delivered])
        // Damage in the middle is skipped, the rest replays.
        var bytes = try FileIO.readFile(path)
        bytes.insert(contentsOf: Array("not json\n".utf8), at: 0)
        try FileIO.writeFileAtomically(path, bytes)
        let damaged = OutboxStore(dataDirectory: data).log(projectID: "acme", integrationID: "hooks")
        XCTAssertEqual(try damaged.entries().count, 2)
        XCTAssertEqual(damaged.damagedLines, 1)
    }

    /// A privacy erase drops the subject's entries (by site or email) from the files.
    func testDropEntriesRemovesTheSubjectFromTheFiles() async throws {
        let warehouse = W()
        let receiver = try StandInReceiver(respond: Providers.webhook(secret: secret))
        try setUp(warehouse, receiver, events: [
            W.track("p1", "2026-11-02T10:00:00Z", "https://p.example", email: "Erase.Me@Example.com"),
            W.track("q1", "2026-11-02T10:00:00Z", "https://q.example", email: "keep@example.com"),
            W.track("r1", "2026-11-02T10:00:00Z", "https://r.example", email: "other@example.com"),
        ])
        let worker = warehouse.worker()
        try await deliver(worker) { (try warehouse.deliveries(.delivered)).count == 3 }
        let store = OutboxStore(dataDirectory: warehouse.data)
        XCTAssertEqual(try store.dropEntries(projectID: "acme", siteKeys: ["r.example"], emails: [" erase.me@example.com "]), 2)
        XCTAssertEqual(try warehouse.deliveries().map(\.entry.id), ["q1"])
        for file in FileIO.walkFiles(warehouse.data + "/outbox", includeHidden: true) {
            let text = String(decoding: try FileIO.readFile(file), as: UTF8.self).lowercased()
            XCTAssertFalse(text.contains("erase.me@example.com"), file)
            XCTAssertFalse(text.contains("r.example"), file)
        }
        await worker.shutdown()
    }

    func testRegistryErrorsNameProjectAndField() {
        let registry = """
        {"projects":[{"id":"acme","hash":"h1","integrations":[
          {"id":"a","kind":"webhook","url":"https://x.example/in","secret_env":"S","since":"2026-12-01T00:00:00Z"},
          {"id":"b","kind":"telegraph","since":"2026-12-01T00:00:00Z"},
          {"id":"c","kind":"webhook","url":"https://x.example/in","since":"2026-12-01T00:00:00Z"},
          {"id":"d","kind":"webhook","url":"https://x.example/in","secret_env":"S","since":"yesterday"},
          {"id":"a","kind":"webhook","url":"https://y.example/in","secret_env":"S","since":"2026-12-01T00:00:00Z"},
          {"id":"e","kind":"brevo","api_key_env":"K","list_id":"abc","since":"2026-12-01T00:00:00Z"},
          {"id":"f","kind":"webhook","url":"ftp://x","secret_env":"S","since":"2026-12-01T00:00:00Z"}]},
         {"id":"beta","hash":"h2","integrations":[
          {"id":"m","kind":"mailchimp","base_url":"https://us21.api.mailchimp.com","api_key_env":"K","list_id":"l1","since":"2026-12-01T00:00:00Z","tags":{"activated":"on"}}]}]}
        """
        let catalog = IntegrationCatalog.parse(registry: Array(registry.utf8))
        XCTAssertEqual(catalog.byProject["acme"]?.map(\.id), ["a"])
        XCTAssertEqual(catalog.byProject["beta"]?.first?.tags["activated"], "on")
        let messages = catalog.errors.map(\.description)
        XCTAssertEqual(messages.count, 6, "\(messages)")
        XCTAssertTrue(messages[0].hasPrefix("project acme: integrations[1].kind: unknown kind \"telegraph\""), messages[0])
        XCTAssertTrue(messages[1].hasPrefix("project acme: integrations[2].secret_env: is required"), messages[1])
        XCTAssertTrue(messages[2].hasPrefix("project acme: integrations[3].since:"), messages[2])
        XCTAssertTrue(messages[3].hasPrefix("project acme: integrations[4].id: duplicate id \"a\""), messages[3])
        XCTAssertTrue(messages[4].hasPrefix("project acme: integrations[5].list_id:"), messages[4])
        XCTAssertTrue(messages[5].hasPrefix("project acme: integrations[6].url:"), messages[5])
    }

    func testWebhookSignatureIsHMACOfTimestampDotBody() {
        let body = Array("{\"id\":\"e1\"}".utf8)
        let signature = WebhookKind.signature(secret: "s3cr3t", timestamp: 1_700_000_000, body: body)
        // HMAC-SHA256("s3cr3t", "1700000000.{\"id\":\"e1\"}"), computed independently with Python's hmac module.
        XCTAssertEqual(signature, "t=1700000000,v1=a2953b8eba2bd400d66b003565aa6f85124e52c1a45ec3c1d891c836af05b5ce")
    }

    func testBackoffIsExponentialCappedAndBoundedByTheWindow() {
        var options = DeliveryWorker.Options()
        options.backoffBaseSeconds = 2
        options.backoffMaxSeconds = 60
        options.jitter = { 1.0 }
        var entry = OutboxLog.Entry(id: "e", siteKey: "s", type: "site.activated", occurredAtMicros: 0, addedAtMicros: 0, sequence: 0)
        entry.firstAttemptAtMicros = 0
        let now: Int64 = 10_000_000
        for (attempts, expected) in [(0, 2.0), (1, 4.0), (2, 8.0), (5, 60.0)] {
            entry.attempts = attempts
            let record = DeliveryWorker.record(for: .retry(status: 500, error: "x"), entry: entry, nowMicros: now, options: options)
            XCTAssertEqual(record.kind, .attempt)
            XCTAssertEqual(Double(record.nextAttemptAtMicros! - now) / 1e6, expected, accuracy: 0.001)
        }
        let honoured = DeliveryWorker.record(for: .retry(status: 429, error: "x", retryAfterSeconds: 120), entry: entry, nowMicros: now, options: options)
        XCTAssertEqual(honoured.nextAttemptAtMicros! - now, 120_000_000)
        let late = DeliveryWorker.record(for: .retry(status: 500, error: "x"), entry: entry, nowMicros: 86_400_000_000, options: options)
        XCTAssertEqual(late.kind, .dead)
        XCTAssertEqual(DeliveryOutcome.from(HTTPAnswer(status: 404), what: "w"), .dead(status: 404, error: "w: HTTP 404"))
        XCTAssertEqual(DeliveryOutcome.from(HTTPAnswer(status: 408), what: "w"), .retry(status: 408, error: "w: HTTP 408", retryAfterSeconds: nil))
        XCTAssertEqual(DeliveryOutcome.from(HTTPAnswer(status: 204), what: "w"), .delivered(status: 204))
    }
}
