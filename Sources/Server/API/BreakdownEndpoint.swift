import Core
import Hummingbird

extension APIRoutes {
    /// `GET …/projects/{id}/breakdown?dim&at&active_days&limit`.
    func breakdown(_ request: Request, _ projectID: String) async throws -> Response {
        _ = try access.project(projectID, for: request)
        let parameters = APIParameters(request)
        guard let name = parameters["dim"], !name.isEmpty else {
            throw APIParameters.invalid("dim", "required: a column of events, e.g. dim=php_minor")
        }
        let dimension = try Self.column(name, of: .events, parameter: "dim").name
        let breakdownRequest = BreakdownRequest(
            dimension: dimension,
            at: try parameters.time("at", default: UTCTime.nowMicros()),
            activeDays: try parameters.int("active_days", default: 14, range: 1...36_500),
            limit: try parameters.int("limit", default: 20, range: 0...100_000))
        // `at - active_days` is where the window starts: it must be a time the SQL layer can write.
        guard breakdownRequest.at - Int64(breakdownRequest.activeDays) * 86_400_000_000 >= UTCTime.microsMin else {
            throw APIParameters.invalid("active_days", "reaches before year 0000 from at")
        }
        let charts = self.charts
        return try await cachedJSON(request, version: chartsVersion(request, instantParameter: "at")) {
        let result = try await self.serverQuery { try charts.breakdown(projectID: projectID, request: breakdownRequest) }
        let values: [JSONValue] = result.values.map {
            .object(JSONObject([("value", $0.value.apiJSON), ("sites", .number(String($0.sites)))]))
        }
        let object = JSONObject([
            ("total", .number(String(result.total))),
            ("values", .array(values)),
            ("other", .number(String(result.other))),
        ])
        return .object(object)
        }
    }
}
