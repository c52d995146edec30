/// Envelope ids: ULIDs (48-bit millisecond time + 80 random bits, Crockford base32, 26 chars).
/// Sortable by time, unique across writers without coordination.
public enum EventID {
    private static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func make(micros: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(micros: micros, using: &generator)
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
