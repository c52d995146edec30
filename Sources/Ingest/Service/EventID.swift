import Synchronization

/// Envelope ids: ULIDs (48-bit millisecond time + 80 random bits, Crockford base32, 26 chars).
/// Sortable by time, unique across writers without coordination.
public enum EventID {
    private static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func make(micros: Int64) -> String {
        var generator = SharedRandom()
        return make(micros: micros, using: &generator)
    }

    /// A process-wide xoshiro256** seeded once from the system generator. Ids need uniqueness,
    /// not secrecy, and `SystemRandomNumberGenerator` is a `getrandom` syscall per call (two
    /// per id, on every ingest request).
    struct SharedRandom: RandomNumberGenerator {
        private static let state = Mutex<(UInt64, UInt64, UInt64, UInt64)>({
            var system = SystemRandomNumberGenerator()
            return (system.next() | 1, system.next(), system.next(), system.next())
        }())

        mutating func next() -> UInt64 {
            Self.state.withLock { s in
                let result = rotl(s.1 &* 5, 7) &* 9
                let t = s.1 << 17
                s.2 ^= s.0
                s.3 ^= s.1
                s.1 ^= s.2
                s.0 ^= s.3
                s.2 ^= t
                s.3 = rotl(s.3, 45)
                return result
            }
        }

        @inline(__always)
        private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
    }

    public static func make<G: RandomNumberGenerator>(micros: Int64, using generator: inout G) -> String {
        let millis = UInt64(max(0, micros / 1000)) & 0xFFFF_FFFF_FFFF
        let random = generator.next()
        let random2 = generator.next() & 0xFFFF
        // 128 bits: high 64 = millis << 16 | random2 ; low 64 = random.
        let high = millis << 16 | random2
        let low = random
        var chars = [UInt8](repeating: 0, count: 26)
        // Emit 26 groups of 5 bits from the 130-bit big-endian number (2 leading zero bits).
        for index in 0..<26 {
            let shift = 125 - index * 5  // bit position of this group's low bit, counting from 0 at the LSB
            let value: UInt64
            if shift >= 64 {
                value = (high >> UInt64(shift - 64)) & 0x1F
            } else if shift + 5 <= 64 {
                value = (low >> UInt64(shift)) & 0x1F
            } else {
                let lowPart = low >> UInt64(shift)
                let highPart = high << UInt64(64 - shift)
                value = (lowPart | highPart) & 0x1F
            }
            chars[index] = alphabet[Int(value)]
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
