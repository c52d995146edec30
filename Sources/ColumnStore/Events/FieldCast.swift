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

    /// A JSON number literal whose exact value is a whole number within Int64 (`8.0`, `1e3`,
    /// `1e18`, `-0.0`) as Int64; nil for anything else.
    ///
    /// JSON has one number type and encoders such as PHP's or Python's write whole floats as
    /// `8.0`, so a JSON-body number that is exactly integral is taken as the int it means.
    /// "Exactly" is decided on the decimal text, not on a double: `1e-999` (which a double
    /// underflows to 0) and `1.00000000000000001` (which a double rounds to 1) are not whole;
    /// `1e999` and `9223372036854775808.0` do not fit Int64 (NULL, as the decimal text
    /// `9223372036854775808` is); `9007199254740993.0` is 9007199254740993, not the nearest
    /// double.
    public static func int64(jsonNumberLiteral literal: String) -> Int64? {
        if let exact = int64(literal) { return exact }
        // JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (leading zeros are
        // tolerated here; the JSON parsers have refused them already).
        let bytes = Array(literal.utf8)
        var index = 0
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var significand: [UInt8] = []                   // integer and fraction digits, in order
        var fractionDigits = 0
        let integerStart = index
        while index < bytes.count, isDigit(bytes[index]) { significand.append(bytes[index]); index += 1 }
        guard index > integerStart else { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < bytes.count, isDigit(bytes[index]) { significand.append(bytes[index]); index += 1 }
            fractionDigits = index - fractionStart
            guard fractionDigits > 0 else { return nil }
        }
        // The exponent saturates at ±10^9: a body holds at most 1 MiB, so no literal has that
        // many significant digits to make up for it, and the answer is the same beyond.
        var exponent = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var exponentNegative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let exponentStart = index
            while index < bytes.count, isDigit(bytes[index]) {
                if exponent < 1_000_000_000 { exponent = exponent * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                index += 1
            }
            guard index > exponentStart else { return nil }
            if exponentNegative { exponent = -exponent }
        }
        guard index == bytes.count else { return nil }
        // value = significand × 10^scale; zero in any spelling (`-0.0`, `0e-999`) is 0.
        guard let firstNonZero = significand.firstIndex(where: { $0 != UInt8(ascii: "0") }) else { return 0 }
        var digits = significand[firstNonZero...]
        var scale = exponent - fractionDigits
        while let last = digits.last, last == UInt8(ascii: "0") {
            digits = digits.dropLast()
            scale += 1
        }
        // The last digit is not 0, so a negative scale leaves a fraction.
        guard scale >= 0, digits.count + scale <= 19 else { return nil }
        // Accumulate negatively so Int64.min fits.
        var value: Int64 = 0
        for byte in digits {
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = shifted.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflowA || overflowB { return nil }
            value = next
        }
        for _ in 0..<scale {
            let (next, overflow) = value.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            value = next
        }
        if negative { return value }
        return value == Int64.min ? nil : -value
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
