import Core
import Foundation
import Hummingbird
import NIOCore
import Query

/// Response bodies of the API: JSON (values rendered as CONTRACT §6: timestamps ISO with Z,
/// NULL null), gzip-compressed when the client accepts it.
enum APIResponses {
    static let jsonType = "application/json; charset=utf-8"

    static func json(_ value: JSONValue, for request: Request) -> Response {
        bytes(JSONWriter.serialize(value), contentType: jsonType, for: request)
    }

    /// A body already encoded (gzipped or not) as the request asked.
    static func encoded(_ body: [UInt8], contentType: String, gzipped: Bool) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.vary] = "Accept-Encoding"
        if gzipped { headers[.contentEncoding] = "gzip" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func bytes(_ body: [UInt8], contentType: String, for request: Request) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.vary] = "Accept-Encoding"
        if acceptsGzip(request) {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Gzip.deflate(body))))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// A body produced in pieces (large CSV exports). With gzip the pieces are joined and
    /// compressed at once (Gzip has no streaming deflate); otherwise each piece is written as
    /// it is rendered, so the server holds one piece of text at a time.
    static func streamed(contentType: String, for request: Request, pieces: @escaping @Sendable () -> AnyIterator<[UInt8]>) -> Response {
        if acceptsGzip(request) {
            var all: [UInt8] = []
            for piece in pieces() { all += piece }
            return bytes(all, contentType: contentType, for: request)
        }
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.vary] = "Accept-Encoding"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            for piece in pieces() {
                try await writer.write(ByteBuffer(bytes: piece))
            }
            try await writer.finish(nil)
        })
    }

    /// `Accept-Encoding` lists `gzip` (or `x-gzip`, or `*`) without `q=0`.
    static func acceptsGzip(_ request: Request) -> Bool {
        guard let header = request.headers[.acceptEncoding] else { return false }
        for entry in header.split(separator: ",") {
            let parts = entry.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = parts.first, coding == "gzip" || coding == "x-gzip" || coding == "*" else { continue }
            let refused = parts.dropFirst().contains { parameter in
                parameter.hasPrefix("q=") && (Double(parameter.dropFirst(2)) ?? 1) == 0
            }
            if !refused { return true }
        }
        return false
    }
}

extension Value {
    /// The value as CONTRACT §6 renders it in JSON.
    var apiJSON: JSONValue {
        switch self {
        case .null: return .null
        case .int64(let n): return .number(String(n))
        case .double(let d): return d.isFinite ? .number(String(d)) : .null
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .timestamp(let micros): return .string(UTCTime.formatISO(micros: micros))
        }
    }
}

extension QueryResult {
    /// Rows as JSON objects keyed by column name (the shape of `events` and `sites` items).
    var rowObjects: [JSONValue] {
        let names = columns.map(\.name)
        return rows.map { row in .object(JSONObject(zip(names, row.map(\.apiJSON)).map { ($0.0, $0.1) })) }
    }
}
