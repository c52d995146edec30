import Core


/// Reads payload leaves with the CONTRACT §4 value rules and counts what did not cast.
///
/// A cast failure is a value that was there but unusable: a non-empty text that is not a
/// bool or an int, or an object/array where a scalar belongs. Missing keys, JSON null and
/// empty strings are simply NULL. The count feeds the compaction report; the event is
/// always kept.
struct PayloadFieldReader {
    var castFailures = 0

    /// The leaf as trimmed text; nil (and a failure for objects and arrays) when unusable.
    mutating func text(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        switch value {
        case .null: return nil
        case .object, .array:
            castFailures += 1
            return nil
        case .string(let text): return FieldCast.trimmed(text)
        case .number(let literal): return literal
        case .bool(let flag): return flag ? "1" : "0"
        }
    }

    mutating func bool(_ value: JSONValue?) -> Bool? {
        if case .bool(let flag)? = value { return flag }
        guard let text = text(value) else { return nil }
        if let flag = FieldCast.bool(text) { return flag }
        castFailures += 1
        return nil
    }

    mutating func int64(_ value: JSONValue?) -> Int64? {
        // A JSON true is no count, even though its form-encoded twin would read "1".
        if case .bool? = value {
            castFailures += 1
            return nil
        }
        if case .number(let literal)? = value {
            if let number = FieldCast.int64(jsonNumberLiteral: literal) { return number }
            castFailures += 1
            return nil
        }
        guard let text = text(value) else { return nil }
        if let number = FieldCast.int64(text) { return number }
        castFailures += 1
        return nil
    }

    /// A declared float extra: a finite double.
    mutating func finiteDouble(_ value: JSONValue?) -> Double? {
        guard let text = text(value) else { return nil }
        if let number = FieldCast.finiteDouble(text) { return number }
        castFailures += 1
        return nil
    }
}
