import Core
import HTTPTypes
import Hummingbird
import Ingest
import Logging
import Metrics
import NIOCore

/// `POST /track`, `/deactivate`, `/tracking-skipped` (CONTRACT §1).
struct IngestRoutes: Sendable {
    let service: IngestService
    /// `counters[routeIndex * statuses.count + statusIndex]`: no string building per request.
    let counters: [Counter]

    static let statuses = [200, 400, 404, 413, 415, 429, 503]

    init(service: IngestService) {
        self.service = service
        // Metrics objects are made once with fixed dimensions, never per request.
        var counters: [Counter] = []
        for route in Envelope.Route.allCases {
            for status in Self.statuses {
                counters.append(Counter(
                    label: "trackhouse_ingest_requests_total",
                    dimensions: [("route", route.rawValue), ("status", String(status))]))
            }
        }
        self.counters = counters
    }

    func register(on router: Router<TrackhouseRequestContext>, table: RouteTable) {
        for route in Envelope.Route.allCases {
            table.on(router, .post, route.rawValue) { request, context in
                try await self.handle(route: route, request: request, context: context)
            }
        }
    }

    /// The request headers ingest reads, found in one pass over the fields (five subscript
    /// lookups were five scans, each joining values into a new `String`). Repeated fields
    /// are joined with ", " as `HTTPFields`' subscript does, which `X-Forwarded-For` needs.
    struct IngestHeaders {
        var contentLength: String?
        var contentType: String?
        var contentEncoding: String?
        var userAgent: String?
        var forwardedFor: String?

        static let forwardedForName = HTTPField.Name("X-Forwarded-For")!

        init(_ fields: HTTPFields) {
            for field in fields {
                switch field.name {
                case .contentLength: Self.join(&contentLength, field.value)
                case .contentType: Self.join(&contentType, field.value)
                case .contentEncoding: Self.join(&contentEncoding, field.value)
                case .userAgent: Self.join(&userAgent, field.value)
                case Self.forwardedForName: Self.join(&forwardedFor, field.value)
                default: break
                }
            }
        }

        /// The request `IngestService` takes: both front doors build it here.
        func request(route: Envelope.Route, peerAddress: String?, body: [UInt8]) -> IngestRequest {
            IngestRequest(route: route, contentType: contentType, contentEncoding: contentEncoding,
                          userAgent: userAgent, forwardedFor: forwardedFor, peerAddress: peerAddress, body: body)
        }

        private static func join(_ slot: inout String?, _ value: String) {
            if let existing = slot { slot = existing + ", " + value } else { slot = value }
        }
    }

    func handle(route: Envelope.Route, request: Request, context: TrackhouseRequestContext) async throws -> Response {
        let limit = service.options.bodyBytesMax
        let headers = IngestHeaders(request.headers)
        if let length = headers.contentLength.flatMap({ Int($0) }), length > limit {
            return count(route, JSONResponse.error(status: 413, code: "payload_too_large",
                                                   message: "the body is larger than \(limit) bytes"))
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            return count(route, JSONResponse.error(status: 413, code: "payload_too_large",
                                                   message: "the body is larger than \(limit) bytes"))
        }
        let ingestRequest = headers.request(route: route, peerAddress: context.peerIP, body: Array(buffer.readableBytesView))
        // Called on the request's own task: no unstructured `Task` (a task and two thread hops
        // per request, measurable on 2 cores). A client hanging up cannot abandon a
        // half-handled request: `handle` decodes synchronously and its only suspension, the
        // append's continuation, ignores cancellation, so it runs to the fsync either way.
        let outcome = await service.handle(ingestRequest)
        let (status, bytes) = answer(route, outcome)
        return JSONResponse.make(status: .init(code: status), bytes: bytes)
    }

    /// The status and JSON body for an outcome, counted: the router and the event-loop front
    /// door (`IngestChannelHandler`) answer through this one function.
    func answer(_ route: Envelope.Route, _ outcome: IngestOutcome) -> (status: Int, body: [UInt8]) {
        switch outcome {
        case .accepted(let id):
            count(route, status: 200)
            return (200, Self.acceptedBody(id: id))
        case .refused(let refusal):
            count(route, status: refusal.status)
            return (refusal.status, refusal.jsonBody)
        }
    }

    /// `{"ok":true,"id":"<id>"}`, written directly (no `JSONObject` per request).
    static func acceptedBody(id: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(id.utf8.count + 20)
        bytes.append(contentsOf: #"{"ok":true,"id":"#.utf8)
        JSONWriter.appendString(id, to: &bytes)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private func count(_ route: Envelope.Route, _ response: Response) -> Response {
        count(route, status: response.status.code)
        return response
    }

    func count(_ route: Envelope.Route, status: Int) {
        guard let routeIndex = Envelope.Route.allCases.firstIndex(of: route),
              let statusIndex = Self.statuses.firstIndex(of: status) else { return }
        counters[routeIndex * Self.statuses.count + statusIndex].increment()
    }
}
