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
    public static func appendEscaped(_ buffer: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        var runStart = 0
        var index = 0
        let count = buffer.count
        while index < count {
            let byte = buffer[index]
            var escape: (UInt8, UInt8)? = nil
            var needsUnicodeEscape = false
            var skip = 1
            switch byte {
            case 0x22: escape = (0x5C, 0x22)
            case 0x5C: escape = (0x5C, 0x5C)
            case 0x0A: escape = (0x5C, UInt8(ascii: "n"))
            case 0x0D: escape = (0x5C, UInt8(ascii: "r"))
            case 0x09: escape = (0x5C, UInt8(ascii: "t"))
            case 0x00..<0x20, 0x7F: needsUnicodeEscape = true
            case 0xE2 where index + 2 < count && buffer[index + 1] == 0x80
                && (buffer[index + 2] == 0xA8 || buffer[index + 2] == 0xA9):
                needsUnicodeEscape = true
                skip = 3
            default:
                index &+= 1
                continue
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<index]))
            if let (first, second) = escape {
                bytes.append(first)
                bytes.append(second)
            } else if needsUnicodeEscape {
                let scalar: UInt16 = skip == 3 ? (buffer[index + 2] == 0xA8 ? 0x2028 : 0x2029) : UInt16(byte)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"),
                                          hexDigits[Int(scalar >> 12)], hexDigits[Int((scalar >> 8) & 0xF)],
                                          hexDigits[Int((scalar >> 4) & 0xF)], hexDigits[Int(scalar & 0xF)]])
            }
            index &+= skip
            runStart = index
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<count]))
    }
}
