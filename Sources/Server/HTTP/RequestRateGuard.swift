import Ingest
import NIOCore

/// What the part-level edge handler tells the byte-level rate guard about the current request.
/// Both live on the connection's event loop; only that loop touches it.
final class RequestProgress {
    /// Bytes of a request have arrived and its end has not been decoded yet.
    var receiving = false
    var startedAt = NIODeadline.now()
    var bytesReceived = 0
    /// A response is being written: a 408 cannot be put in front of its rest.
    var responseOpen = false

    func requestEnded() {
        receiving = false
        bytesReceived = 0
    }
}

/// Bounds a request as a whole, not only the gap between two reads.
///
/// The idle timeout (`HTTPConnectionStateHandler`) closes a connection that sends nothing for
/// `grace`; a client that drips one byte every few seconds never trips it (nginx's
/// `client_body_timeout` has the same hole). So:
/// 1. The first byte of a request starts its clock (`RequestProgress.startedAt`); the edge
///    handler stops it when the request's end is decoded.
/// 2. While a request is arriving, a check runs every second. Once `grace` has passed since
///    the first byte, the request must have averaged at least `bytesPerSecondMin`; otherwise it
///    is answered `408 request_timeout` (JSON, `Connection: close`) and the connection closed.
/// 3. A request that has arrived whole is never cut, however long its answer takes.
/// Sits first in the pipeline (raw bytes), so header drips are caught as well as body drips.
final class RequestRateGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A legitimate 1 MiB body at this rate takes 17 minutes; a drip of a byte a second fails.
    static let defaultBytesPerSecondMin = 1024

    let progress: RequestProgress
    private let grace: TimeAmount
    private let bytesPerSecondMin: Int
    private var check: Scheduled<Void>?
    private var cut = false

    init(progress: RequestProgress, grace: TimeAmount, bytesPerSecondMin: Int = RequestRateGuard.defaultBytesPerSecondMin) {
        self.progress = progress
        self.grace = grace
        self.bytesPerSecondMin = bytesPerSecondMin
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if cut { return }
        let count = unwrapInboundIn(data).readableBytes
        if !progress.receiving && count > 0 {
            progress.receiving = true
            progress.startedAt = .now()
            progress.bytesReceived = 0
            scheduleCheck(context: context)
        }
        progress.bytesReceived &+= count
        context.fireChannelRead(data)
    }

    private func scheduleCheck(context: ChannelHandlerContext) {
        guard check == nil else { return }
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(in: .seconds(1)) {
            let (handler, context) = bound.value
            handler.check = nil
            handler.runCheck(context: context)
        }
    }

    private func runCheck(context: ChannelHandlerContext) {
        guard progress.receiving, !cut else { return }
        let elapsed = NIODeadline.now() - progress.startedAt
        if elapsed >= grace {
            let seconds = Double(elapsed.nanoseconds) / 1e9
            if Double(progress.bytesReceived) < seconds * Double(bytesPerSecondMin) {
                cutRequest(context: context, seconds: seconds)
                return
            }
        }
        scheduleCheck(context: context)
    }

    private func cutRequest(context: ChannelHandlerContext, seconds: Double) {
        cut = true
        guard !progress.responseOpen else {
            context.close(promise: nil)
            return
        }
        let message = "the request arrived too slowly (\(progress.bytesReceived) bytes in \(Int(seconds)) s; at least \(bytesPerSecondMin) bytes/s are required once \(grace.nanoseconds / 1_000_000_000) s have passed)"
        let body = IngestRefusal(status: 408, code: "request_timeout", message: message).jsonBody
        var head = "HTTP/1.1 408 Request Timeout\r\ncontent-type: \(JSONResponse.contentType)\r\n"
        head += "content-length: \(body.count)\r\nconnection: close\r\n\r\n"
        var buffer = context.channel.allocator.buffer(capacity: head.utf8.count + body.count)
        buffer.writeString(head)
        buffer.writeBytes(body)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: written)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { _ in bound.value.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        context.fireChannelInactive()
    }
}
