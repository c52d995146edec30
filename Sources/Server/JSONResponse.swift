import Hummingbird
import Ingest
import NIOCore

/// JSON bodies and errors at the HTTP edge: `{"error":"<code>","message":"..."}` (CONTRACT §1).
enum JSONResponse {
    /// Every JSON answer's `Content-Type`.
    static let contentType = "application/json; charset=utf-8"

    static func make(status: HTTPResponse.Status, bytes: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
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

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.error(status: status.code, code: code, message: message)
    }
}
