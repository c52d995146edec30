import Foundation
import Hummingbird
import Ingest

/// What a bearer token may see: every project (an admin token) or the projects whose
/// `tokens` list its digest.
enum APIGrant: Sendable, Equatable {
    case admin
    case projects(Set<String>)

    func canSee(_ projectID: String) -> Bool {
        switch self {
        case .admin: return true
        case .projects(let ids): return ids.contains(projectID)
        }
    }
}

/// Bearer-token authentication and per-project authorization (CONTRACT §7): 401 without a
/// valid token, 403 for a project the token does not cover, 404 for an admin asking for a
/// project that does not exist.
struct APIAccess: Sendable {
    let registry: RegistryStore

    func grant(for request: Request) throws -> APIGrant {
        guard let header = request.headers[.authorization] else {
            throw Unauthorized(message: "missing Authorization: Bearer <token> header")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Unauthorized(message: "the Authorization header must be \"Bearer <token>\"")
        }
        let token = String(parts[1]).trimmingCharacters(in: .whitespaces)
        guard let grant = Self.grant(tokenDigest: AccessTokens.sha256Hex(token), registry: registry.registry) else {
            throw Unauthorized(message: "the bearer token is not valid")
        }
        return grant
    }

    /// Compares the digest with every stored digest, without stopping at the first match, so
    /// the time taken does not depend on where (or whether) the token is found.
    static func grant(tokenDigest: String, registry: ProjectRegistry) -> APIGrant? {
        var isAdmin = false
        for stored in registry.adminTokenHashes where AccessTokens.constantTimeEquals(stored, tokenDigest) {
            isAdmin = true
        }
        var projects = Set<String>()
        for project in registry.projects {
            for stored in project.tokens where AccessTokens.constantTimeEquals(stored.sha256, tokenDigest) {
                projects.insert(project.id)
            }
        }
        if isAdmin { return .admin }
        return projects.isEmpty ? nil : .projects(projects)
    }

    /// The project `id` if the request's token may see it.
    func project(_ id: String, for request: Request) throws -> Project {
        let grant = try grant(for: request)
        guard grant.canSee(id) else {
            throw APIError(.forbidden, code: "forbidden", message: "this token does not give access to project \"\(id)\"")
        }
        guard let project = registry.registry.project(id: id) else {
            throw APIError(.notFound, code: "not_found", message: "no project with id \"\(id)\"")
        }
        return project
    }
}

/// 401 with the JSON error body and a `WWW-Authenticate` challenge (RFC 6750), so HTTP
/// clients know a bearer token is expected.
struct Unauthorized: Error, HTTPResponseError {
    let message: String
    var status: HTTPResponse.Status { .unauthorized }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try APIError(.unauthorized, code: "unauthorized", message: message).response(from: request, context: context)
        response.headers[.wwwAuthenticate] = "Bearer realm=\"trackhouse\""
        return response
    }
}
