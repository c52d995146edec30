import ColumnStore
import Query

/// "Each site's latest event before T": per site_key, the event with the greatest
/// `(received_at, event_id)` among one project's events in a time window. SQL without window
/// functions cannot pick a row per group, so this reads the events row groups directly:
/// only the project's partition, only row groups whose `received_at` statistics overlap the
/// window, only the columns needed.
struct LatestEventScan {
    struct LatestEvent {
        var receivedAt: Int64
        var eventID: String
        var event: String?
        /// The requested extra column's value (`.null` when none was asked for).
        var value: Value
    }

    let catalog: any Catalog

    /// The latest event per non-NULL site_key among the project's events received in `window`.
    func latestPerSite(projectID: String, window: TimeRange, column: String? = nil) throws -> [String: LatestEvent] {
        guard let table = try catalog.table(named: "events") else {
            throw QueryError(.catalog, "the catalog has no events table")
        }
        var latest: [String: LatestEvent] = [:]
        for unit in try table.scanUnits(projectID: projectID) {
            if let stats = unit.statistics(column: "received_at"), Self.outside(window, stats) { continue }
            guard let receivedAt = try unit.readColumn(name: "received_at"),
                  let eventIDs = try unit.readColumn(name: "event_id"),
                  let siteKeys = try unit.readColumn(name: "site_key") else { continue }
            let events = try unit.readColumn(name: "event")
            let values = try column.flatMap { try unit.readColumn(name: $0) }
            for row in 0..<unit.rowCount {
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

    /// Whether a row group's `received_at` range misses the window entirely.
    private static func outside(_ window: TimeRange, _ stats: ColumnStatistics) -> Bool {
        if case .timestamp(let max)? = stats.max, max < window.from { return true }
        if case .timestamp(let min)? = stats.min, min >= window.to { return true }
        return false
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
