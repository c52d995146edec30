import Hummingbird

/// `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every route the server answers,
/// `Resources/openapi.json` embedded at build time (a real file, for validators and editors).
/// No token: the description is not a secret, and tools fetch it before they hold one.
///
/// `OpenAPIDocumentTests` holds the document to the router (every registered route is described
/// and nothing else is) and to the table schemas (column lists and enums); the live tests hold
/// the server's answers to the document's schemas.
enum OpenAPIDocument {
    static let path = "api/v1/openapi.json"
    static let bytes: [UInt8] = PackageResources.openapi_json

    static func register(on router: Router<TrackhouseRequestContext>, table: RouteTable) {
        table.on(router, .get, path) { request, _ -> Response in
            var response = APIResponses.bytes(bytes, contentType: APIResponses.jsonType, for: request)
            // Revalidating is cheap and an upgrade shows its new routes at once.
            response.headers[.cacheControl] = "no-cache"
            return response
        }
    }
}
