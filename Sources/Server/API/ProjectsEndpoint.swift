import Core
import Hummingbird

extension APIRoutes {
    /// `GET /api/v1/projects`: the projects the token may see, in registry order.
    func projects(_ request: Request) async throws -> Response {
        let grant = try access.grant(for: request)
        let visible = access.registry.registry.projects.filter { grant.canSee($0.id) }
        let list: [JSONValue] = visible.map { project in
            .object(JSONObject([("id", .string(project.id)), ("name", .string(project.name)), ("type", .string(project.type))]))
        }
        return APIResponses.json(.object(JSONObject([("projects", .array(list))])), for: request)
    }
}
