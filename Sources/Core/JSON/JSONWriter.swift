/// Serializes `JSONValue` trees and scalars to compact UTF-8 JSON, appending to a byte array.
public enum JSONWriter {
    public static func serialize(_ value: JSONValue) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        append(value, to: &bytes)
        return bytes
    }

    public static func string(_ value: JSONValue) -> String {
        String(decoding: serialize(value), as: UTF8.self)
    }

    public static func append(_ value: JSONValue, to bytes: inout [UInt8]) {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let literal): bytes.append(contentsOf: literal.utf8)
        case .string(let string): appendString(string, to: &bytes)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                append(element, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            for (key, element) in object.pairs {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                appendString(key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                append(element, to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends a quoted JSON string. Non-ASCII stays raw UTF-8; control characters,
    /// quotes and backslashes are escaped. U+2028/2029 are escaped so lines stay lines
    /// for tools that treat them as line breaks.
    public static func appendString(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var utf8 = string.utf8
        let handled: Void? = utf8.withContiguousStorageIfAvailable { buffer in
            appendEscaped(UnsafeBufferPointer(rebasing: buffer[...]), to: &bytes)
        }
        if handled == nil {
            var copy = string
            copy.makeContiguousUTF8()
            utf8 = copy.utf8
            utf8.withContiguousStorageIfAvailable { buffer in
                appendEscaped(UnsafeBufferPointer(rebasing: buffer[...]), to: &bytes)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends UTF-8 text as the inside of a JSON string (escaped as `appendString` does).
    ///
    /// Runs of bytes that need no escape are found with one table load per byte and copied
    /// with one `append(contentsOf:)` each: this is on the ingest path for every form value.
    public static func appendEscaped(_ buffer: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        let count = buffer.count
        guard count > 0, let base = buffer.baseAddress else { return }
        escapeClasses.withUnsafeBufferPointer { classes in
            var runStart = 0
            var index = 0
            while true {
                while index < count && classes[Int(base[index])] == EscapeClass.none { index &+= 1 }
                if index == count { break }
                let byte = base[index]
                var skip = 1
                var scalar: UInt16? = nil
                var second: UInt8 = 0
                switch classes[Int(byte)] {
                case EscapeClass.short:
                    switch byte {
                    case 0x0A: second = UInt8(ascii: "n")
                    case 0x0D: second = UInt8(ascii: "r")
                    case 0x09: second = UInt8(ascii: "t")
                    default: second = byte  // `"` and `\`
                    }
                case EscapeClass.unicode:
                    scalar = UInt16(byte)
                default:  // 0xE2: only U+2028 / U+2029 are escaped
                    guard index &+ 2 < count, base[index &+ 1] == 0x80,
                          base[index &+ 2] == 0xA8 || base[index &+ 2] == 0xA9 else {
                        index &+= 1
                        continue
                    }
                    scalar = base[index &+ 2] == 0xA8 ? 0x2028 : 0x2029
                    skip = 3
                }
                bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: index &- runStart))
                if let scalar {
                    bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"),
                                              hexDigits[Int(scalar >> 12)], hexDigits[Int((scalar >> 8) & 0xF)],
                                              hexDigits[Int((scalar >> 4) & 0xF)], hexDigits[Int(scalar & 0xF)]])
                } else {
                    bytes.append(0x5C)
                    bytes.append(second)
                }
                index &+= skip
                runStart = index
            }
            bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: count &- runStart))
        }
    }

    /// Public for Ingest's `FormTranscoder`, which escapes with the same table.
    public enum EscapeClass {
        public static let none: UInt8 = 0
        /// `\"`, `\\`, `\n`, `\r`, `\t`
        public static let short: UInt8 = 1
        /// Other control characters and DEL: `\u00XX`.
        public static let unicode: UInt8 = 2
        /// 0xE2: the first byte of U+2028 / U+2029 (and of many characters that stay raw).
        public static let lineSeparatorLead: UInt8 = 3
    }

    /// `escapeClasses` in raw memory that lives as long as the process, for writers that
    /// keep a pointer (`FormTranscoder.ByteSink`).
    /// `nonisolated(unsafe)`: the pointer is a `let` set once by the static initializer
    /// (`swift_once`, thread-safe), the memory is filled before it is published and never
    /// written afterwards (only read through `UnsafePointer`), and never freed.
    nonisolated(unsafe) public static let escapeClassTable: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        table.initialize(from: escapeClasses, count: 256)
        return UnsafePointer(table)
    }()

    private static let escapeClasses: [UInt8] = (0..<256).map { byte -> UInt8 in
        switch byte {
        case 0x22, 0x5C, 0x0A, 0x0D, 0x09: return EscapeClass.short
        case 0x00..<0x20, 0x7F: return EscapeClass.unicode
        case 0xE2: return EscapeClass.lineSeparatorLead
        default: return EscapeClass.none
        }
    }
}
