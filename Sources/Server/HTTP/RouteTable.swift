import HTTPTypes
import Hummingbird
import Synchronization

/// The routes the router was given, by path pattern and method: what `EdgeErrorMiddleware`
/// needs to tell 405 (the path exists, the method does not; `Allow` lists the methods) from
/// 404. Hummingbird keeps its trie to itself, so registration notes each route here as well
/// (`RouteTable.on`), and this is the one place that does.
final class RouteTable: Sendable {
    private let entries = Mutex<[(method: HTTPRequest.Method, segments: [Substring])]>([])

    /// Registers `handler` on `router` for `method` and `path` and notes the pair.
    func on<Context: RequestContext>(
        _ router: Router<Context>, _ method: HTTPRequest.Method, _ path: String,
        use handler: @escaping @Sendable (Request, Context) async throws -> Response
    ) {
        router.on(RouterPath(stringLiteral: path), method: method, use: handler)
        note(method, path)
    }

    func note(_ method: HTTPRequest.Method, _ path: String) {
        let segments = path.split(separator: "/")
        entries.withLock { $0.append((method, segments)) }
    }

    /// Every registered route as OpenAPI writes it: the method in upper case and the path with a
    /// leading `/` and `{name}` for each `:name` segment (`GET /api/v1/projects/{id}/stats`).
    /// `HEAD` is not listed: Hummingbird answers it wherever `GET` is.
    var routes: [(method: String, path: String)] {
        entries.withLock { entries in
            entries.map { entry in
                let segments = entry.segments.map { segment -> String in segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment) }
                return (entry.method.rawValue, "/" + segments.joined(separator: "/"))
            }
        }
    }

    /// The methods some route takes at `path` (`HEAD` wherever `GET` is), sorted; empty when
    /// no route pattern matches the path.
    func allowedMethods(path: String) -> [String] {
        let segments = path.split(separator: "/")
        var methods = Set<String>()
        entries.withLock { entries in
            for entry in entries where Self.matches(entry.segments, segments) {
                methods.insert(entry.method.rawValue)
                if entry.method == .get { methods.insert("HEAD") }
            }
        }
        return methods.sorted()
    }

    private static func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        guard pattern.count == path.count else { return false }
        for (expected, actual) in zip(pattern, path) where !expected.hasPrefix(":") && expected != actual {
            return false
        }
        return true
    }
}

/// Every error the router answers is `{"error","message"}` (CONTRACT §1's shape):
/// - no route at the path: 404 `not_found`; a route at the path but not for the method: 405
///   `method_not_allowed` with `Allow`;
/// - Hummingbird's own `HTTPError`s (a body it could not read, …) keep their status and get
///   the JSON shape;
/// - any other error a handler throws is a 500 `internal_error` whose message names no file
///   or path (the log has the details).
/// Our handlers' `APIError`s render themselves in that shape already and pass through.
struct EdgeErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let table: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            if error.status == .notFound {
                let path = request.uri.path
                let allowed = table.allowedMethods(path: path)
                guard allowed.isEmpty else {
                    var response = JSONResponse.error(
                        status: 405, code: "method_not_allowed",
                        message: "\(request.method.rawValue) is not allowed on \(Self.shown(path)); use \(allowed.joined(separator: ", "))")
                    response.headers[.allow] = allowed.joined(separator: ", ")
                    return Self.headless(response, for: request)
                }
                return Self.headless(JSONResponse.error(
                    status: 404, code: "not_found",
                    message: "no route \(request.method.rawValue) \(Self.shown(path)); the routes are listed in the README's HTTP surface"),
                    for: request)
            }
            var response = JSONResponse.error(status: error.status.code, code: Self.code(for: error.status),
                                              message: error.body ?? error.status.reasonPhrase)
            for field in error.headers where field.name != .contentLength && field.name != .contentType {
                response.headers.append(field)
            }
            return Self.headless(response, for: request)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            context.logger.error("unhandled error answering a request", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return JSONResponse.error(status: 500, code: "internal_error",
                                      message: "the server failed to answer this request; the server log has the details")
        }
    }

    /// A path as echoed in a message: at most 200 characters.
    static func shown(_ path: String) -> String {
        path.count > 200 ? String(path.prefix(200)) + "…" : path
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: return "bad_request"
        case 401: return "unauthorized"
        case 403: return "forbidden"
        case 404: return "not_found"
        case 405: return "method_not_allowed"
        case 408: return "request_timeout"
        case 413: return "payload_too_large"
        case 415: return "unsupported_media_type"
        case 429: return "rate_limited"
        case 503: return "unavailable"
        case 500..<600: return "internal_error"
        default: return "error"
        }
    }

    /// A `HEAD` answer keeps the headers (`Content-Length` of the body it would have had) and
    /// drops the body.
    static func headless(_ response: Response, for request: Request) -> Response {
        request.method == .head ? response.createHeadResponse() : response
    }
}
