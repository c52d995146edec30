import Ingest

/// The three JSON-text columns of `events` (`users`, `plugins`, `extra`), written as
/// canonical compact JSON (no spaces, keys sorted by UTF-8 bytes where the contract says
/// sorted) so `json_extract_string` and byte comparisons behave the same everywhere.
enum EventJSONColumns {
    /// `users{total <role>...}` → (`users_total`, `users` JSON of the other roles with int counts).
    static func users(_ value: JSONValue?, reader: inout PayloadFieldReader) -> (total: Int64?, roles: String?) {
        guard let value else { return (nil, nil) }
        guard case .object(let object) = value else {
            countNotAnObject(value, reader: &reader)
            return (nil, nil)
        }
        var total: Int64?
        var roles: [(String, Int64)] = []
        for (key, count) in object.pairs {
            if key == "total" {
                total = reader.int64(count)
            } else if let number = reader.int64(count) {
                roles.append((key, number))
            }
        }
        guard !roles.isEmpty else { return (total, nil) }
        roles.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (position, (role, count)) in roles.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(role, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: String(count).utf8)
        }
        bytes.append(UInt8(ascii: "}"))
        return (total, String(decoding: bytes, as: UTF8.self))
    }

    /// `plugins{<slug>{name version}}` → `[{"slug":…,"name":…,"version":…},…]` sorted by slug,
    /// a missing or empty name/version as null. An entry that is not an object keeps its
    /// slug with null name and version (and counts as a cast failure).
    static func plugins(_ value: JSONValue?, reader: inout PayloadFieldReader) -> String? {
        guard let value else { return nil }
        guard case .object(let object) = value else {
            countNotAnObject(value, reader: &reader)
            return nil
        }
        var entries: [(slug: String, name: String?, version: String?)] = []
        entries.reserveCapacity(object.count)
        for (slug, details) in object.pairs {
            guard let slugText = FieldCast.trimmed(slug) else { continue }
            switch details {
            case .object(let fields):
                entries.append((slugText, reader.text(fields["name"]), reader.text(fields["version"])))
            case .null:
                entries.append((slugText, nil, nil))
            default:
                reader.castFailures += 1
                entries.append((slugText, nil, nil))
            }
        }
        return pluginsText(entries)
    }

    /// The `plugins` column text of parsed entries: sorted by slug (bytewise), one
    /// `{"slug","name","version"}` object each; nil when there are none. Shared by the JSON
    /// tree path and the scanned-line path so both write the same bytes.
    static func pluginsText(_ entries: [(slug: String, name: String?, version: String?)]) -> String? {
        guard !entries.isEmpty else { return nil }
        let entries = entries.sorted { $0.slug.utf8.lexicographicallyPrecedes($1.slug.utf8) }
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        bytes.reserveCapacity(entries.count * 64)
        for (position, entry) in entries.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: #"{"slug":"#.utf8)
            JSONWriter.appendString(entry.slug, to: &bytes)
            bytes.append(contentsOf: #","name":"#.utf8)
            appendNullable(entry.name, to: &bytes)
            bytes.append(contentsOf: #","version":"#.utf8)
            appendNullable(entry.version, to: &bytes)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: "]"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `extra{…}` → the project's declared fields only, each cast to its declared type; a
    /// value that does not cast is dropped (and counted). Keys sorted; nil when none is left.
    static func extra(_ value: JSONValue?, declared: [Project.ExtraField], reader: inout PayloadFieldReader) -> String? {
        guard let value else { return nil }
        guard case .object(let object) = value else {
            countNotAnObject(value, reader: &reader)
            return nil
        }
        guard !declared.isEmpty, !object.isEmpty else { return nil }
        var fields: [(key: String, json: String)] = []
        for field in declared where !fields.contains(where: { $0.key == field.key }) {
            guard let leaf = object[field.key] else { continue }
            switch field.type {
            case .string:
                if let text = reader.text(leaf) { fields.append((field.key, quoted(text))) }
            case .int:
                if let number = reader.int64(leaf) { fields.append((field.key, String(number))) }
            case .float:
                if let number = reader.finiteDouble(leaf) { fields.append((field.key, FieldCast.jsonNumberText(number))) }
            case .bool:
                if let flag = reader.bool(leaf) { fields.append((field.key, flag ? "true" : "false")) }
            }
        }
        return extraText(fields)
    }

    /// The `extra` column text of cast fields (`json` is each value's JSON text): keys sorted
    /// bytewise; nil when none is left. Shared by the JSON-tree and scanned-line paths.
    static func extraText(_ fields: [(key: String, json: String)]) -> String? {
        guard !fields.isEmpty else { return nil }
        let fields = fields.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (position, field) in fields.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(field.key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: field.json.utf8)
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A map field that holds something else: a non-empty scalar or a non-empty array is a
    /// cast failure; null, `""` and `[]` (PHP's `json_encode` of an empty array) are just absent.
    private static func countNotAnObject(_ value: JSONValue, reader: inout PayloadFieldReader) {
        switch value {
        case .null, .object: return
        case .array(let elements): if !elements.isEmpty { reader.castFailures += 1 }
        case .string, .number, .bool: if reader.text(value) != nil { reader.castFailures += 1 }
        }
    }

    private static func appendNullable(_ text: String?, to bytes: inout [UInt8]) {
        if let text { JSONWriter.appendString(text, to: &bytes) } else { bytes.append(contentsOf: "null".utf8) }
    }

    static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        JSONWriter.appendString(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
