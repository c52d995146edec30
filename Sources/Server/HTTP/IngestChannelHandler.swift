import HTTPTypes
import Ingest
import NIOCore
import NIOHTTPTypes

/// The SDK routes' front door on the connection's event loop: `POST /track`, `/deactivate`,
/// `/tracking-skipped` (and the embedding program's `FrontDoorRoute`s) are answered here,
/// without a Swift task per request; everything else goes on to Hummingbird's router unchanged.
///
/// Why: on the router every request is read by the event loop, handed to a task on the
/// concurrency pool, and its response handed back: two thread hops, plus a third for the
/// durable append's resume. Here a request is decoded on the event loop, its line goes to the
/// raw writer's pending queue, and the lane that fsynced it hands the answer back to the
/// loop with one `execute` (NIO coalesces the wake-ups of a batch). Same validation, same
/// answers, same counters: both paths call `IngestService` and `IngestRoutes`.
///
/// Algorithm (one connection, parts arrive in order):
/// 1. A request head is taken when it is `POST` to an ingest path (an optional trailing `/`
///    and query string allowed, as the router matches) and no earlier request is still owed
///    a response by the router; otherwise the request is forwarded whole and the router
///    answers it, so responses keep the request order on a pipelined connection.
/// 2. The body is gathered up to the limit. `Content-Length` over the limit, or a body that
///    grows past it, is answered `413` at once and the rest of the body is dropped.
/// 3. At the request's end it is handed to `IngestService`; while the answer is pending
///    further parts are queued, and once any are the channel's `read` is held back
///    (pipelining is bounded by one socket read); when the answer is written the queue is
///    replayed.
/// 4. The answer carries the router's headers (`Content-Type`, `Content-Length`, `Date`,
///    `Server`); a client that did not ask for keep-alive (`Connection: close`, HTTP/1.0)
///    is disconnected after it.
final class IngestChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    enum Target {
        case ingest(Envelope.Route)
        /// An index into `frontDoorRoutes`.
        case added(Int)
    }

    private enum State {
        case idle
        /// Gathering the body of a request this handler answers (straight into the array
        /// `IngestRequest` takes: one copy of the bytes).
        case collecting(Target, HTTPRequest, [UInt8], keepAlive: Bool)
        /// Answered early (413); the rest of the body is dropped.
        case discarding(keepAlive: Bool)
        /// The answer is pending (the durable append); later parts wait in `queued`.
        case answering
        /// A request going to the router, until its end.
        case forwarding
    }

    private let routes: IngestRoutes?
    private let frontDoorRoutes: [FrontDoorRoute]
    /// `frontDoorRoutes`' paths as bytes, compared with each request's path.
    private let frontDoorPaths: [[UInt8]]
    private let keepAlive: KeepAliveProbe.Box
    private let serverName: String
    private var state = State.idle
    /// Requests forwarded to the router whose response has not ended yet.
    private var routerResponsesOwed = 0
    private var queued: [HTTPRequestPart] = []
    private var readHeld = false
    private var heldError: (any Error)?
    private var replaying = false
    /// An answer asked to close the connection: nothing after it is read or answered.
    private var closing = false
    private var date = HTTPDate()

    init(routes: IngestRoutes?, frontDoorRoutes: [FrontDoorRoute], keepAlive: KeepAliveProbe.Box, serverName: String) {
        self.routes = routes
        self.frontDoorRoutes = frontDoorRoutes
        self.frontDoorPaths = frontDoorRoutes.map { Array($0.path.utf8) }
        self.keepAlive = keepAlive
        self.serverName = serverName
    }

    private var bodyBytesMax: Int { routes?.service.options.bodyBytesMax ?? (1 << 20) }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if closing { return }
        if case .answering = state { queued.append(part); return }
        if !queued.isEmpty { queued.append(part); return }
        process(part, context: context)
    }

    private func process(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            if routerResponsesOwed == 0, let target = target(of: head) {
                let keepAlive = self.keepAlive.latestHeadKeepAlive
                let limit = bodyBytesMax
                let declared = head.headerFields[.contentLength].flatMap { Int($0) } ?? 0
                if declared > limit {
                    refuseTooLarge(target, context: context, keepAlive: keepAlive)
                    state = .discarding(keepAlive: keepAlive)
                    return
                }
                var body: [UInt8] = []
                body.reserveCapacity(max(0, declared))
                state = .collecting(target, head, body, keepAlive: keepAlive)
            } else {
                routerResponsesOwed += 1
                state = .forwarding
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.collecting(let target, let head, var body, let keepAlive), .body(let chunk)):
            if body.count + chunk.readableBytes > bodyBytesMax {
                state = .discarding(keepAlive: keepAlive)
                refuseTooLarge(target, context: context, keepAlive: keepAlive)
                return
            }
            state = .idle  // drop the state's reference so the append does not copy the array
            body.append(contentsOf: chunk.readableBytesView)
            state = .collecting(target, head, body, keepAlive: keepAlive)
        case (.collecting(let target, let head, let body, let keepAlive), .end):
            state = .answering
            answer(target, head: head, body: body, keepAlive: keepAlive, context: context)
        case (.discarding(let keepAlive), .end):
            state = .idle
            if !keepAlive { return }
            replayQueued(context: context)
        case (.discarding, _):
            break
        case (.forwarding, .end):
            state = .idle
            context.fireChannelRead(wrapInboundOut(part))
        case (.collecting, .head):
            break  // the HTTP decoder never sends a head inside a request
        case (.forwarding, _), (.idle, _):
            // Out-of-order parts are the router's to reject (it answers 400 and closes).
            context.fireChannelRead(wrapInboundOut(part))
        case (.answering, _):
            queued.append(part)
        }
    }

    private func target(of head: HTTPRequest) -> Target? {
        guard head.method == .post, var path = head.path?.utf8[...] else { return nil }
        if let query = path.firstIndex(of: UInt8(ascii: "?")) { path = path[..<query] }
        if path.count > 1 && path.last == UInt8(ascii: "/") { path = path.dropLast() }
        if routes != nil {
            if path.elementsEqual("/track".utf8) { return .ingest(.track) }
            if path.elementsEqual("/deactivate".utf8) { return .ingest(.deactivate) }
            if path.elementsEqual("/tracking-skipped".utf8) { return .ingest(.trackingSkipped) }
        }
        for index in frontDoorPaths.indices where path.elementsEqual(frontDoorPaths[index]) { return .added(index) }
        return nil
    }

    // MARK: Answers

    private func answer(_ target: Target, head: HTTPRequest, body: [UInt8], keepAlive: Bool, context: ChannelHandlerContext) {
        switch target {
        case .added(let index):
            let (status, bytes) = frontDoorRoutes[index].answer(body)
            respond(status: status, body: bytes, keepAlive: keepAlive, context: context)
        case .ingest(let route):
            guard let routes else { return }
            let request = IngestRoutes.IngestHeaders(head.headerFields)
                .request(route: route, peerAddress: peerAddress(context), body: body)
            let loop = context.eventLoop
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
            routes.service.handle(request) { outcome in
                let (status, bytes) = routes.answer(route, outcome)
                if loop.inEventLoop {
                    bound.value.handler.respond(status: status, body: bytes, keepAlive: keepAlive, context: bound.value.context)
                } else {
                    loop.execute {
                        bound.value.handler.respond(status: status, body: bytes, keepAlive: keepAlive, context: bound.value.context)
                    }
                }
            }
        }
    }

    private func refuseTooLarge(_ target: Target, context: ChannelHandlerContext, keepAlive: Bool) {
        let refusal = IngestRefusal.tooLarge("the body is larger than \(bodyBytesMax) bytes")
        if case .ingest(let route) = target { routes?.count(route, status: 413) }
        write(status: 413, body: refusal.jsonBody, keepAlive: keepAlive, context: context)
    }

    /// Writes the answer of the request in `.answering` and goes on with queued parts.
    private func respond(status: Int, body: [UInt8], keepAlive: Bool, context: ChannelHandlerContext) {
        guard case .answering = state else { return }
        state = .idle
        write(status: status, body: body, keepAlive: keepAlive, context: context)
        if keepAlive { replayQueued(context: context) }
    }

    private func write(status: Int, body: [UInt8], keepAlive: Bool, context: ChannelHandlerContext) {
        var fields = HTTPFields()
        fields.reserveCapacity(4)
        fields[.contentType] = JSONResponse.contentType
        fields[.contentLength] = String(body.count)
        fields[.date] = date.current()
        fields[.server] = serverName
        if let seconds = JSONResponse.retryAfterSeconds(status: status) { fields[.retryAfter] = seconds }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: status), headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            closing = true
            let closed = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: closed)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            closed.futureResult.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }

    /// Feeds parts that arrived while an answer was pending, then lets the channel read again.
    private func replayQueued(context: ChannelHandlerContext) {
        // A queued request refused at once is answered inside `process`, which would replay
        // again from there: one loop instead, so a read full of tiny pipelined requests
        // cannot grow the stack.
        if replaying { return }
        guard !queued.isEmpty || readHeld || heldError != nil else { return }
        replaying = true
        defer { replaying = false }
        // The async channel behind us hands reads to the router at `channelReadComplete`:
        // parts forwarded here, outside a socket read, need one of their own.
        defer { context.fireChannelReadComplete() }
        while !queued.isEmpty {
            if closing { queued.removeAll(); return }
            if case .answering = state { return }
            let part = queued.removeFirst()
            process(part, context: context)
        }
        if case .answering = state { return }
        if let error = heldError {
            heldError = nil
            context.fireErrorCaught(error)
            return
        }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    /// The connection's peer address as text, formatted once per connection (`inet_ntop`).
    private var peerAddressText: String??
    private func peerAddress(_ context: ChannelHandlerContext) -> String? {
        if let known = peerAddressText { return known }
        let text = TrackhouseRequestContext.ipText(context.channel.remoteAddress)
        peerAddressText = .some(text)
        return text
    }

    /// A decoding error behind a pending answer waits for it: the router answers the error
    /// with 400 and closes, which must not overtake the answer of the request before it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .answering = state { heldError = error; return }
        if !queued.isEmpty { heldError = error; return }
        context.fireErrorCaught(error)
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        // Once parts are queued behind a pending answer (a pipelining client), reads are held:
        // the client waits in its socket, not in our memory. Reads are not held merely while
        // an answer is pending: that would drop and re-add the socket's read interest (two
        // `epoll_ctl` calls) on every request of a keep-alive client.
        if !queued.isEmpty { readHeld = true; return }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the router's writes arrive here (this handler writes to the next handler).
        if case .end = unwrapOutboundIn(data), routerResponsesOwed > 0 { routerResponsesOwed -= 1 }
        context.write(data, promise: promise)
    }
}
