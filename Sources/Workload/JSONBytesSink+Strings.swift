/// Fast JSON string output for generated lines.
///
/// Almost every generated string is printable ASCII without quotes or backslashes, which
/// JSON writes verbatim. Checking that eight bytes at a time and copying in bulk is several
/// times faster than `JSONWriter`'s byte-by-byte escaper; anything else goes to `JSONWriter`,
/// so the output is always exactly what `JSONWriter.appendString` gives.
extension JSONBytesSink {
    /// True when every byte is printable ASCII other than `"` and `\` (0x20...0x7E).
    @inline(__always)
    static func isVerbatimInJSON(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = utf8.baseAddress else { return true }
        let count = utf8.count
        var index = 0
        let raw = UnsafeRawPointer(base)
        while index + 8 <= count {
            if wordNeedsEscaping(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) { return false }
            index += 8
        }
        while index < count {
            let byte = base[index]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C || byte >= 0x7F { return false }
            index += 1
        }
        return true
    }

    /// SWAR test of eight bytes at once (the "has less than" / "has zero byte" bit tricks):
    /// any byte below 0x20, equal to `"`, `\` or DEL, or with the high bit set.
    @inline(__always)
    static func wordNeedsEscaping(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highBits }
        let control = (word &- ones &* 0x20) & ~word & highBits
        let quote = hasZeroByte(word ^ (ones &* 0x22))
        let backslash = hasZeroByte(word ^ (ones &* 0x5C))
        let delete = hasZeroByte(word ^ (ones &* 0x7F))
        return (control | quote | backslash | delete | (word & highBits)) != 0
    }
}
