/// MD5 (RFC 1321), only to compute the SDK's User-Agent fingerprint
/// (`Appsero/<md5 of the home URL>;`). Not for anything security-related.
enum MD5 {
    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]

    /// floor(abs(sin(i + 1)) * 2^32), precomputed so results never depend on libm.
    private static let constants: [UInt32] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
    ]

    /// The four state words after hashing `message` (its digest, little-endian per word).
    static func digestWords(_ message: UnsafeBufferPointer<UInt8>) -> (UInt32, UInt32, UInt32, UInt32) {
        var state: (UInt32, UInt32, UInt32, UInt32) = (0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476)
        let fullBlocks = message.count / 64
        if let base = message.baseAddress {
            for block in 0..<fullBlocks { compress(UnsafeRawPointer(base + block * 64), &state) }
        }
        // The tail, 0x80, zero padding and the bit length: one or two final blocks.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { tail in
            tail.initialize(repeating: 0)
            let rest = message.count - fullBlocks * 64
            if rest > 0, let base = message.baseAddress {
                UnsafeMutableRawBufferPointer(tail).copyMemory(from: UnsafeRawBufferPointer(start: base + fullBlocks * 64, count: rest))
            }
            tail[rest] = 0x80
            let tailLength = rest < 56 ? 64 : 128
            let bitLength = UInt64(message.count) &* 8
            for index in 0..<8 { tail[tailLength - 8 + index] = UInt8(truncatingIfNeeded: bitLength >> UInt64(index * 8)) }
            let raw = UnsafeRawPointer(tail.baseAddress!)
            compress(raw, &state)
            if tailLength == 128 { compress(raw + 64, &state) }
        }
        return state
    }

    private static func compress(_ block: UnsafeRawPointer, _ state: inout (UInt32, UInt32, UInt32, UInt32)) {
        var a = state.0, b = state.1, c = state.2, d = state.3
        for round in 0..<64 {
            var f: UInt32
            let g: Int
            switch round {
            case 0..<16: f = (b & c) | (~b & d); g = round
            case 16..<32: f = (d & b) | (~d & c); g = (5 * round + 1) % 16
            case 32..<48: f = b ^ c ^ d; g = (3 * round + 5) % 16
            default: f = c ^ (b | ~d); g = (7 * round) % 16
            }
            let word = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: g * 4, as: UInt32.self))
            f = f &+ a &+ constants[round] &+ word
            a = d
            d = c
            c = b
            b = b &+ (f << shifts[round] | f >> (32 - shifts[round]))
        }
        state.0 &+= a; state.1 &+= b; state.2 &+= c; state.3 &+= d
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase hex MD5 of the UTF-8 text, as PHP's `md5()` gives it.
    static func hex(_ text: String) -> String {
        var text = text
        let words = text.withUTF8 { digestWords($0) }
        return String(unsafeUninitializedCapacity: 32) { out in
            var position = 0
            for word in [words.0, words.1, words.2, words.3] {
                for shift in stride(from: 0, to: 32, by: 8) {
                    let byte = UInt8(truncatingIfNeeded: word >> UInt32(shift))
                    out[position] = hexDigits[Int(byte >> 4)]
                    out[position + 1] = hexDigits[Int(byte & 0xF)]
                    position += 2
                }
            }
            return 32
        }
    }
}
