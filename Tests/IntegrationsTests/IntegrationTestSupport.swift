import ColumnStore
import Core
import Foundation
import Logging
@testable import Integrations
@_exported import TrackhouseTestSupport
import XCTest

/// A data folder with one project (`acme`), raw files written as ingest writes them, and
/// compaction run in-process: the committed events the integrations follow.
struct TestWarehouse {
    static let projectHash = "a4a8da5b-b419-4656-98e9-4a42e9044891"
    let data: String

    init(_ name: String = #function) {
        data = makeTemporaryDirectory("integrations-" + name)
    }

    struct Event {
        var id: String
        var at: String
        var route = "track"
        var url: String? = nil
        var email: String? = nil
        var firstName: String? = nil
        var lastName: String? = nil
        var reason: String? = nil
    }

    static func track(_ id: String, _ at: String, _ url: String, email: String? = "admin@example.com", first: String? = "Ada", last: String? = "Lovelace") -> Event {
        Event(id: id, at: at, route: "track", url: url, email: email, firstName: first, lastName: last)
    }
    static func deactivate(_ id: String, _ at: String, _ url: String, email: String? = "admin@example.com", reason: String? = "other") -> Event {
        Event(id: id, at: at, route: "deactivate", url: url, email: email, firstName: "Ada", lastName: "Lovelace", reason: reason)
    }
    static func skip(_ id: String, _ at: String, _ url: String?) -> Event {
        Event(id: id, at: at, route: "tracking-skipped", url: url)
    }

    /// Writes projects.json with `integrations` for project acme.
    func register(_ integrations: [[String: Any]]) throws {
        let registry: [String: Any] = ["projects": [["id": "acme", "name": "Acme", "type": "plugin", "hash": Self.projectHash,
                                                     "tokens": [], "integrations": integrations]],
                                       "admin_tokens": []]
        try FileIO.writeFileAtomically(data + "/projects.json", Array(try JSONSerialization.data(withJSONObject: registry)))
    }

    /// One raw file per call (name unique by `file`), lines in the given order.
    func writeRaw(_ events: [Event], file: String) throws {
        var byPath: [String: [UInt8]] = [:]
        for event in events {
            let micros = UTCTime.parseISO(event.at)!
            let c = UTCTime.civil(micros: micros)
            let folder = String(format: "%@/raw/%@/%04d/%02d/%02d/%02d", data, event.route, c.year, c.month, c.day, c.hour)
            var payload: [String: Any] = ["hash": Self.projectHash]
            if let url = event.url { payload["url"] = url; payload["site"] = "Site " + url }
            if let email = event.email { payload["admin_email"] = email }
            if let first = event.firstName { payload["first_name"] = first }
            if let last = event.lastName { payload["last_name"] = last }
            if let reason = event.reason { payload["reason_id"] = reason; payload["reason_info"] = "why not" }
            if event.route == "tracking-skipped" { payload["previously_skipped"] = "0" }
            let envelope: [String: Any] = ["v": 1, "id": event.id, "received_at": UTCTime.formatEnvelope(micros: micros),
                                           "route": event.route, "ip": "203.0.113.9",
                                           "user_agent": "Appsero/0123456789abcdef0123456789abcdef;", "payload": payload]
            var line = Array(try JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys]))
            line.append(0x0A)
            byPath[folder + "/" + file + ".ndjson", default: []] += line
        }
        for (path, bytes) in byPath {
            try FileIO.makeDirectories(FileIO.parentDirectory(path))
            try FileIO.writeFileAtomically(path, bytes)
        }
    }

    @discardableResult
    func compact() throws -> CompactionReport {
        var options = Compactor.Options()
        options.includeOpenHours = true
        options.mergePolicy = .tiered
        return try Compactor(dataDirectory: data, options: options, logger: quietLogger).run()
    }

    func worker(_ configure: (inout DeliveryWorker.Options) -> Void = { _ in }) -> DeliveryWorker {
        var options = DeliveryWorker.Options()
        options.pollIntervalSeconds = 0.05
        options.backoffBaseSeconds = 0.05
        options.backoffMaxSeconds = 0.2
        options.jitter = { 1.0 }
        options.http.requestTimeoutSeconds = 2
        options.http.connectTimeoutSeconds = 1
        configure(&options)
        return DeliveryWorker(dataDirectory: data, warehouse: WarehouseReader(dataDirectory: data), options: options, logger: quietLogger)
    }

    func deliveries(_ status: OutboxLog.Status? = nil) throws -> [DeliveryListItem] {
        try OutboxStore(dataDirectory: data).deliveries(projectID: "acme", status: status)
    }
}

/// Runs `worker.runOnce()` until `done` holds (or fails after `seconds`).
func deliver(_ worker: DeliveryWorker, seconds: Double = 20, file: StaticString = #filePath, line: UInt = #line,
             until done: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        await worker.runOnce()
        if try done() { return }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
    XCTFail("not done within \(seconds) s", file: file, line: line)
}

extension StandInReceiver.Request {
    var deliveryID: String? { header("Trackhouse-Delivery") }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
}
