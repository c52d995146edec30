import Hummingbird

/// The Appsero SDK's routes that are not telemetry: license activation, deactivation and
/// checks (`public/license/{hash}/{action}`) and update checks (`update/{hash}/{action}`).
///
/// Trackhouse does not serve licenses or updates. These requests arrive when a site's
/// `appsero_endpoint` filter points here, and that filter is global in the SDK: it redirects
/// every Appsero client on the site, other vendors' included. Their SDK waits for this answer
/// and parses it as JSON, so it gets a definite one: 404 `not_found` with a message saying what
/// Trackhouse serves and where the fix is, rather than the generic "no route" answer.
struct SDKOtherRoutes {
    static let message = "Trackhouse handles only telemetry (POST /track, /deactivate, /tracking-skipped); "
        + "Appsero license and update requests are not served here. If a site's appsero_endpoint filter sends them here, "
        + "scope the redirect to your project's telemetry (README: Sending from a plugin)"

    static let paths = ["public/license/:hash/:action", "update/:hash/:action"]

    func register(on router: Router<TrackhouseRequestContext>, table: RouteTable) {
        for path in Self.paths {
            for method in [HTTPRequest.Method.post, .get] {
                table.on(router, method, path) { _, _ -> Response in
                    JSONResponse.error(status: 404, code: "not_found", message: Self.message)
                }
            }
        }
    }
}
