/// How a site is recognised (CONTRACT §4): `site_key` from the URL it reports, `site_hash`
/// from the MD5 the SDK puts in its User-Agent (the only fingerprint of an opt-out).
public enum SiteIdentity {
    /// The `site_key` of a URL: trimmed, lowercased, without a `scheme://`, `?query`,
    /// `#fragment`, a leading `www.` or trailing slashes. Nil when nothing is left.
    ///
    ///     "  HTTPS://WWW.Example.com/shop/?utm=x " → "example.com/shop"
    public static func siteKey(url: String) -> String? {
        guard let trimmed = FieldCast.trimmed(url) else { return nil }
        let lowered = trimmed.lowercased()
        var bytes = lowered.utf8[...]
        if let schemeEnd = schemeLength(bytes) { bytes = bytes.dropFirst(schemeEnd) }
        if let cut = bytes.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            bytes = bytes[..<cut]
        }
        if bytes.starts(with: "www.".utf8) { bytes = bytes.dropFirst(4) }
        while bytes.last == UInt8(ascii: "/") { bytes = bytes.dropLast() }
        if bytes.isEmpty { return nil }
        return String(Substring(bytes))
    }

    /// Length of a leading `scheme://` (RFC 3986 scheme: a letter, then letters, digits,
    /// `+`, `-`, `.`), or nil when the text does not start with one.
    static func schemeLength(_ bytes: Substring.UTF8View) -> Int? {
        var index = bytes.startIndex
        guard index < bytes.endIndex, isLetter(bytes[index]) else { return nil }
        var length = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") { break }
            guard isLetter(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") else { return nil }
            index = bytes.index(after: index)
            length += 1
        }
        guard bytes[index...].starts(with: "://".utf8) else { return nil }
        return length + 3
    }

    @inline(__always)
    static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    /// The 32 hex digits right after `Appsero/` (matched case-insensitively) in a User-Agent,
    /// lowercased. Nil when there is no such marker or it is not followed by exactly 32 hex
    /// digits (a 33rd hex digit means it is not an MD5).
    public static func siteHash(userAgent: String?) -> String? {
        guard var userAgent else { return nil }
        return userAgent.withUTF8 { siteHash(userAgentBytes: UnsafeRawBufferPointer($0)) }
    }

    /// `siteHash(userAgent:)` over the User-Agent's UTF-8 bytes (the compactor's fast path
    /// reads them straight from the raw line).
    static func siteHash(userAgentBytes bytes: UnsafeRawBufferPointer) -> String? {
        let marker: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0x61, 0x70, 0x70, 0x73, 0x65, 0x72, 0x6F, 0x2F)  // "appsero/"
        let markerCount = 8
        guard bytes.count >= markerCount + 32 else { return nil }
        var start = 0
        while start + markerCount <= bytes.count {
            if lowercaseASCII(bytes[start]) == marker.0, lowercaseASCII(bytes[start + 1]) == marker.1,
               lowercaseASCII(bytes[start + 2]) == marker.2, lowercaseASCII(bytes[start + 3]) == marker.3,
               lowercaseASCII(bytes[start + 4]) == marker.4, lowercaseASCII(bytes[start + 5]) == marker.5,
               lowercaseASCII(bytes[start + 6]) == marker.6, bytes[start + 7] == marker.7 {
                break
            }
            start += 1
        }
        guard start + markerCount <= bytes.count else { return nil }
        let hexStart = start + markerCount
        guard hexStart + 32 <= bytes.count else { return nil }
        for index in hexStart..<hexStart + 32 where !isHexDigit(lowercaseASCII(bytes[index])) { return nil }
        if hexStart + 32 < bytes.count, isHexDigit(lowercaseASCII(bytes[hexStart + 32])) { return nil }
        return String(unsafeUninitializedCapacity: 32) { output in
            for offset in 0..<32 { output[offset] = lowercaseASCII(bytes[hexStart + offset]) }
            return 32
        }
    }

    @inline(__always)
    static func lowercaseASCII(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    @inline(__always)
    static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}
