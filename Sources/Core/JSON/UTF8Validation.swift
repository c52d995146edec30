/// UTF-8 well-formedness over raw bytes, without generics.
///
/// `String(validating:as:)` over a slice of an `UnsafeRawBufferPointer` is not specialized
/// in the standard library: profiles of compaction showed it spending most of its time
/// looking up generic metadata, once per JSON string. This check accepts exactly what
/// `String(validating:)` accepts (Unicode Table 3-7: no overlong forms, no surrogates, no
/// scalars above U+10FFFF, no truncated sequences), so callers can then build the string
/// with `String(decoding:as:)`, which repairs nothing on valid input.
public enum UTF8Validation {
    /// True when every byte is below 0x80 (checked 8 bytes at a time).
    @inlinable
    public static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var index = 0
        while index + 8 <= count {
            if base.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            index += 8
        }
        while index < count {
            if base.load(fromByteOffset: index, as: UInt8.self) >= 0x80 { return false }
            index += 1
        }
        return true
    }

    /// True when `bytes` is well-formed UTF-8.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if isASCII(bytes) { return true }
        let count = bytes.count
        var index = 0
        @inline(__always) func continuation(_ offset: Int) -> Bool { bytes[offset] & 0xC0 == 0x80 }
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 { index += 1; continue }
            if lead < 0xC2 { return false }                       // continuation byte or overlong 2-byte lead
            if lead < 0xE0 {
                guard index + 1 < count, continuation(index + 1) else { return false }
                index += 2
                continue
            }
            if lead < 0xF0 {
                guard index + 2 < count, continuation(index + 2) else { return false }
                let second = bytes[index + 1]
                switch lead {
                case 0xE0: guard second >= 0xA0 && second <= 0xBF else { return false }   // overlong
                case 0xED: guard second >= 0x80 && second <= 0x9F else { return false }   // surrogates
                default: guard second & 0xC0 == 0x80 else { return false }
                }
                index += 3
                continue
            }
            if lead < 0xF5 {
                guard index + 3 < count, continuation(index + 2), continuation(index + 3) else { return false }
                let second = bytes[index + 1]
                switch lead {
                case 0xF0: guard second >= 0x90 && second <= 0xBF else { return false }   // overlong
                case 0xF4: guard second >= 0x80 && second <= 0x8F else { return false }   // above U+10FFFF
                default: guard second & 0xC0 == 0x80 else { return false }
                }
                index += 4
                continue
            }
            return false
        }
        return true
    }

    /// The bytes as a `String`; nil when they are not well-formed UTF-8.
    @inlinable
    public static func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard isValid(bytes) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
