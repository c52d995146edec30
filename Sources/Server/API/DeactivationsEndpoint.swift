import Core
import Hummingbird
import Query

extension APIRoutes {
    /// `GET …/projects/{id}/deactivations?from&to&page&per_page`: reasons counted over the
    /// range (most frequent first, then reason_id ascending, NULL last), their total, and one
    /// page of the events newest first.
    func deactivations(_ request: Request, _ projectID: String) async throws -> Response {
        _ = try access.project(projectID, for: request)
        let parameters = APIParameters(request)
        let range = try parameters.timeRange()
        let (_, perPage, offset) = try parameters.pagination()
        let filter = "event = 'deactivate' AND \(SQLText.inRange("received_at", range))"
        let engine = self.engine
        let charts = self.charts
        return try await cachedJSON(request, version: chartsVersion(request, instantParameter: "to")) {
        let (reasons, events) = try await self.serverQuery { () -> ([(reason: Value, count: Int64)], QueryResult) in
            // With rollups: reasons from the rollup, and the page's events from the row groups
            // at or after the (offset + per_page)-th newest deactivation only.
            if let summary = charts.deactivationSummary(projectID: projectID, range: range, newest: offset + perPage) {
                let window = TimeRange(from: summary.pageFrom, to: range.to)
                let events = try engine.execute(sql: """
                    SELECT * FROM events WHERE event = 'deactivate' AND \(SQLText.inRange("received_at", window))
                    ORDER BY received_at DESC, event_id DESC LIMIT \(perPage) OFFSET \(offset)
                    """, scope: .project(projectID))
                return (summary.reasons, events)
            }
            let reasons = try DeactivationReasons.scanned(engine: engine, projectID: projectID, range: range)
            let events = try engine.execute(sql: """
                SELECT * FROM events WHERE \(filter)
                ORDER BY received_at DESC, event_id DESC LIMIT \(perPage) OFFSET \(offset)
                """, scope: .project(projectID))
            return (reasons, events)
        }
        var total: Int64 = 0
        let reasonList: [JSONValue] = reasons.map { reason in
            total += reason.count
            return .object(JSONObject([("reason_id", reason.reason.apiJSON), ("count", .number(String(reason.count)))]))
        }
        let object = JSONObject([
            ("reasons", .array(reasonList)),
            ("total", .number(String(total))),
            ("events", .array(events.rowObjects)),
        ])
        return .object(object)
        }
    }
}
