// json_extract_string(json, path): walks the JSON text without building a tree.
// Paths: '$.a.b', '$.a[0]', '$."key.with.dots"', JSON pointers '/a/b', or a bare key 'a'.
// Results: strings unescaped, integers and booleans as written, other numbers as DuckDB's
// yyjson writes them (`yyjsonDouble`), objects and arrays as minified JSON (numbers inside
// rewritten the same way), JSON null and missing paths as SQL NULL (DuckDB's behaviour).

enum JSONPathStep: Equatable {
    case key([UInt8])
    case index(Int)
}

func parseJSONPath(_ path: [UInt8]) throws -> [JSONPathStep] {
    func fail(_ reason: String) -> QueryError {
        QueryError(.invalidInput, "JSON path error: \(reason) in '\(String(decoding: path, as: UTF8.self))'")
    }
    guard let first = path.first else { throw fail("empty path") }
    if first == UInt8(ascii: "/") {
        return path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst().map {
            let unescaped = String(decoding: $0, as: UTF8.self)
                .replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            return .key(Array(unescaped.utf8))
        }
    }
    guard first == UInt8(ascii: "$") else { return [.key(path)] }
    var steps: [JSONPathStep] = []
    var index = 1
    while index < path.count {
        let byte = path[index]
        if byte == UInt8(ascii: ".") {
            index += 1
            if index < path.count, path[index] == UInt8(ascii: "\"") {
                index += 1
                var key: [UInt8] = []
                while index < path.count, path[index] != UInt8(ascii: "\"") { key.append(path[index]); index += 1 }
                guard index < path.count else { throw fail("unterminated quoted key") }
                index += 1
                steps.append(.key(key))
            } else {
                var key: [UInt8] = []
                while index < path.count, path[index] != UInt8(ascii: "."), path[index] != UInt8(ascii: "[") {
                    key.append(path[index])
                    index += 1
                }
                guard !key.isEmpty else { throw fail("empty key") }
                if key == [UInt8(ascii: "*")] { throw QueryError(.notSupported, "JSON path wildcards are not supported") }
                steps.append(.key(key))
            }
        } else if byte == UInt8(ascii: "[") {
            index += 1
            var digits: [UInt8] = []
            while index < path.count, path[index] != UInt8(ascii: "]") { digits.append(path[index]); index += 1 }
            guard index < path.count, let number = Int(String(decoding: digits, as: UTF8.self)), number >= 0 else {
                throw fail("expected [index]")
            }
            index += 1
            steps.append(.index(number))
        } else {
            throw fail("expected \".\" or \"[\" at position \(index)")
        }
    }
    return steps
}

/// The value at `steps` as text, or nil for JSON null / missing. Throws on malformed JSON.
func extractJSONString(_ json: UnsafeBufferPointer<UInt8>, _ steps: [JSONPathStep]) throws -> [UInt8]? {
    var scanner = JSONScanner(bytes: json)
    scanner.skipWhitespace()
    guard scanner.position < json.count else { throw scanner.malformed() }
    for step in steps {
        switch step {
        case .key(let key):
            guard scanner.peek == UInt8(ascii: "{") else {
                try scanner.skipValue()
                try scanner.expectEnd()
                return nil
            }
            guard try scanner.enterMember(named: key) else { return nil }
        case .index(let wanted):
            guard scanner.peek == UInt8(ascii: "[") else {
                try scanner.skipValue()
                try scanner.expectEnd()
                return nil
            }
            guard try scanner.enterElement(wanted) else { return nil }
        }
    }
    let start = scanner.position
    switch scanner.peek {
    case UInt8(ascii: "\""):
        return try scanner.readString()
    case UInt8(ascii: "n"):
        try scanner.skipValue()
        return nil
    case UInt8(ascii: "{"), UInt8(ascii: "["):
        try scanner.skipValue()
        return minifyJSON(UnsafeBufferPointer(rebasing: json[start..<scanner.position]))
    default:
        try scanner.skipValue()
        return rewrittenNumber(json[start..<scanner.position])
    }
}

/// A number token as DuckDB returns it: integers as written, others re-serialised by yyjson
/// (1.50 -> 1.5, 1e+16 -> 10000000000000000.0).
private func rewrittenNumber(_ token: UnsafeBufferPointer<UInt8>.SubSequence) -> [UInt8] {
    if token.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
       let number = Double(String(decoding: token, as: UTF8.self)) {
        return Array(yyjsonDouble(number).utf8)
    }
    return Array(token)
}

/// A double as yyjson (DuckDB's JSON writer) prints it: the shortest digits that read back
/// the same, in plain notation when the decimal exponent is in -6...20 (`.0` added to whole
/// numbers), else `d.ddde<exponent>` with no `+` and no leading zeros: 1e16 ->
/// `10000000000000000.0`, 1e21 -> `1e21`, 0.00001 -> `0.00001`, 1.5e-7 -> `1.5e-7`. (Swift's
/// `description`, which `CAST(x AS VARCHAR)` uses as DuckDB does, says `1e+16` and `1e-05`.)
func yyjsonDouble(_ value: Double) -> String {
    guard value.isFinite else { return formatDouble(value) }
    if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
    // Shortest round-trip digits from Swift, then placed by yyjson's rules.
    let text = value.magnitude.description
    var mantissa = Substring(text)
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = text[..<e]
        exponent = Int(text[text.index(after: e)...]) ?? 0
    }
    var digits: [Character]
    var pointPosition: Int
    if let dot = mantissa.firstIndex(of: ".") {
        digits = Array(mantissa[..<dot]) + Array(mantissa[mantissa.index(after: dot)...])
        pointPosition = mantissa.distance(from: mantissa.startIndex, to: dot)
    } else {
        digits = Array(mantissa)
        pointPosition = digits.count
    }
    while digits.count > 1 && digits.first == "0" { digits.removeFirst(); pointPosition -= 1 }
    while digits.count > 1 && digits.last == "0" { digits.removeLast() }
    // value = d.ddd × 10^decimalExponent
    let decimalExponent = pointPosition - 1 + exponent
    let sign = value < 0 ? "-" : ""
    if (-6...20).contains(decimalExponent) {
        if decimalExponent >= digits.count - 1 {
            return sign + String(digits) + String(repeating: "0", count: decimalExponent - (digits.count - 1)) + ".0"
        }
        if decimalExponent >= 0 {
            return sign + String(digits[...decimalExponent]) + "." + String(digits[(decimalExponent + 1)...])
        }
        return sign + "0." + String(repeating: "0", count: -decimalExponent - 1) + String(digits)
    }
    let rest = digits.dropFirst()
    return sign + String(digits[0]) + (rest.isEmpty ? "" : "." + String(rest)) + "e" + String(decimalExponent)
}

private func minifyJSON(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var inString = false
    var escaped = false
    var index = 0
    while index < bytes.count {
        let byte = bytes[index]
        index += 1
        if !inString && (byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)) {
            // A number: its token runs to the next delimiter.
            var end = index
            while end < bytes.count, !",]} \n\r\t".utf8.contains(bytes[end]) { end += 1 }
            out.append(contentsOf: rewrittenNumber(bytes[(index - 1)..<end]))
            index = end
            continue
        }
        if inString {
            out.append(byte)
            if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
        } else if byte == UInt8(ascii: "\"") {
            inString = true
            out.append(byte)
        } else if byte != 0x20 && byte != 0x0A && byte != 0x0D && byte != 0x09 {
            out.append(byte)
        }
    }
    return out
}

private struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var depth = 0

    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    func malformed() -> QueryError {
        QueryError(.invalidInput, "Malformed JSON at byte \(position) of input")
    }

    mutating func skipWhitespace() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x0A || bytes[position] == 0x0D
            || bytes[position] == 0x09 { position += 1 }
    }

    mutating func expect(_ byte: UInt8) throws {
        skipWhitespace()
        guard peek == byte else { throw malformed() }
        position += 1
        skipWhitespace()
    }

    mutating func expectEnd() throws {
        skipWhitespace()
        if depth == 0, position != bytes.count { throw malformed() }
    }

    /// Moves into the object at the cursor to the value of `key`; false when absent.
    mutating func enterMember(named key: [UInt8]) throws -> Bool {
        try expect(UInt8(ascii: "{"))
        depth += 1
        if peek == UInt8(ascii: "}") { return false }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw malformed() }
            let name = try readString()
            try expect(UInt8(ascii: ":"))
            if name == key { return true }
            try skipValue()
            skipWhitespace()
            if peek == UInt8(ascii: ",") { position += 1; continue }
            if peek == UInt8(ascii: "}") { return false }
            throw malformed()
        }
    }

    mutating func enterElement(_ wanted: Int) throws -> Bool {
        try expect(UInt8(ascii: "["))
        depth += 1
        if peek == UInt8(ascii: "]") { return false }
        var index = 0
        while true {
            skipWhitespace()
            if index == wanted { return true }
            try skipValue()
            skipWhitespace()
            index += 1
            if peek == UInt8(ascii: ",") { position += 1; continue }
            if peek == UInt8(ascii: "]") { return false }
            throw malformed()
        }
    }

    /// Reads the string at the cursor, unescaped.
    mutating func readString() throws -> [UInt8] {
        guard peek == UInt8(ascii: "\"") else { throw malformed() }
        position += 1
        var out: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "\"") { return out }
            if byte != UInt8(ascii: "\\") { out.append(byte); continue }
            guard position < bytes.count else { throw malformed() }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = try readHex4()
                if scalar >= 0xD800, scalar < 0xDC00, position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                   bytes[position + 1] == UInt8(ascii: "u") {
                    position += 2
                    let low = try readHex4()
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00)
                }
                out.append(contentsOf: Array(String(UnicodeScalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
            default: out.append(escape)
            }
        }
        throw malformed()
    }

    private mutating func readHex4() throws -> UInt32 {
        guard position + 4 <= bytes.count,
              let value = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16) else {
            throw malformed()
        }
        position += 4
        return value
    }

    /// Skips one complete value (validating its structure loosely). Iterative, with the open
    /// containers on a stack of their closing bytes: the document is any string an analyst
    /// points at (a `url` a site sent, a literal), and recursing per level let 100,000 `[`
    /// overflow the stack; yyjson, DuckDB's parser, is iterative too, so any depth is answered.
    mutating func skipValue() throws {
        var closers: [UInt8] = []
        while true {
            // One value: a scalar, an empty container, or the opening of a container whose
            // first member's value comes next.
            skipWhitespace()
            guard let byte = peek else { throw malformed() }
            switch byte {
            case UInt8(ascii: "\""):
                _ = try readString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                position += 1
                skipWhitespace()
                if peek == close {
                    position += 1
                } else {
                    closers.append(close)
                    if close == UInt8(ascii: "}") { try skipMemberName() }
                    continue
                }
            default:
                try skipScalar()
            }
            // After a complete value: the next member, or close containers.
            while true {
                guard let close = closers.last else { return }
                skipWhitespace()
                if peek == UInt8(ascii: ",") {
                    position += 1
                    if close == UInt8(ascii: "}") { try skipMemberName() }
                    break
                }
                if peek == close {
                    position += 1
                    closers.removeLast()
                    continue
                }
                throw malformed()
            }
        }
    }

    /// `"name":` of an object member.
    private mutating func skipMemberName() throws {
        skipWhitespace()
        _ = try readString()
        try expect(UInt8(ascii: ":"))
    }

    /// `true`, `false`, `null` or a number.
    private mutating func skipScalar() throws {
        let start = position
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20 || b == 0x0A
                || b == 0x0D || b == 0x09 { break }
            position += 1
        }
        let token = String(decoding: bytes[start..<position], as: UTF8.self)
        guard token == "true" || token == "false" || token == "null" || Double(token) != nil else { throw malformed() }
    }
}
