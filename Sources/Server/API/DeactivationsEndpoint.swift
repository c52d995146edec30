import Hummingbird
import Ingest
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
        let (reasons, events) = try await BlockingWork.serverQuery {
            let reasons = try engine.execute(sql: """
                SELECT reason_id, count(*) AS n FROM events WHERE \(filter)
                GROUP BY 1 ORDER BY 2 DESC, 1 ASC NULLS LAST
                """, scope: .project(projectID))
            let events = try engine.execute(sql: """
                SELECT * FROM events WHERE \(filter)
                ORDER BY received_at DESC, event_id DESC LIMIT \(perPage) OFFSET \(offset)
                """, scope: .project(projectID))
            return (reasons, events)
        }
        var total: Int64 = 0
        let reasonList: [JSONValue] = reasons.rows.map { row in
            if case .int64(let n) = row[1] { total += n }
            return .object(JSONObject([("reason_id", row[0].apiJSON), ("count", row[1].apiJSON)]))
        }
        let object = JSONObject([
            ("reasons", .array(reasonList)),
            ("total", .number(String(total))),
            ("events", .array(events.rowObjects)),
        ])
        return APIResponses.json(.object(object), for: request)
    }
}
