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
    public var peerIP: String? { Self.ipText(remoteAddress) }

    /// An address's IP as text, nil for a Unix socket (used by the router's context and by
    /// `IngestChannelHandler`, which formats it once per connection).
    static func ipText(_ address: SocketAddress?) -> String? {
        guard let address else { return nil }
        switch address {
        case .v4, .v6: return address.ipAddress
        case .unixDomainSocket: return nil
        }
    }
}
