#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What ingest keeps of the client address in the envelope's `ip` (CONTRACT §2)
/// (`serve --ip-mode`, `TRACKHOUSE_IP_MODE`):
/// - `full` (the default): the address as received. CONTRACT §2 defines `ip` as the peer
///   address (or the trusted proxy's first `X-Forwarded-For`), so the default keeps it and
///   existing readers of raw files see what the contract promises.
/// - `truncated`: IPv4 to its /24 (`203.0.113.0`), IPv6 to its /48 (`2001:db8:abcd::`); an
///   IPv4-mapped IPv6 address is truncated as IPv4. Enough for coarse geography and abuse
///   ranges, no longer one household.
/// - `none`: no address (`"ip":null`).
/// Rate limiting still uses the full address in memory; only what is stored changes. The
/// `ip_address` payload field (the site's own public address, which the SDK sends) is data
/// the site sent and is kept as sent.
public enum IPMode: String, Sendable, CaseIterable {
    case full, truncated, none

    /// The address to store for `address` (nil stays nil).
    public func apply(_ address: String?) -> String? {
        guard let address else { return nil }
        switch self {
        case .full: return address
        case .none: return nil
        case .truncated: return Self.truncate(address)
        }
    }

    /// /24 of an IPv4, /48 of an IPv6 address; text that is neither is dropped (nil): an
    /// address we cannot shorten must not be kept whole in this mode.
    static func truncate(_ address: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            var bytes = withUnsafeBytes(of: &v4) { Array($0) }
            bytes[3] = 0
            return format(family: AF_INET, bytes: bytes)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            var bytes = withUnsafeBytes(of: &v6) { Array($0) }
            let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
            if mapped {
                return format(family: AF_INET, bytes: [bytes[12], bytes[13], bytes[14], 0])
            }
            for index in 6..<16 { bytes[index] = 0 }
            return format(family: AF_INET6, bytes: bytes)
        }
        return nil
    }

    private static func format(family: Int32, bytes: [UInt8]) -> String? {
        var text = [CChar](repeating: 0, count: 64)
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count)) != nil }
        guard ok else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
