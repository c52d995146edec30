/// Operator-configured proxies (CIDR ranges) whose `X-Forwarded-For` is believed.
public struct TrustedProxies: Sendable {
    struct Range: Sendable {
        var address: [UInt8]
        var prefixBits: Int
    }
    private var ranges: [Range] = []

    public init() {}

    /// Parses `10.0.0.0/8`, `127.0.0.1`, `::1`, `fd00::/8`. Throws naming the bad entry.
    public init(_ specs: [String]) throws {
        for spec in specs {
            let parts = spec.split(separator: "/", maxSplits: 1).map(String.init)
            guard let address = Self.parseAddress(parts[0]) else {
                throw TrustedProxyError(message: "trusted proxy \"\(spec)\" is not an IP address or CIDR range")
            }
            let bitsMax = address.count * 8
            let bits = parts.count == 2 ? Int(parts[1]) : bitsMax
            guard let bits, (0...bitsMax).contains(bits) else {
                throw TrustedProxyError(message: "trusted proxy \"\(spec)\" has a bad prefix length")
            }
            ranges.append(Range(address: address, prefixBits: bits))
        }
    }

    public var isEmpty: Bool { ranges.isEmpty }

    public func contains(_ text: String) -> Bool {
        guard let address = Self.parseAddress(text) else { return false }
        return ranges.contains { range in
            guard range.address.count == address.count else { return false }
            var bitsLeft = range.prefixBits
            for index in 0..<address.count where bitsLeft > 0 {
                let take = min(8, bitsLeft)
                let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
                if range.address[index] & mask != address[index] & mask { return false }
                bitsLeft -= take
            }
            return true
        }
    }

    /// The client address: the first `X-Forwarded-For` entry when the peer is trusted.
    public func clientAddress(peer: String?, forwardedFor: String?) -> String? {
        guard let peer else { return nil }
        guard let forwardedFor, !ranges.isEmpty, contains(peer) else { return peer }
        let first = forwardedFor.split(separator: ",", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return Self.parseAddress(first) != nil ? first : peer
    }

    static func parseAddress(_ text: String) -> [UInt8]? {
        if text.contains(":") { return parseIPv6(text) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        if text.hasPrefix("[") && text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !group.isEmpty, group.count <= 4, let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}

public struct TrustedProxyError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

import Foundation
