import Hummingbird
import Logging
import NIOCore

/// Our request context: Hummingbird's core storage plus the peer address (for `ip`, rate
/// limiting and trusted-proxy checks).
public struct TrackhouseRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text (`203.0.113.9`, `::1`), without the port.
    public var peerIP: String? {
        guard let remoteAddress else { return nil }
        switch remoteAddress {
        case .v4, .v6: return remoteAddress.ipAddress
        case .unixDomainSocket: return nil
        }
    }
}
