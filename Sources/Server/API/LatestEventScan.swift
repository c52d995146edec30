import ColumnStore
import Query

/// "Each site's latest event before T": per site_key, the event with the greatest
/// `(received_at, event_id)` among one project's events in a time window. SQL without window
/// functions cannot pick a row per group, so this goes through the engine's scoped scan
/// (`QueryEngine.scan`): the project's access scope applies as in SQL, only row groups whose
/// `received_at` statistics overlap the window are read, and only the columns needed.
struct LatestEventScan {
    struct LatestEvent {
        var receivedAt: Int64
        var eventID: String
        var event: String?
        /// The requested extra column's value (`.null` when none was asked for).
        var value: Value
    }

    let engine: QueryEngine

    /// The latest event per non-NULL site_key among the project's events received in `window`.
    func latestPerSite(projectID: String, window: TimeRange, column: String? = nil) throws -> [String: LatestEvent] {
        var latest: [String: LatestEvent] = [:]
        let columns = ["received_at", "event_id", "site_key", "event"] + (column.map { [$0] } ?? [])
        try engine.scan(table: "events", columns: columns, scope: .project(projectID),
                        within: ("received_at", window.from, window.to)) { unit in
            guard let receivedAt = unit.columns["received_at"], let eventIDs = unit.columns["event_id"],
                  let siteKeys = unit.columns["site_key"] else { return }
            let events = unit.columns["event"]
            let values = column.flatMap { unit.columns[$0] }
            for row in unit.rows {
                guard let time = receivedAt.int64(at: row), time >= window.from, time < window.to,
                      let site = siteKeys.string(at: row) else { continue }
                let eventID = eventIDs.string(at: row) ?? ""
                if let current = latest[site],
                   (current.receivedAt, current.eventID.utf8) >= (time, eventID.utf8) { continue }
                latest[site] = LatestEvent(receivedAt: time, eventID: eventID, event: events?.string(at: row),
                                           value: values.map { Self.value($0, row) } ?? .null)
            }
        }
        return latest
    }

    static func value(_ column: ColumnData, _ row: Int) -> Value {
        switch column.kind {
        case .string: return column.string(at: row).map(Value.string) ?? .null
        case .int64: return column.int64(at: row).map(Value.int64) ?? .null
        case .timestamp: return column.int64(at: row).map(Value.timestamp) ?? .null
        case .bool: return column.bool(at: row).map(Value.bool) ?? .null
        case .double: return column.double(at: row).map(Value.double) ?? .null
        }
    }
}

/// Tuple comparison of `(time, event_id bytes)`: event ids compare bytewise like the engine's
/// strings, so ties on `received_at` resolve as `ORDER BY received_at, event_id` would.
private func >= (a: (Int64, String.UTF8View), b: (Int64, String.UTF8View)) -> Bool {
    if a.0 != b.0 { return a.0 > b.0 }
    return !a.1.lexicographicallyPrecedes(b.1)
}
