import NIOCore
import NIOSSL
import NIOTLS

/// The event-loop half of an SMTP conversation: cuts the server's bytes into replies and hands
/// each to the one waiting step, with a timeout per step. Every method runs on the channel's
/// event loop (the client reaches it through `NIOLoopBound`).
///
/// A reply that arrives while no step waits is kept (a server may answer early); before the
/// STARTTLS upgrade the client asks `hasUnreadInput`, so bytes a server (or a man in the
/// middle) slipped in before TLS are refused rather than read as if they came over TLS.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private struct Waiter {
        var promise: EventLoopPromise<SMTPReply>
        var step: SMTPStep
        var timeout: Scheduled<Void>
    }

    private var context: ChannelHandlerContext?
    private var pending = ByteBuffer()
    private var parser = SMTPReplyParser()
    private var replies = CircularBuffer<SMTPReply>()
    private var waiter: Waiter?
    /// Set once the conversation cannot go on; every later step fails with it.
    private var failure: (code: SMTPError.Code, message: String, cause: String?)?
    private var handshake: (promise: EventLoopPromise<Void>, timeout: Scheduled<Void>)?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard failure == nil else { return }
        pending.writeBuffer(&bytes)
        do throws(SMTPReplyParser.Failure) {
            while let newline = pending.readableBytesView.firstIndex(of: 0x0A) {
                let length = newline - pending.readerIndex
                var line = pending.readBytes(length: length) ?? []
                pending.moveReaderIndex(forwardBy: 1)
                if line.last == 0x0D { line.removeLast() }
                if let reply = try parser.feed(line: line) { deliver(reply) }
            }
            if pending.readableBytes > SMTPReplyParser.lineBytesMax { throw SMTPReplyParser.Failure.lineTooLong }
            pending.discardReadBytes()
        } catch {
            let detail: String
            switch error {
            case .lineTooLong: detail = "a reply line longer than \(SMTPReplyParser.lineBytesMax) bytes"
            case .tooManyLines: detail = "a reply of more than \(SMTPReplyParser.linesMax) lines"
            case .malformed(let text): detail = "a line that is not an SMTP reply: \(MailRedaction.maskAddresses(text))"
            }
            fail(.protocolViolation, "the server sent \(detail); is this an SMTP port?", cause: nil)
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event, let handshake {
            self.handshake = nil
            handshake.timeout.cancel()
            handshake.promise.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            fail(.tls, "TLS failed: check the server's certificate (its name must match smtp_host and chain to a trusted root) or the registry's tls settings", cause: String(describing: error))
        } else {
            fail(.network, "the connection failed", cause: String(describing: error))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.network, "the server closed the connection", cause: nil)
        context.fireChannelInactive()
    }

    // MARK: Steps (called on the event loop)

    /// The next reply, or a failure naming `step` after `timeout`.
    func nextReply(step: SMTPStep, timeout: TimeAmount, on loop: EventLoop) -> EventLoopFuture<SMTPReply> {
        precondition(waiter == nil, "one SMTP step waits at a time")
        if let reply = replies.popFirst() { return loop.makeSucceededFuture(reply) }
        if let failure { return loop.makeFailedFuture(SMTPError(failure.code, step: step, message: failure.message, cause: failure.cause)) }
        let promise = loop.makePromise(of: SMTPReply.self)
        let scheduled = loop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self, let waiter = self.waiter else { return }
            self.waiter = nil
            self.failure = (.timeout, "no reply within \(Self.seconds(timeout)) s", nil)
            waiter.promise.fail(SMTPError(.timeout, step: step, message: "the server did not reply within \(Self.seconds(timeout)) s; check smtp_host and smtp_port, or try again later"))
            self.context?.close(promise: nil)
        }
        waiter = Waiter(promise: promise, step: step, timeout: scheduled)
        return promise.futureResult
    }

    /// Completes when the TLS handler reports a finished handshake.
    func handshakeCompleted(timeout: TimeAmount, on loop: EventLoop) -> EventLoopFuture<Void> {
        if let failure { return loop.makeFailedFuture(SMTPError(failure.code, step: .tlsHandshake, message: failure.message, cause: failure.cause)) }
        let promise = loop.makePromise(of: Void.self)
        let scheduled = loop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self, let handshake = self.handshake else { return }
            self.handshake = nil
            self.failure = (.timeout, "the TLS handshake did not finish", nil)
            handshake.promise.fail(SMTPError(.timeout, step: .tlsHandshake, message: "the TLS handshake did not finish within \(Self.seconds(timeout)) s"))
            self.context?.close(promise: nil)
        }
        handshake = (promise, scheduled)
        return promise.futureResult
    }

    /// Bytes or replies the client has not asked for yet.
    var hasUnreadInput: Bool { !replies.isEmpty || pending.readableBytes > 0 || parser.isInsideReply }

    private func deliver(_ reply: SMTPReply) {
        if let waiter {
            self.waiter = nil
            waiter.timeout.cancel()
            waiter.promise.succeed(reply)
        } else {
            replies.append(reply)
        }
    }

    private func fail(_ code: SMTPError.Code, _ message: String, cause: String?) {
        guard failure == nil else { return }
        failure = (code, message, cause)
        if let waiter {
            self.waiter = nil
            waiter.timeout.cancel()
            waiter.promise.fail(SMTPError(code, step: waiter.step, message: message, cause: cause))
        }
        if let handshake {
            self.handshake = nil
            handshake.timeout.cancel()
            handshake.promise.fail(SMTPError(code, step: .tlsHandshake, message: message, cause: cause))
        }
    }

    private static func seconds(_ amount: TimeAmount) -> String {
        let tenths = amount.nanoseconds / 100_000_000
        return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)"
    }
}
