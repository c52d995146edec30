import Core
import Hummingbird
import Ingest
import NIOCore

/// JSON bodies and errors at the HTTP edge: `{"error":"<code>","message":"..."}` (CONTRACT §1).
enum JSONResponse {
    /// Every JSON answer's `Content-Type`.
    static let contentType = "application/json; charset=utf-8"

    /// `Retry-After` for a refusal that a later try may pass: 429 (the rate limiter's bucket
    /// refills within a second) and 503 (disk full, shutting down, the query queue full).
    static func retryAfterSeconds(status: Int) -> String? {
        switch status {
        case 429: return "1"
        case 503: return "5"
        default: return nil
        }
    }

    static func make(status: HTTPResponse.Status, bytes: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        if let seconds = retryAfterSeconds(status: status.code) { headers[.retryAfter] = seconds }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func make(status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        make(status: status, bytes: JSONWriter.serialize(value))
    }

    static func error(status: Int, code: String, message: String) -> Response {
        let refusal = IngestRefusal(status: status, code: code, message: message)
        return make(status: .init(code: status), bytes: refusal.jsonBody)
    }
}

/// An error type handlers can throw; Hummingbird renders it with our JSON shape.
public struct APIError: Error, HTTPResponseError {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// Overrides the default `Retry-After` of a 429 or 503 (seconds).
    public var retryAfterSeconds: Int?

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.error(status: status.code, code: code, message: message)
        if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
        return request.method == .head ? response.createHeadResponse() : response
    }
}
