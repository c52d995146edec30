import Core
import Hummingbird

extension APIRoutes {
    /// `GET …/projects/{id}/stats?from&to`.
    func stats(_ request: Request, _ projectID: String) async throws -> Response {
        _ = try access.project(projectID, for: request)
        let range = try APIParameters(request).timeRange()
        let charts = self.charts
        return try await cachedJSON(request, version: chartsVersion(request, instantParameter: "to")) {
        let stats = try await self.serverQuery { try charts.stats(projectID: projectID, range: range) }
        let object = JSONObject([
            ("opt_in_sites", .number(String(stats.optInSites))),
            ("new_sites", .number(String(stats.newSites))),
            ("deactivations", .number(String(stats.deactivations))),
            ("skipped", .number(String(stats.skipped))),
            ("active_sites", .number(String(stats.activeSites))),
        ])
        return .object(object)
        }
    }
}
