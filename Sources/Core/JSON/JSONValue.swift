/// A JSON document as received: object keys keep their order, numbers keep their literal text.
///
/// Ingest stores payloads "as received", so the tree must round-trip without reformatting
/// numbers (`1.50` stays `1.50`) or reordering keys. Duplicate keys in an object keep the
/// first position and the last value, as JavaScript's `JSON.parse` does.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's literal text, already validated against the JSON grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// An insertion-ordered JSON object.
///
/// Small objects (the common case: payload maps of tens of keys) are searched linearly; past
/// `indexThreshold` keys a hash index is kept, so a hostile body with 100k keys costs
/// O(n), not O(n²).
public struct JSONObject: Equatable, Sendable {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSONValue] = []
    private var _index: [String: Int]? = nil
    static let indexThreshold = 16

    public init() {}

    public init(_ pairs: [(String, JSONValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.keys == b.keys && a.values == b.values
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    private func position(of key: String) -> Int? {
        if let _index { return _index[key] }
        return keys.firstIndex(of: key)
    }

    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { values[$0] } }
        set {
            if let index = position(of: key) {
                if let newValue { values[index] = newValue } else {
                    keys.remove(at: index)
                    values.remove(at: index)
                    if _index != nil { rebuildIndex() }
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
                if _index != nil {
                    _index![key] = keys.count - 1
                } else if keys.count > Self.indexThreshold {
                    rebuildIndex()
                }
            }
        }
    }

    private mutating func rebuildIndex() {
        var index: [String: Int] = [:]
        index.reserveCapacity(keys.count)
        for (position, key) in keys.enumerated() { index[key] = position }
        _index = index
    }

    public var pairs: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }
}

extension JSONValue {
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The value as a scalar string the way the SDK's form encoding would have sent it:
    /// strings as is, numbers as their literal, booleans as `1`/`0` (PHP's `http_build_query`).
    /// Objects, arrays and null have no scalar form.
    public var scalarText: String? {
        switch self {
        case .string(let string): return string
        case .number(let literal): return literal
        case .bool(let flag): return flag ? "1" : "0"
        case .null, .array, .object: return nil
        }
    }

    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}
