import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel with the ingest front door in its pipeline:
///
///     RequestRateGuard (a request as a whole must keep a minimum rate once the idle timeout passed)
///       → HTTP/1 decoder+encoder → HTTPEdgeHandler (parse errors as JSON, Expect: 100-continue)
///       → KeepAliveProbe → HTTP1ToHTTPServerCodec
///       → HTTPConnectionStateHandler (idle timeout, graceful close)
///       → IngestChannelHandler (answers the SDK routes on the event loop)
///       → NIOAsyncChannel → Hummingbird's router (everything else)
///
/// The same pipeline as `HTTP1Channel` (same decoder limits, no pipelining assistance: the
/// async channel reads one request at a time) with two handlers added. The ingest handler
/// sits after the connection state handler so the idle timeout and the close on shutdown
/// see its requests and answers like any other.
struct TrackhouseHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let idleTimeout: TimeAmount?
    let ingestRoutes: IngestRoutes?
    /// The embedding program's routes, answered on the event loop with the SDK routes.
    let frontDoorRoutes: [FrontDoorRoute]
    let serverName: String
    /// The largest body any route takes (`Expect: 100-continue` is answered up to it).
    var bodyBytesMax = 1 << 20

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let defaults = HTTP1Channel.Configuration.DecoderConfiguration()
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = defaults.maxHeaderFieldSize
            limits.maxHeaderListSize = defaults.maxHeaderListSize
            limits.maxHeaderFieldCount = defaults.maxHeaderFieldCount
            let operations = channel.pipeline.syncOperations
            let progress = RequestProgress()
            if let idleTimeout {
                try operations.addHandler(RequestRateGuard(progress: progress, grace: idleTimeout))
            }
            try operations.configureHTTPServerPipeline(
                withPipeliningAssistance: false,
                withErrorHandling: false,  // HTTPEdgeHandler answers parse errors (JSON) and closes
                withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: limits)
            try operations.addHandler(HTTPEdgeHandler(bodyBytesMax: bodyBytesMax, serverName: serverName, progress: progress))
            let probe = KeepAliveProbe()
            try operations.addHandler(probe)
            try operations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try operations.addHandler(HTTPConnectionStateHandler(idleTimeout: idleTimeout.map { .nanoseconds($0.nanoseconds) }, logger: logger))
            if ingestRoutes != nil || !frontDoorRoutes.isEmpty {
                try operations.addHandler(IngestChannelHandler(routes: ingestRoutes, frontDoorRoutes: frontDoorRoutes,
                                                               keepAlive: probe.box, serverName: serverName))
            }
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel,
                                       configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
