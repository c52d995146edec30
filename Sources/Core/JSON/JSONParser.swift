/// A strict RFC 8259 parser over UTF-8 bytes with a nesting limit.
///
/// Strict means: no trailing commas, no comments, no leading zeros, no control characters
/// inside strings, valid UTF-8 only (lone surrogates in `\u` escapes are refused too), and
/// nothing but whitespace after the top-level value. Every error names the byte offset.
public struct JSONParseError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case syntax
        case tooDeep = "too_deep"
        case invalidUTF8 = "invalid_utf8"
    }
    public let kind: Kind
    public let offset: Int
    public let message: String

    public var description: String { "\(message) at byte \(offset)" }
}

public enum JSONParser {
    public static let defaultDepthMax = 32

    public static func parse(_ bytes: [UInt8], depthMax: Int = defaultDepthMax) throws -> JSONValue {
        try bytes.withUnsafeBytes { (buffer) throws -> JSONValue in
            try parse(buffer, depthMax: depthMax)
        }
    }

    public static func parse(_ text: String, depthMax: Int = defaultDepthMax) throws -> JSONValue {
        try parse(Array(text.utf8), depthMax: depthMax)
    }

    /// Parses `bytes`, except that the values of the top-level object's keys in `skipping` are
    /// checked as strictly as any value but not built (they are absent from the result): a
    /// reader that needs a few fields of a large document pays only for those. The same bytes
    /// are accepted or refused, with the same error, as by `parse(_:depthMax:)`.
    public static func parse(_ bytes: [UInt8], depthMax: Int = defaultDepthMax, skipping: Set<String>) throws -> JSONValue {
        try bytes.withUnsafeBytes { (buffer) throws -> JSONValue in
            try parse(buffer, depthMax: depthMax, skipping: skipping)
        }
    }

    public static func parse(_ buffer: UnsafeRawBufferPointer, depthMax: Int = defaultDepthMax,
                             skipping: Set<String> = []) throws -> JSONValue {
        var reader = _Reader(buffer: buffer, depthMax: depthMax)
        reader.skippedKeys = skipping
        reader.skipWhitespace()
        let value = try reader.parseValue(depth: 0)
        reader.skipWhitespace()
        if reader.index != buffer.count {
            throw reader.error(.syntax, "unexpected data after the JSON value")
        }
        return value
    }

    /// The members of a top-level object that come before the first key in `stopKeys`, and
    /// whether such a key was met: from that key on, the bytes are not read at all (neither
    /// built nor checked). For a document whose writer puts its bulky, rarely needed members
    /// last, a reader of the leading ones pays for them alone. When no stop key is met the
    /// whole document was parsed exactly as by `parse(_:depthMax:)`. The members read are
    /// checked as strictly as ever, so what comes back is never a misreading of the bytes,
    /// only a shorter reading: a caller that needs a member the stop cut off must parse again.
    public static func parseLeadingMembers(_ bytes: [UInt8], depthMax: Int = defaultDepthMax,
                                           stoppingAt stopKeys: Set<String>) throws -> (value: JSONValue, stopped: Bool) {
        try bytes.withUnsafeBytes { buffer in
            var reader = _Reader(buffer: buffer, depthMax: depthMax)
            reader.stopKeys = stopKeys
            reader.skipWhitespace()
            let value = try reader.parseValue(depth: 0)
            if reader.stopped { return (value, true) }
            reader.skipWhitespace()
            if reader.index != buffer.count {
                throw reader.error(.syntax, "unexpected data after the JSON value")
            }
            return (value, false)
        }
    }
}

struct _Reader {
    let buffer: UnsafeRawBufferPointer
    let depthMax: Int
    var index = 0
    /// Reused scratch space for decoded string bytes.
    var scratch: [UInt8] = []
    /// Keys of the top-level object whose values are skipped (`skipValue`), not built.
    var skippedKeys: Set<String> = []
    /// Keys of the top-level object at which reading stops (`parseLeadingMembers`), and
    /// whether it did.
    var stopKeys: Set<String> = []
    var stopped = false

    init(buffer: UnsafeRawBufferPointer, depthMax: Int) {
        self.buffer = buffer
        self.depthMax = depthMax
        scratch.reserveCapacity(64)
    }

    func error(_ kind: JSONParseError.Kind, _ message: String) -> JSONParseError {
        JSONParseError(kind: kind, offset: index, message: message)
    }

    @inline(__always) var atEnd: Bool { index >= buffer.count }
    @inline(__always) var peek: UInt8 { buffer[index] }

    mutating func skipWhitespace() {
        while index < buffer.count {
            switch buffer[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index &+= 1
            default: return
            }
        }
    }

    mutating func expect(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard index + count <= buffer.count else { throw error(.syntax, "unexpected end of input") }
        let base = literal.utf8Start
        for offset in 0..<count where buffer[index + offset] != base[offset] {
            throw error(.syntax, "invalid literal")
        }
        index += count
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard !atEnd else { throw error(.syntax, "unexpected end of input, expected a value") }
        switch peek {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error(.syntax, "unexpected character, expected a value")
        }
    }

    mutating func parseObject(depth: Int) throws -> JSONValue {
        if depth > depthMax { throw error(.tooDeep, "JSON nested deeper than \(depthMax) levels") }
        index &+= 1  // {
        var object = JSONObject()
        skipWhitespace()
        if !atEnd && peek == UInt8(ascii: "}") { index &+= 1; return .object(object) }
        while true {
            skipWhitespace()
            guard !atEnd, peek == UInt8(ascii: "\"") else { throw error(.syntax, "expected a string key") }
            let key = try parseString()
            if depth == 1 && stopKeys.contains(key) {
                stopped = true
                return .object(object)
            }
            skipWhitespace()
            guard !atEnd, peek == UInt8(ascii: ":") else { throw error(.syntax, "expected ':' after an object key") }
            index &+= 1
            skipWhitespace()
            if depth == 1 && skippedKeys.contains(key) {
                try skipValue(depth: depth)
            } else {
                object[key] = try parseValue(depth: depth)
            }
            skipWhitespace()
            guard !atEnd else { throw error(.syntax, "unexpected end of input inside an object") }
            if peek == UInt8(ascii: ",") { index &+= 1; continue }
            if peek == UInt8(ascii: "}") { index &+= 1; return .object(object) }
            throw error(.syntax, "expected ',' or '}' in an object")
        }
    }

    mutating func parseArray(depth: Int) throws -> JSONValue {
        if depth > depthMax { throw error(.tooDeep, "JSON nested deeper than \(depthMax) levels") }
        index &+= 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if !atEnd && peek == UInt8(ascii: "]") { index &+= 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard !atEnd else { throw error(.syntax, "unexpected end of input inside an array") }
            if peek == UInt8(ascii: ",") { index &+= 1; continue }
            if peek == UInt8(ascii: "]") { index &+= 1; return .array(elements) }
            throw error(.syntax, "expected ',' or ']' in an array")
        }
    }

    /// `parseValue` without building the value: the same grammar, limits and errors (the
    /// strings are decoded into `scratch` and validated, numbers scanned), no allocation per
    /// value. `JSONTests` holds the two to the same verdicts.
    mutating func skipValue(depth: Int) throws {
        guard !atEnd else { throw error(.syntax, "unexpected end of input, expected a value") }
        switch peek {
        case UInt8(ascii: "{"):
            if depth + 1 > depthMax { throw error(.tooDeep, "JSON nested deeper than \(depthMax) levels") }
            index &+= 1
            skipWhitespace()
            if !atEnd && peek == UInt8(ascii: "}") { index &+= 1; return }
            while true {
                skipWhitespace()
                guard !atEnd, peek == UInt8(ascii: "\"") else { throw error(.syntax, "expected a string key") }
                try skipString()
                skipWhitespace()
                guard !atEnd, peek == UInt8(ascii: ":") else { throw error(.syntax, "expected ':' after an object key") }
                index &+= 1
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard !atEnd else { throw error(.syntax, "unexpected end of input inside an object") }
                if peek == UInt8(ascii: ",") { index &+= 1; continue }
                if peek == UInt8(ascii: "}") { index &+= 1; return }
                throw error(.syntax, "expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            if depth + 1 > depthMax { throw error(.tooDeep, "JSON nested deeper than \(depthMax) levels") }
            index &+= 1
            skipWhitespace()
            if !atEnd && peek == UInt8(ascii: "]") { index &+= 1; return }
            while true {
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard !atEnd else { throw error(.syntax, "unexpected end of input inside an array") }
                if peek == UInt8(ascii: ",") { index &+= 1; continue }
                if peek == UInt8(ascii: "]") { index &+= 1; return }
                throw error(.syntax, "expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try expect("true")
        case UInt8(ascii: "f"): try expect("false")
        case UInt8(ascii: "n"): try expect("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        default: throw error(.syntax, "unexpected character, expected a value")
        }
    }

    /// A string checked like `parseString` (escapes, control characters, UTF-8) without
    /// making a `String` when it has no escapes.
    mutating func skipString() throws {
        let start = index &+ 1
        var end = start
        while end < buffer.count {
            let byte = buffer[end]
            if byte == UInt8(ascii: "\"") {
                index = end
                guard UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: buffer[start..<end])) else {
                    throw JSONParseError(kind: .invalidUTF8, offset: start, message: "string is not valid UTF-8")
                }
                index &+= 1
                return
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            end &+= 1
        }
        // Escapes (rare in skipped values), a control character or no closing quote: the
        // reference path decides, with its errors.
        _ = try parseString()
    }

    mutating func parseNumber() throws -> String {
        let start = index
        try scanNumber()
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self)
    }

    mutating func scanNumber() throws {
        if peek == UInt8(ascii: "-") { index &+= 1 }
        guard !atEnd else { throw error(.syntax, "incomplete number") }
        if peek == UInt8(ascii: "0") {
            index &+= 1
        } else if peek >= UInt8(ascii: "1") && peek <= UInt8(ascii: "9") {
            while !atEnd && peek >= UInt8(ascii: "0") && peek <= UInt8(ascii: "9") { index &+= 1 }
        } else {
            throw error(.syntax, "invalid number")
        }
        if !atEnd && peek == UInt8(ascii: ".") {
            index &+= 1
            let digitsStart = index
            while !atEnd && peek >= UInt8(ascii: "0") && peek <= UInt8(ascii: "9") { index &+= 1 }
            if index == digitsStart { throw error(.syntax, "expected digits after '.'") }
        }
        if !atEnd && (peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E")) {
            index &+= 1
            if !atEnd && (peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-")) { index &+= 1 }
            let digitsStart = index
            while !atEnd && peek >= UInt8(ascii: "0") && peek <= UInt8(ascii: "9") { index &+= 1 }
            if index == digitsStart { throw error(.syntax, "expected digits in the exponent") }
        }
    }

    mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= buffer.count else { throw error(.syntax, "incomplete \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error(.syntax, "invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index &+= 1
        }
        return value
    }

    mutating func parseString() throws -> String {
        index &+= 1  // opening quote
        let start = index
        // Fast path: no escapes. Scan to the closing quote and validate the slice once.
        while index < buffer.count {
            let byte = buffer[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<index])
                guard let string = UTF8Validation.string(slice) else {
                    throw JSONParseError(kind: .invalidUTF8, offset: start, message: "string is not valid UTF-8")
                }
                index &+= 1
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error(.syntax, "control character inside a string") }
            index &+= 1
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start..<index]))
        while index < buffer.count {
            let byte = buffer[index]
            if byte == UInt8(ascii: "\"") {
                index &+= 1
                guard let string = scratch.withUnsafeBytes({ UTF8Validation.string($0) }) else {
                    throw JSONParseError(kind: .invalidUTF8, offset: start, message: "string is not valid UTF-8")
                }
                return string
            }
            if byte < 0x20 { throw error(.syntax, "control character inside a string") }
            if byte != UInt8(ascii: "\\") {
                scratch.append(byte)
                index &+= 1
                continue
            }
            index &+= 1
            guard !atEnd else { break }
            let escape = peek
            index &+= 1
            switch escape {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    guard index + 6 <= buffer.count, buffer[index] == UInt8(ascii: "\\"),
                          buffer[index + 1] == UInt8(ascii: "u") else {
                        throw error(.invalidUTF8, "lone high surrogate in \\u escape")
                    }
                    index &+= 2
                    let low = try parseHex4()
                    guard low >= 0xDC00 && low <= 0xDFFF else {
                        throw error(.invalidUTF8, "invalid low surrogate in \\u escape")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                    throw error(.invalidUTF8, "lone low surrogate in \\u escape")
                }
                appendUTF8(scalar, to: &scratch)
            default:
                throw error(.syntax, "invalid escape sequence")
            }
        }
        throw error(.syntax, "unterminated string")
    }
}

@inline(__always)
func appendUTF8(_ scalar: UInt32, to bytes: inout [UInt8]) {
    switch scalar {
    case 0..<0x80:
        bytes.append(UInt8(scalar))
    case 0x80..<0x800:
        bytes.append(UInt8(0xC0 | (scalar >> 6)))
        bytes.append(UInt8(0x80 | (scalar & 0x3F)))
    case 0x800..<0x10000:
        bytes.append(UInt8(0xE0 | (scalar >> 12)))
        bytes.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        bytes.append(UInt8(0x80 | (scalar & 0x3F)))
    default:
        bytes.append(UInt8(0xF0 | (scalar >> 18)))
        bytes.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
        bytes.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        bytes.append(UInt8(0x80 | (scalar & 0x3F)))
    }
}
