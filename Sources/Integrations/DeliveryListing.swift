import Core

/// One delivery as the deliveries API and CLI show it (CONTRACT §8). Never a secret, never the body.
public struct DeliveryListItem: Sendable {
    public var integrationID: String
    public var entry: OutboxLog.Entry

    public var json: JSONValue {
        let entry = self.entry
        return .object(JSONObject([
            ("id", .string(entry.id)),
            ("integration", .string(integrationID)),
            ("type", .string(entry.type)),
            ("status", .string(entry.status.rawValue)),
            ("attempts", .number(String(entry.attempts))),
            ("last_status", entry.lastStatus.map { .number(String($0)) } ?? .null),
            ("last_error", entry.lastError.map { .string($0) } ?? .null),
            ("next_attempt_at", entry.status == .pending ? entry.nextAttemptAtMicros.map { .string(UTCTime.formatISO(micros: $0)) } ?? .null : .null),
            ("delivered_at", entry.deliveredAtMicros.map { .string(UTCTime.formatISO(micros: $0)) } ?? .null),
        ]))
    }
}

extension OutboxStore {
    /// The deliveries of a project (every integration with an outbox), newest first
    /// (occurred_at, then integration id, then delivery id), optionally of one status.
    public func deliveries(projectID: String, status: OutboxLog.Status? = nil, integrationID: String? = nil) throws -> [DeliveryListItem] {
        var items: [DeliveryListItem] = []
        for log in logs(projectID: projectID) where integrationID == nil || log.integrationID == integrationID {
            for entry in try log.entries() where status == nil || entry.status == status {
                items.append(DeliveryListItem(integrationID: log.integrationID, entry: entry))
            }
        }
        items.sort { a, b in
            if a.entry.occurredAtMicros != b.entry.occurredAtMicros { return a.entry.occurredAtMicros > b.entry.occurredAtMicros }
            if a.integrationID != b.integrationID { return a.integrationID < b.integrationID }
            return a.entry.id > b.entry.id
        }
        return items
    }

    /// `{"total":n,"deliveries":[…]}` for one page (1-based).
    public func deliveriesJSON(projectID: String, status: OutboxLog.Status?, page: Int, perPage: Int) throws -> JSONValue {
        let items = try deliveries(projectID: projectID, status: status)
        let start = min(items.count, (page - 1) * perPage)
        let end = min(items.count, start + perPage)
        return .object(JSONObject([("total", .number(String(items.count))),
                                   ("deliveries", .array(items[start..<end].map(\.json)))]))
    }

    /// Dead deliveries back to pending (`trackhouse deliveries retry`): of every project or
    /// one, every integration or one, every dead delivery or one id. Returns how many.
    public func retryDead(projectID: String? = nil, integrationID: String? = nil, deliveryID: String? = nil) throws -> Int {
        var count = 0
        for project in projectIDs() where projectID == nil || project == projectID {
            for log in logs(projectID: project) where integrationID == nil || log.integrationID == integrationID {
                count += try log.retryDead(ids: deliveryID.map { [$0] })
            }
        }
        return count
    }
}
