import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Synchronization

/// Counts and times every request the router answers, by method, route template (never the
/// raw path: `/api/v1/projects/{id}/stats`, or `unmatched`) and status, and writes the access
/// log line when `--access-log` is on. The outermost middleware, so a thrown error is counted
/// with the status it becomes. The SDK routes answered on the event loop never reach the
/// router: `IngestRoutes`' counters count them, and nothing is added to that path.
///
/// The access log names the route template and never the query string or a header, so no
/// token, email or other parameter value reaches the log.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HTTPRouteMetrics
    /// Nil: no access log (the default).
    let accessLog: Logger?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let method = request.method
        do {
            var response = try await next(request, context)
            let status = response.status.code
            let route = Self.route(context.endpointPath)
            let body = response.body
            let length = body.contentLength
            // Recorded once the body is written (Hummingbird's own `withPostWriteClosure` is
            // package-internal): the duration covers a streamed export too.
            response.body = ResponseBody(contentLength: length) { writer in
                do {
                    try await body.write(writer)
                } catch {
                    self.record(method: method, route: route, status: status, bytes: nil, started: started)
                    throw error
                }
                self.record(method: method, route: route, status: status, bytes: length, started: started)
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(method: method, route: Self.route(context.endpointPath), status: status, bytes: nil, started: started)
            throw error
        }
    }

    func record(method: HTTPRequest.Method, route: String, status: Int, bytes: Int?, started: UInt64) {
        let nanoseconds = DispatchTime.now().uptimeNanoseconds - started
        metrics.record(method: method.rawValue, route: route, status: status, nanoseconds: Int64(nanoseconds))
        guard let accessLog else { return }
        var metadata: Logger.Metadata = [
            "http.method": .string(method.rawValue),
            "http.route": .string(route),
            "http.status": .stringConvertible(status),
            "duration_ms": .string(String(format: "%.3f", Double(nanoseconds) / 1e6)),
        ]
        if let bytes { metadata["bytes"] = .stringConvertible(bytes) }
        accessLog.info("request", metadata: metadata)
    }

    /// The matched route's template with a leading `/`; `unmatched` when no route matched, so
    /// a scan of random paths cannot make a label per path.
    static func route(_ endpointPath: String?) -> String {
        guard let path = endpointPath, path != "NotFound" else { return "unmatched" }
        return path.hasPrefix("/") ? path : "/" + path
    }
}

/// The request counter and latency histogram per (method, route, status), made at a
/// combination's first request and reused: routes and statuses are few.
final class HTTPRouteMetrics: Sendable {
    private struct Key: Hashable {
        let method: String
        let route: String
        let status: Int
    }
    private let series = Mutex<[Key: (Counter, Metrics.Timer)]>([:])

    func record(method: String, route: String, status: Int, nanoseconds: Int64) {
        let key = Key(method: method, route: route, status: status)
        let (counter, timer) = series.withLock { series in
            if let existing = series[key] { return existing }
            let dimensions = [("method", method), ("route", route), ("status", String(status))]
            let made = (Counter(label: "trackhouse_http_requests_total", dimensions: dimensions),
                        Metrics.Timer(label: "trackhouse_http_request_duration_seconds", dimensions: dimensions))
            series[key] = made
            return made
        }
        counter.increment()
        timer.recordNanoseconds(nanoseconds)
    }
}
