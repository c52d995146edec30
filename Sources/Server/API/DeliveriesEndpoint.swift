import Core
import Hummingbird
import Integrations

extension APIRoutes {
    /// `GET …/projects/{id}/deliveries?status=pending|delivered|dead&page&per_page` (CONTRACT §8):
    /// `{"total","deliveries":[…]}`, newest first (occurred_at, then integration, then id);
    /// without `status`, every delivery. Same tokens as the other project routes.
    func deliveries(_ request: Request, _ projectID: String) async throws -> Response {
        _ = try access.project(projectID, for: request)
        let parameters = APIParameters(request)
        var status: OutboxLog.Status?
        if let text = parameters["status"], !text.isEmpty {
            guard let parsed = OutboxLog.Status(rawValue: text) else {
                throw APIParameters.invalid("status", "unknown value \"\(text)\"; expected one of pending, delivered, dead")
            }
            status = parsed
        }
        let (page, perPage, _) = try parameters.pagination()
        let outboxes = self.outboxes
        let wanted = status
        let json = try await BlockingWork.run(tenant: projectID) { _ in
            try outboxes.deliveriesJSON(projectID: projectID, status: wanted, page: page, perPage: perPage)
        }
        return APIResponses.json(json, for: request)
    }
}
