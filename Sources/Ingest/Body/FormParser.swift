import Core

/// Parses `application/x-www-form-urlencoded` bodies the way PHP's `parse_str` builds arrays,
/// which is how the Appsero SDK's `http_build_query` bodies were meant to be read.
///
/// - `&` separates pairs; the first `=` splits key from value; a pair without `=` has an
///   empty value; pairs with an empty key are ignored (as PHP does).
/// - `+` is a space and `%XX` is a byte; a malformed `%` escape is kept literally (as PHP does).
/// - `a[b][c]=v` nests; `a[]=v` appends under the next integer key (one more than the largest
///   integer key so far, PHP's rule); the last value for a path wins; a scalar later replaced
///   by a nested key becomes an object (and vice versa), again last write wins. After the key
///   `9223372036854775807` there is no next key: a later `a[]` pair is dropped, as in PHP.
/// - A key with an unclosed `[` is a plain key with `[` turned into `_` (as PHP does).
/// - Every leaf is a string. Output objects keep first-seen key order.
/// - Limits: at most `keysMax` pairs, nesting at most `depthMax`, decoded bytes must be UTF-8.
public enum FormParser {
    public struct Failure: Error, Equatable, CustomStringConvertible, Sendable {
        public enum Kind: String, Sendable { case tooManyKeys = "too_many_keys", tooDeep = "too_deep", invalidUTF8 = "invalid_utf8" }
        public let kind: Kind
        public let message: String
        public var description: String { message }
    }

    public static let keysMaxDefault = 10_000

    public static func parse(_ body: [UInt8], keysMax: Int = keysMaxDefault,
                             depthMax: Int = JSONParser.defaultDepthMax) throws -> JSONObject {
        let root = Node(leaf: nil)
        var keyCount = 0
        var start = 0
        let count = body.count
        while start <= count {
            var end = start
            while end < count && body[end] != UInt8(ascii: "&") { end += 1 }
            if end > start {
                keyCount += 1
                if keyCount > keysMax {
                    throw Failure(kind: .tooManyKeys, message: "form body has more than \(keysMax) keys")
                }
                var equals = start
                while equals < end && body[equals] != UInt8(ascii: "=") { equals += 1 }
                let rawKey = percentDecode(body, start, equals)
                guard let key = String(validating: rawKey, as: UTF8.self) else {
                    throw Failure(kind: .invalidUTF8, message: "a form key is not valid UTF-8 after percent-decoding")
                }
                let path = splitKey(key)
                // A pair with an empty key is ignored whole (PHP), its value unchecked.
                if path.isEmpty { start = end + 1; continue }
                let rawValue = equals < end ? percentDecode(body, equals + 1, end) : []
                guard let value = String(validating: rawValue, as: UTF8.self) else {
                    throw Failure(kind: .invalidUTF8, message: "the value of form key \"\(truncated(key))\" is not valid UTF-8 after percent-decoding")
                }
                if path.count - 1 > depthMax {
                    throw Failure(kind: .tooDeep, message: "form key \"\(truncated(key))\" is nested deeper than \(depthMax) levels")
                }
                root.assign(path: path[...], value: value)
            }
            start = end + 1
        }
        guard case .object(let object) = root.toJSON() else { return JSONObject() }

        return object
    }

    static func truncated(_ key: String) -> String {
        key.count > 64 ? String(key.prefix(64)) + "…" : key
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    /// `bytes[start..<end]` form-decoded: `+` → space, `%XX` → that byte; a `%` not followed
    /// by two hex digits stays as it is. Also decodes the API's query strings.
    public static func percentDecode(_ bytes: [UInt8], _ start: Int, _ end: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var index = start
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(0x20)
            } else if byte == UInt8(ascii: "%"), index + 2 < end,
                      let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
                continue
            } else {
                out.append(byte)
            }
            index += 1
        }
        return out
    }

    /// `a[b][]` → `["a", "b", nil]` (nil = append). PHP rules for the base name: leading
    /// spaces dropped; an unclosed `[` makes the whole key a plain name with `[` → `_`.
    /// Text after a closing `]` that is not `[` ends the path (PHP ignores it).
    static func splitKey(_ key: String) -> [String?] {
        var scalars = Substring(key)
        while scalars.first == " " { scalars = scalars.dropFirst() }
        guard let open = scalars.firstIndex(of: "[") else {
            return scalars.isEmpty ? [] : [String(scalars)]
        }
        let base = String(scalars[..<open])
        if base.isEmpty { return [] }
        var path: [String?] = [base]
        var rest = scalars[open...]
        while rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else {
                if path.count == 1 {
                    return [String(scalars).replacingOccurrences(of: "[", with: "_")]
                }
                break
            }
            let inner = rest[rest.index(after: rest.startIndex)..<close]
            path.append(inner.isEmpty ? nil : String(inner))
            rest = rest[rest.index(after: close)...]
        }
        return path
    }
}

/// A mutable tree used while assembling form keys; converted to `JSONValue` at the end.
/// Reference semantics on purpose: nested updates mutate in place, never copy a subtree.
private final class Node {
    var leaf: String?
    var keys: [String] = []
    var children: [String: Node] = [:]
    var nextIndex = 0

    init(leaf: String?) { self.leaf = leaf }

    func assign(path: ArraySlice<String?>, value: String) {
        guard let first = path.first else { return }
        if leaf != nil {
            // A scalar replaced by a nested key becomes an object (PHP: last write wins).
            leaf = nil
            keys.removeAll()
            children.removeAll()
            nextIndex = 0
        }
        let key: String
        if let first {
            key = first
            // An integer key (PHP's canonical decimal within Int64: no sign "+", no leading
            // zeros, not "-0"; `99999999999999999999` is a string key) moves the next append
            // index past it. At Int64.max it stays there, as PHP's nNextFreeElement does.
            if let number = Int(first), number >= nextIndex, String(number) == first {
                nextIndex = number == Int.max ? Int.max : number + 1
            }
        } else {
            key = String(nextIndex)
            // PHP's parse_str drops the pair when the next index is taken, which happens only
            // after the key Int64.max ("Cannot add element to the array as the next element
            // is already occupied"); computing Int64.max + 1 would trap.
            if children[key] != nil { return }
            if nextIndex < Int.max { nextIndex += 1 }
        }
        if path.count == 1 {
            if children.updateValue(Node(leaf: value), forKey: key) == nil { keys.append(key) }
            return
        }
        let child: Node
        if let existing = children[key] {
            child = existing
        } else {
            child = Node(leaf: nil)
            children[key] = child
            keys.append(key)
        }
        child.assign(path: path.dropFirst(), value: value)
    }

    func toJSON() -> JSONValue {
        if let leaf { return .string(leaf) }
        var result = JSONObject()
        for key in keys { result[key] = children[key]!.toJSON() }
        return .object(result)
    }
}
