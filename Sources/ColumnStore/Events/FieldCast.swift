/// The value rules of CONTRACT §4 for one scalar text: trimming, bools, ints, floats and the
/// `major.minor` of a version. Each returns nil when the text does not cast; callers decide
/// whether that counts as a cast failure.
public enum FieldCast {
    /// The text without leading and trailing whitespace (Unicode White_Space); nil when nothing is left.
    public static func trimmed(_ text: String) -> String? {
        // Fast path, the common case: starts and ends with visible ASCII, nothing to trim.
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last else { return nil }
        if first > 0x20 && first < 0x7F && last > 0x20 && last < 0x7F { return text }
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, isWhitespace(scalars[start]) { start = scalars.index(after: start) }
        while end > start, isWhitespace(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        if start == end { return nil }
        // The common case has nothing to trim: hand back the same storage instead of copying.
        if start == scalars.startIndex && end == scalars.endIndex { return text }
        return String(scalars[start..<end])
    }

    @inline(__always)
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value == 0x20 || (scalar.value >= 0x09 && scalar.value <= 0x0D) }
        return scalar.properties.isWhitespace
    }

    /// `1 yes true on` → true, `0 no false off` → false, case-insensitive, around whitespace;
    /// anything else nil.
    public static func bool(_ text: String) -> Bool? {
        guard let token = trimmed(text), token.utf8.count <= 5 else { return nil }
        switch token.lowercased() {
        case "1", "yes", "true", "on": return true
        case "0", "no", "false", "off": return false
        default: return nil
        }
    }

    /// Decimal integer text (`[+-]?[0-9]+`, around whitespace) that fits Int64; else nil.
    /// `8.0`, `1e3`, `0x10` and `12abc` are not decimal integers.
    public static func int64(_ text: String) -> Int64? {
        guard let token = trimmed(text) else { return nil }
        var utf8 = token.utf8[...]
        var negative = false
        if let sign = utf8.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        guard !utf8.isEmpty else { return nil }
        // Accumulate negatively so Int64.min parses without overflowing.
        var value: Int64 = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = shifted.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflowA || overflowB { return nil }
            value = next
        }
        if negative { return value }
        return value == Int64.min ? nil : -value
    }

    /// A JSON number literal whose value is a whole number (`8.0`, `1e3`) as Int64.
    ///
    /// JSON has one number type and encoders such as PHP's or Python's write whole floats as
    /// `8.0`, so a JSON-body number that is exactly integral is taken as the int it means.
    /// Only whole numbers within ±2^53 qualify, where a double is exact.
    public static func int64(jsonNumberLiteral literal: String) -> Int64? {
        if let exact = int64(literal) { return exact }
        guard let double = Double(literal), double.isFinite, double.rounded(.towardZero) == double,
              abs(double) <= 9_007_199_254_740_992 else { return nil }
        return Int64(double)
    }

    /// Decimal floating-point text (`[+-]?(d+[.d*]|.d+)([eE][+-]?d+)?`, around whitespace)
    /// with a finite value; nil for `nan`, `inf`, hex floats and anything else.
    public static func finiteDouble(_ text: String) -> Double? {
        guard let token = trimmed(text) else { return nil }
        let bytes = token.utf8
        var index = bytes.startIndex
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        func skipDigits() -> Int {
            var count = 0
            while index < bytes.endIndex, isDigit(bytes[index]) { index = bytes.index(after: index); count += 1 }
            return count
        }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            index = bytes.index(after: index)
        }
        var mantissaDigits = skipDigits()
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            index = bytes.index(after: index)
            mantissaDigits += skipDigits()
        }
        guard mantissaDigits > 0 else { return nil }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index = bytes.index(after: index)
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index = bytes.index(after: index)
            }
            guard skipDigits() > 0 else { return nil }
        }
        guard index == bytes.endIndex, let value = Double(token), value.isFinite else { return nil }
        return value
    }

    /// A finite double as a JSON number: Swift's shortest round-trip form (`2.5`, `42.0`,
    /// `1e+16`), which is valid JSON and reads back to the same double.
    public static func jsonNumberText(_ value: Double) -> String {
        precondition(value.isFinite, "JSON has no NaN or infinity")
        return value.description
    }

    /// `^(\d+)\.(\d+)` of a version, as written (`8.1.27` → `8.1`, `10.6.12-MariaDB` → `10.6`);
    /// nil when the version does not start that way.
    public static func minorVersion(_ version: String) -> String? {
        let bytes = version.utf8
        var index = bytes.startIndex
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        var majorDigits = 0
        while index < bytes.endIndex, isDigit(bytes[index]) { index = bytes.index(after: index); majorDigits += 1 }
        guard majorDigits > 0, index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") else { return nil }
        index = bytes.index(after: index)
        var minorDigits = 0
        while index < bytes.endIndex, isDigit(bytes[index]) { index = bytes.index(after: index); minorDigits += 1 }
        guard minorDigits > 0 else { return nil }
        return String(version[..<index])
    }
}
