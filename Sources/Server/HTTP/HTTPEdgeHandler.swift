import Ingest
import NIOCore
import NIOHTTP1

/// The HTTP edge right after NIO's decoder and encoder: what no route sees.
///
/// 1. **Parse errors speak JSON.** A request the decoder rejects (bad or duplicate
///    `Content-Length`, `Content-Length` with `Transfer-Encoding`, too many or too long header
///    lines, garbage) is answered `{"error","message"}` — 431 `headers_too_large` for header
///    overflow, 400 `bad_request` otherwise — with `Connection: close`, and the connection is
///    closed. Hummingbird's own answer to these is a 400 with an empty body.
/// 2. **Order is kept.** Requests still owed an answer (a pipelined request whose durable
///    append is pending) are answered first: the error answer waits until every earlier
///    response has ended.
/// 3. **`Expect: 100-continue`** is answered `100 Continue` at once when the declared body is
///    within `bodyBytesMax` (the largest body any route takes); a larger declared body gets no
///    `100` and the route refuses it on its `Content-Length` (413) before reading it. Any other
///    expectation is answered 417 `expectation_failed` and the connection closed (RFC 9110
///    §10.1.1).
/// Bytes sent after a request with `Connection: close` are not an error: they are ignored,
/// and that request's answer closes the connection.
/// 4. It notes, for `RequestRateGuard`, when a request has arrived whole and whether a
///    response is being written.
final class HTTPEdgeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let bodyBytesMax: Int
    private let serverName: String
    private let progress: RequestProgress
    /// Request heads seen minus responses ended: answers still owed, in order.
    private var answersOwed = 0
    /// A response head went out and its end has not.
    private var responseOpen = false
    /// An error answer waiting for the answers owed before it.
    private var pendingRefusal: (status: HTTPResponseStatus, code: String, message: String)?
    private var closing = false
    /// A request head came and its end has not.
    private var requestInProgress = false
    private var date = HTTPDate()

    init(bodyBytesMax: Int, serverName: String, progress: RequestProgress) {
        self.bodyBytesMax = bodyBytesMax
        self.serverName = serverName
        self.progress = progress
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if closing { return }
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let head):
            answersOwed += 1
            requestInProgress = true
            if let expectation = head.headers.first(name: "expect") {
                guard expectation.trimmingCharacters(in: .whitespaces).lowercased() == "100-continue" else {
                    refuse(.expectationFailed, code: "expectation_failed",
                           message: "Expect: \(expectation) is not supported; send the request without it (or with Expect: 100-continue)",
                           context: context)
                    return
                }
                let declared = head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
                if declared <= bodyBytesMax && answersOwed == 1 {
                    let continueHead = HTTPResponseHead(version: head.version, status: .continue)
                    context.writeAndFlush(wrapOutboundOut(.head(continueHead)), promise: nil)
                }
            }
        case .body:
            break
        case .end:
            requestInProgress = false
            progress.requestEnded()
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if case .closedConnection = parseError {
            // Bytes after a request that said `Connection: close`: that request's answer
            // closes the connection, and nothing after it is read or answered (RFC 9112 §9.6).
            closing = true
            return
        }
        // The request the decoder failed on is owed an answer too (counted already when its
        // head came and its body is what failed).
        if !requestInProgress { answersOwed += 1 }
        switch parseError {
        case .headerOverflow:
            refuse(.requestHeaderFieldsTooLarge, code: "headers_too_large",
                   message: "the request's header lines are too many or too long; send fewer or shorter headers", context: context)
        default:
            refuse(.badRequest, code: "bad_request",
                   message: "the request is not valid HTTP/1.1 (\(Self.describe(parseError))); fix the request and send it on a new connection",
                   context: context)
        }
    }

    /// Answers with an error and closes, once the answers owed before this one have ended.
    private func refuse(_ status: HTTPResponseStatus, code: String, message: String, context: ChannelHandlerContext) {
        closing = true
        progress.requestEnded()
        pendingRefusal = (status, code, message)
        writeRefusalIfDue(context: context)
    }

    private func writeRefusalIfDue(context: ChannelHandlerContext) {
        guard let refusal = pendingRefusal, answersOwed == 1, !responseOpen else {
            // A response half written (the router's, for a request before this one) cannot be
            // followed by ours: close once it ends, or at once when nothing more will come.
            return
        }
        pendingRefusal = nil
        let body = IngestRefusal(status: Int(refusal.status.code), code: refusal.code, message: refusal.message).jsonBody
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: JSONResponse.contentType)
        headers.add(name: "content-length", value: String(body.count))
        headers.add(name: "connection", value: "close")
        headers.add(name: "date", value: date.current())
        headers.add(name: "server", value: serverName)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: refusal.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { _ in bound.value.close(promise: nil) }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            responseOpen = true
            progress.responseOpen = true
        case .end:
            responseOpen = false
            progress.responseOpen = false
            if answersOwed > 0 { answersOwed -= 1 }
        default:
            break
        }
        context.write(data, promise: promise)
        if pendingRefusal != nil, !responseOpen, answersOwed == 1 {
            // The response owed before the refusal has ended: the refusal goes next.
            context.flush()
            writeRefusalIfDue(context: context)
        }
    }

    static func describe(_ error: HTTPParserError) -> String {
        switch error {
        case .invalidContentLength, .unexpectedContentLength:
            return "a Content-Length that is invalid, repeated, or sent with Transfer-Encoding"
        case .invalidChunkSize: return "invalid chunk size"
        case .invalidMethod: return "invalid method"
        case .invalidURL: return "invalid request target"
        case .invalidVersion: return "invalid HTTP version"
        case .invalidHeaderToken: return "invalid header line"
        case .invalidConstant: return "malformed request line"
        default: return "malformed request framing or headers"
        }
    }
}
