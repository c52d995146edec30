import ColumnStore
import Core
import Foundation
@testable import Integrations
import XCTest

/// The outbox over a long run (compaction keeps it bounded, and what it drops is never sent
/// again) and on a disk that fills and frees (nothing lost or reordered per site).
final class OutboxCompactionAndDiskFullTests: XCTestCase {
    typealias W = TestWarehouse
    let secret = "whsec-compaction"

    override func setUp() {
        setenv("TEST_COMPACTION_SECRET", secret, 1)
    }

    func event(_ id: String, site: String, atMicros: Int64) -> LifecycleEvent {
        LifecycleEvent(id: id, type: .activated, projectID: "acme", siteKey: site, occurredAtMicros: atMicros,
                       body: JSONObject([("id", .string(id)), ("padding", .string(String(repeating: "x", count: 500)))]))
    }

    /// 40 "days" of 100 entries each, delivered (and some dead) the same day, a few left
    /// pending; compaction with a 2-day retention each day. The file stays within a bound set
    /// by the retention (not by the run's length); pending entries and young decided ones stay
    /// in order; a replay of dropped ids (a rescan) adds nothing, a new id is added.
    func testCompactionBoundsTheFileOverALongRun() throws {
        let data = makeTemporaryDirectory()
        let log = OutboxStore(dataDirectory: data).log(projectID: "acme", integrationID: "hooks")
        let path = data + "/outbox/acme/hooks/log.ndjson"
        let day: Int64 = 86_400_000_000
        let start: Int64 = 1_780_000_000_000_000
        var sizes: [Int] = []
        var everyID: [(id: String, atMicros: Int64)] = []
        for dayIndex in 0..<40 {
            let now = start + Int64(dayIndex) * day
            let events = (0..<100).map { event("d\(dayIndex)-e\($0)", site: "s\($0 % 10).example", atMicros: now + Int64($0)) }
            XCTAssertEqual(try log.add(events, nowMicros: now), 100)
            everyID += events.map { ($0.id, $0.occurredAtMicros) }
            // All but the last event of sites 0 and 1 are decided (a site's later entries wait
            // for its earlier ones, so the undecided stay the newest of their site).
            var outcomes: [(id: String, outcome: AttemptRecord)] = []
            for (index, event) in events.enumerated() where !(index >= 80 && index % 10 < 2) {
                let kind: AttemptRecord.Kind = index % 50 == 7 ? .dead : .delivered
                outcomes.append((event.id, AttemptRecord(kind: kind, atMicros: now + 1_000, status: kind == .dead ? 410 : 200, error: nil)))
            }
            try log.record(outcomes)
            try log.compact(nowMicros: now + 2_000, retentionSeconds: 2 * 86_400)
            sizes.append(Int(try FileIO.readFile(path).count))
        }
        let oneDay = sizes[0]
        // Retention 2 days: two days of entries plus the pending ones (4 a day, ~650 bytes each).
        XCTAssertLessThan(sizes.max()!, 3 * oneDay + 40 * 4 * 800, "sizes per day: \(sizes)")
        XCTAssertLessThan(sizes.last!, sizes[2] + 40 * 4 * 800, "the file must not grow with the run's length")

        let entries = try OutboxStore(dataDirectory: data).log(projectID: "acme", integrationID: "hooks").entries()
        // What the writer keeps in memory (its own records applied without a re-read) is what a
        // reader replays from the file.
        func summary(_ entries: [OutboxLog.Entry]) -> [String] {
            entries.map { "\($0.id)|\($0.status)|\($0.attempts)|\($0.sequence)|\($0.decidedAtMicros ?? -1)|\($0.lastStatus ?? -1)" }
        }
        XCTAssertEqual(summary(try log.entries()), summary(entries))
        let pending = entries.filter { $0.status == .pending }
        XCTAssertEqual(pending.count, 40 * 4, "every undecided entry survives compaction")
        XCTAssertEqual(pending.map(\.id), pending.sorted { $0.sequence < $1.sequence }.map(\.id))
        XCTAssertEqual(pending.filter { $0.siteKey == "s0.example" }.map(\.id),
                       (0..<40).flatMap { ["d\($0)-e80", "d\($0)-e90"] }, "a site's pending entries keep their order")
        XCTAssertTrue(entries.contains { $0.id == "d39-e0" && $0.status == .delivered }, "decided within the retention: kept")
        XCTAssertTrue(entries.contains { $0.id == "d38-e7" && $0.status == .dead }, "dead within the retention: kept for retry")
        XCTAssertFalse(entries.contains { $0.id == "d10-e0" }, "decided long ago: dropped")
        let floor = try XCTUnwrap(log.floorMicros)
        XCTAssertEqual(floor, start + 37 * day + 99, "the floor is the newest dropped occurred_at")

        // A replay of history skips every dropped id; a new event is added.
        let replay = everyID.map { event($0.id, site: "s0.example", atMicros: $0.atMicros) }
        XCTAssertEqual(try log.add(replay, belowFloor: .skip, nowMicros: start + 41 * day), 0)
        XCTAssertEqual(try log.add([event("new-1", site: "s9.example", atMicros: start + 41 * day)], belowFloor: .skip), 1)
        XCTAssertTrue(log.isKnownOrForgotten("d10-e0", occurredAtMicros: start + 10 * day))
        XCTAssertFalse(log.isKnownOrForgotten("new-2", occurredAtMicros: start + 41 * day))
        // Too few droppable entries: nothing is rewritten.
        let inode = try inodeOf(path)
        XCTAssertEqual(try log.compact(nowMicros: start + 42 * day, retentionSeconds: 2 * 86_400, minimumDropped: 100_000), 0)
        XCTAssertEqual(try inodeOf(path), inode)
        XCTAssertTrue(FileIO.list(data + "/outbox/acme/hooks").allSatisfy { ["log.ndjson", "lock"].contains($0) },
                      "no temp file left: \(FileIO.list(data + "/outbox/acme/hooks"))")
    }

    /// A dispatch's pick: log order, one head per site, not in flight, due; counts kept.
    func testScanDuePicksEachSitesOldestDueEntry() throws {
        let log = OutboxStore(dataDirectory: makeTemporaryDirectory()).log(projectID: "acme", integrationID: "hooks")
        try log.add([event("a1", site: "a", atMicros: 1), event("b1", site: "b", atMicros: 2), event("a2", site: "a", atMicros: 3),
                      event("c1", site: "c", atMicros: 4), event("d1", site: "d", atMicros: 5)], nowMicros: 100)
        try log.record("c1", outcome: AttemptRecord(kind: .attempt, atMicros: 100, status: 503, error: "busy", nextAttemptAtMicros: 10_000))
        var scan = try log.scanDue(nowMicros: 200, limit: 10, inFlight: [])
        XCTAssertEqual(scan.due.map(\.id), ["a1", "b1", "d1"], "a2 waits for a1; c1 is backing off")
        XCTAssertEqual(scan.pending, 5)
        XCTAssertEqual(scan.oldestPendingAddedAtMicros, 100)
        XCTAssertEqual(try log.scanDue(nowMicros: 200, limit: 10, inFlight: ["a1"]).due.map(\.id), ["b1", "d1"])
        XCTAssertEqual(try log.scanDue(nowMicros: 200, limit: 1, inFlight: []).due.map(\.id), ["a1"])
        try log.record([("a1", AttemptRecord(kind: .delivered, atMicros: 300, status: 200, error: nil)),
                        ("b1", AttemptRecord(kind: .dead, atMicros: 300, status: 410, error: "gone"))])
        scan = try log.scanDue(nowMicros: 20_000, limit: 10, inFlight: [])
        XCTAssertEqual(scan.due.map(\.id), ["a2", "c1", "d1"])
        XCTAssertEqual(scan.pending, 3)
        XCTAssertEqual(try log.retryDead(nowMicros: 400), 1)
        scan = try log.scanDue(nowMicros: 20_000, limit: 10, inFlight: [])
        XCTAssertEqual(scan.due.map(\.id), ["b1", "a2", "c1", "d1"], "a retried entry goes again in its place")
        XCTAssertEqual(scan.pending, 4)
    }

    /// End to end: delivered entries compacted away, then the follower's state lost (a rescan
    /// of all history): the receiver gets nothing twice; the next new event still goes.
    func testCompactedEntriesAreNeverSentAgainAfterARescan() async throws {
        let warehouse = W()
        let receiver = try StandInReceiver(respond: Providers.webhook(secret: secret))
        try warehouse.register([["id": "hooks", "kind": "webhook", "url": receiver.url + "/in",
                                 "secret_env": "TEST_COMPACTION_SECRET", "since": "2026-01-01T00:00:00Z"]])
        var events: [W.Event] = []
        for site in 0..<4 {
            events.append(W.track("c\(site)-1", "2026-11-02T10:0\(site):00Z", "https://c\(site).example"))
            events.append(W.deactivate("c\(site)-2", "2026-11-02T11:0\(site):00Z", "https://c\(site).example"))
        }
        try warehouse.writeRaw(events, file: "t1-000001")
        try warehouse.compact()
        let worker = warehouse.worker {
            $0.outboxRetentionSeconds = 0
            $0.outboxCompactMinimumDropped = 1
        }
        try await deliver(worker) { (try warehouse.deliveries(.delivered)).count == 8 }
        XCTAssertEqual(worker.compactOutboxes(catalog: worker.catalog, nowMicros: UTCTime.nowMicros() + 1_000_000), 8)
        XCTAssertTrue(try warehouse.deliveries().isEmpty)
        try FileManager.default.removeItem(atPath: warehouse.data + "/outbox/acme/lifecycle.json")
        let fresh = warehouse.worker()
        for _ in 0..<3 { await fresh.runOnce() }
        XCTAssertTrue(try warehouse.deliveries().isEmpty, "the rescan re-added compacted entries")
        try warehouse.writeRaw([W.track("c0-3", "2026-11-03T10:00:00Z", "https://c0.example")], file: "t1-000002")
        try warehouse.compact()
        try await deliver(fresh) { (try warehouse.deliveries(.delivered)).count == 1 }
        let ids = receiver.requests.compactMap(\.deliveryID)
        XCTAssertEqual(ids.count, Set(ids).count, "sent twice: \(ids)")
        XCTAssertEqual(ids.filter { $0.hasPrefix("c0-") }, ["c0-1", "c0-2", "c0-3"])
        await worker.shutdown()
        await fresh.shutdown()
    }

    /// The outbox on a real filesystem that fills (a 1 MiB tmpfs mounted over `<data>/outbox`;
    /// root only, skipped otherwise): while full, new events are not followed and outcomes are
    /// not recorded, so nothing is sent twice and no site moves on; the failures are logged
    /// once per interval, not per pass. Once space is freed every lifecycle event arrives,
    /// once, in order per site.
    func testDiskFullAndFreedLosesAndReordersNothing() async throws {
        let warehouse = W()
        let outbox = warehouse.data + "/outbox"
        try FileIO.makeDirectories(outbox)
        guard getuid() == 0, runMount(["-t", "tmpfs", "-o", "size=1m", "tmpfs", outbox]) else {
            throw XCTSkip("mounting a tmpfs needs root (mount -t tmpfs)")
        }
        defer { _ = runMount(["-l", outbox], command: "/bin/umount") }
        let receiver = try StandInReceiver(respond: Providers.webhook(secret: secret))
        try warehouse.register([["id": "hooks", "kind": "webhook", "url": receiver.url + "/in",
                                 "secret_env": "TEST_COMPACTION_SECRET", "since": "2026-01-01T00:00:00Z"]])
        func siteEvents(round: Int, hour: Int) -> [W.Event] {
            (0..<6).flatMap { site -> [W.Event] in
                let at = String(format: "2026-11-02T%02d:%02d:00Z", hour, site)
                return [W.track("f\(site)-r\(round)-a", at, "https://f\(site).example"),
                        W.deactivate("f\(site)-r\(round)-b", String(format: "2026-11-02T%02d:%02d:30Z", hour, site), "https://f\(site).example")]
            }
        }
        try warehouse.writeRaw(siteEvents(round: 0, hour: 1), file: "t1-000001")
        try warehouse.compact()
        let lines = RecordingLogHandler.Lines()
        var options = DeliveryWorker.Options()
        options.pollIntervalSeconds = 0.05
        options.backoffBaseSeconds = 0.05
        options.backoffMaxSeconds = 0.2
        options.jitter = { 1.0 }
        options.inFlightMax = 8
        let worker = DeliveryWorker(dataDirectory: warehouse.data, warehouse: WarehouseReader(dataDirectory: warehouse.data),
                                    options: options, logger: RecordingLogHandler.logger(lines))
        // The entries are in; then the disk fills before any outcome is written.
        await worker.follow()
        XCTAssertEqual(try warehouse.deliveries(.pending).count, 12)
        // tmpfs counts whole pages: the log is padded to a page boundary (a record of no entry,
        // ignored on replay) so that the next append needs a page the full disk cannot give.
        try padToPage(outbox + "/acme/hooks/log.ndjson")
        let filler = outbox + "/filler"
        fillUp(filler)
        for _ in 0..<6 { await worker.runOnce() }
        XCTAssertEqual(receiver.requests.count, 6, "each site's first delivery went once, and waits for its outcome to be written")
        // New events while full: the follower cannot add them.
        try warehouse.writeRaw(siteEvents(round: 1, hour: 2), file: "t1-000002")
        try warehouse.compact()
        for _ in 0..<6 { await worker.runOnce() }
        XCTAssertEqual(receiver.requests.count, 6, "nothing is sent twice while outcomes cannot be written")
        XCTAssertEqual(try warehouse.deliveries().count, 12, "the new events wait for space")
        XCTAssertEqual(lines.all.filter { $0.contains("writing the outbox failed") }.count, 1,
                       "logged once per interval, not once per pass: \(lines.all)")
        XCTAssertEqual(lines.all.filter { $0.contains("following the warehouse failed") }.count, 1, "\(lines.all)")

        try FileManager.default.removeItem(atPath: filler)
        try await deliver(worker) { (try warehouse.deliveries(.delivered)).count == 24 }
        let ids = receiver.requests.compactMap(\.deliveryID)
        XCTAssertEqual(ids.count, 24, "each event delivered once: \(ids)")
        for site in 0..<6 {
            XCTAssertEqual(ids.filter { $0.hasPrefix("f\(site)-") }, ["f\(site)-r0-a", "f\(site)-r0-b", "f\(site)-r1-a", "f\(site)-r1-b"])
        }
        await worker.shutdown()
    }

    private func inodeOf(_ path: String) throws -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw FileIOError(operation: "stat", path: path, errno: errno) }
        return UInt64(info.st_ino)
    }

    /// Appends one ignored record (`op` unknown, id of no entry) so the file ends at a 4 KiB boundary.
    private func padToPage(_ path: String) throws {
        let size = try FileIO.readFile(path).count
        let skeleton = "{\"op\":\"pad\",\"id\":\"-\",\"x\":\"\"}\n"
        var length = 4096 - size % 4096
        if length < skeleton.utf8.count { length += 4096 }
        let line = "{\"op\":\"pad\",\"id\":\"-\",\"x\":\"" + String(repeating: "x", count: length - skeleton.utf8.count) + "\"}\n"
        let fd = open(path, O_WRONLY | O_APPEND)
        defer { close(fd) }
        XCTAssertEqual(line.withCString { write(fd, $0, strlen($0)) }, length)
        XCTAssertEqual(try FileIO.readFile(path).count % 4096, 0)
    }

    /// Writes zeros into `path` until the filesystem refuses (ENOSPC).
    private func fillUp(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 4096)
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        XCTAssertEqual(errno, ENOSPC)
    }

    private func runMount(_ arguments: [String], command: String = "/bin/mount") -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
