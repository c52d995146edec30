#if canImport(Glibc)
import Core
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A payload key: a literal known at compile time (no escaping, no reference counting) or a
/// runtime string such as a plugin slug or an extra field's key.
enum PayloadKey: ExpressibleByStringLiteral {
    case fixed(StaticString)
    case dynamic(String)

    init(stringLiteral literal: StaticString) { self = .fixed(literal) }

    var text: String {
        switch self {
        case .fixed(let literal): return literal.description
        case .dynamic(let text): return text
        }
    }
}

/// Where `SitePayloadBuilder` puts a payload: one description of the SDK body, two outputs.
///
/// `JSONBytesSink` writes compact JSON straight into a byte buffer (the generator's hot path:
/// no tree, no per-node allocation); `JSONObjectSink` builds the `JSONObject` ingest would
/// store (samples and tests). Both give the same bytes once the object goes through
/// `JSONWriter`, which the generator tests check line by line.
protocol PayloadSink {
    mutating func string(_ key: PayloadKey, _ value: String)
    /// A count: a decimal string in form bodies, a JSON number in JSON bodies.
    mutating func count(_ key: PayloadKey, _ value: Int, asNumber: Bool)
    /// A JSON number literal (already valid JSON number text).
    mutating func number(_ key: PayloadKey, _ literal: String)
    mutating func bool(_ key: PayloadKey, _ value: Bool)
    /// An IPv4 address as dotted-decimal text.
    mutating func ipv4(_ key: PayloadKey, _ address: UInt32)
    mutating func beginObject(_ key: PayloadKey)
    mutating func endObject()
}

/// Compact JSON bytes in a manually managed buffer: appends are a bounds check and a copy,
/// with none of `Array`'s uniqueness checks. The owner calls `deallocate()` when done.
struct JSONBytesSink: PayloadSink {
    private var raw: RawBytes
    /// No member written yet at the current nesting level (so no comma before the next one).
    private var atFirstMember = true
    /// For the rare strings that need escaping (through `JSONWriter`).
    private var scratch: [UInt8] = []

    init(capacity: Int = 16 * 1024) {
        raw = RawBytes(capacity: capacity)
    }

    func deallocate() { raw.deallocate() }

    var bytes: UnsafeRawBufferPointer { raw.bytes }

    mutating func removeAll() { raw.removeAll() }

    @inline(__always)
    mutating func append(_ byte: UInt8) { raw.append(byte) }

    @inline(__always)
    mutating func append(_ buffer: UnsafeRawBufferPointer) { raw.append(buffer) }

    @inline(__always)
    mutating func append(_ literal: StaticString) {
        append(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    mutating func append(_ array: [UInt8]) {
        array.withUnsafeBytes { append($0) }
    }

    /// A JSON string, exactly as `JSONWriter.appendString` writes it.
    @inline(__always)
    mutating func appendQuoted(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            if Self.isVerbatimInJSON(utf8) {
                raw.reserve(utf8.count + 2)
                let at = raw.end
                at[0] = UInt8(ascii: "\"")
                if let source = utf8.baseAddress { memcpy(at + 1, source, utf8.count) }
                at[1 + utf8.count] = UInt8(ascii: "\"")
                raw.advance(by: utf8.count + 2)
            } else {
                appendEscaped(utf8)
            }
        }
    }

    @inline(never)
    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(UInt8(ascii: "\""))
        JSONWriter.appendEscaped(utf8, to: &scratch)
        scratch.append(UInt8(ascii: "\""))
        scratch.withUnsafeBytes { append($0) }
    }

    /// Opens the top-level object at the end of the buffer.
    mutating func openObject() {
        append(UInt8(ascii: "{"))
        atFirstMember = true
    }

    mutating func closeObject() {
        append(UInt8(ascii: "}"))
        atFirstMember = false
    }

    @inline(__always)
    private mutating func key(_ key: PayloadKey) {
        if !atFirstMember { append(UInt8(ascii: ",")) }
        atFirstMember = false
        switch key {
        case .fixed(let literal):
            // Literal keys are plain snake_case ASCII: nothing to escape.
            append(UInt8(ascii: "\""))
            append(literal)
            append(UInt8(ascii: "\""))
        case .dynamic(let text):
            appendQuoted(text)
        }
        append(UInt8(ascii: ":"))
    }

    mutating func string(_ key: PayloadKey, _ value: String) {
        self.key(key)
        appendQuoted(value)
    }

    mutating func count(_ key: PayloadKey, _ value: Int, asNumber: Bool) {
        self.key(key)
        if !asNumber { append(UInt8(ascii: "\"")) }
        appendDecimal(value)
        if !asNumber { append(UInt8(ascii: "\"")) }
    }

    mutating func number(_ key: PayloadKey, _ literal: String) {
        self.key(key)
        var literal = literal
        literal.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    mutating func bool(_ key: PayloadKey, _ value: Bool) {
        self.key(key)
        append(value ? "true" : "false")
    }

    mutating func ipv4(_ key: PayloadKey, _ address: UInt32) {
        self.key(key)
        appendQuotedIPv4(address)
    }

    /// `"a.b.c.d"` without building a String.
    mutating func appendQuotedIPv4(_ address: UInt32) {
        append(UInt8(ascii: "\""))
        appendDecimal(address >> 24)
        append(UInt8(ascii: "."))
        appendDecimal(address >> 16 & 0xFF)
        append(UInt8(ascii: "."))
        appendDecimal(address >> 8 & 0xFF)
        append(UInt8(ascii: "."))
        appendDecimal(address & 0xFF)
        append(UInt8(ascii: "\""))
    }

    mutating func beginObject(_ key: PayloadKey) {
        self.key(key)
        append(UInt8(ascii: "{"))
        atFirstMember = true
    }

    mutating func endObject() {
        append(UInt8(ascii: "}"))
        atFirstMember = false
    }

    /// Decimal digits of an integer, without going through `String`.
    mutating func appendDecimal<Integer: BinaryInteger>(_ value: Integer) {
        var magnitude = UInt64(value.magnitude)
        if value < 0 { append(UInt8(ascii: "-")) }
        raw.reserve(20)
        var digits = 1
        var probe = magnitude
        while probe >= 10 { probe /= 10; digits += 1 }
        let at = raw.end
        var position = digits - 1
        repeat {
            at[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            position -= 1
        } while magnitude > 0
        raw.advance(by: digits)
    }
}

/// Builds the nested `JSONObject` a form or JSON body becomes in the raw envelope.
struct JSONObjectSink: PayloadSink {
    private var stack: [(key: String, object: JSONObject)] = [("", JSONObject())]

    var object: JSONObject { stack[0].object }

    private mutating func set(_ key: PayloadKey, _ value: JSONValue) { stack[stack.count - 1].object[key.text] = value }

    mutating func string(_ key: PayloadKey, _ value: String) { set(key, .string(value)) }

    mutating func count(_ key: PayloadKey, _ value: Int, asNumber: Bool) {
        set(key, asNumber ? .number(String(value)) : .string(String(value)))
    }

    mutating func number(_ key: PayloadKey, _ literal: String) { set(key, .number(literal)) }

    mutating func bool(_ key: PayloadKey, _ value: Bool) { set(key, .bool(value)) }

    mutating func ipv4(_ key: PayloadKey, _ address: UInt32) { set(key, .string(SiteProfile.ipText(address))) }

    mutating func beginObject(_ key: PayloadKey) { stack.append((key.text, JSONObject())) }

    mutating func endObject() {
        let (key, object) = stack.removeLast()
        stack[stack.count - 1].object[key] = .object(object)
    }
}
