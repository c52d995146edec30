import NIOCore
import NIOHTTP1

/// Sits before `HTTP1ToHTTPServerCodec` (HTTP types carry no version) and notes whether the
/// latest request head asks for keep-alive: HTTP/1.1 unless `Connection: close`, HTTP/1.0
/// only with `Connection: keep-alive`. The note is read by `IngestChannelHandler` as the same
/// head passes it, synchronously on the same event loop.
final class KeepAliveProbe: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    final class Box {
        var latestHeadKeepAlive = true
    }

    let box = Box()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { box.latestHeadKeepAlive = head.isKeepAlive }
        context.fireChannelRead(data)
    }
}
