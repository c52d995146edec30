import Core
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
    /// `{"slug","name","version"}` object each; nil when there are none. The scanned-line
    /// path writes its entries with the same `PluginsTextWriter`, so both write the same bytes.
    static func pluginsText(_ entries: [(slug: String, name: String?, version: String?)]) -> String? {
        guard !entries.isEmpty else { return nil }
        let entries = entries.sorted { $0.slug.utf8.lexicographicallyPrecedes($1.slug.utf8) }
        var writer = PluginsTextWriter(capacity: entries.count * 64)
        for entry in entries {
            var slug = entry.slug
            slug.withUTF8 { slug in
                writer.appendEntry(slug: slug, name: { appendNullable(entry.name, to: &$0) },
                                   version: { appendNullable(entry.version, to: &$0) })
            }
        }
        return writer.finish()
    }

    /// Writes the `plugins` column text entry by entry; the caller gives the entries sorted by
    /// slug bytes and appends each name and version as JSON (a string or `null`).
    struct PluginsTextWriter {
        private var bytes: [UInt8] = [UInt8(ascii: "[")]
        private var isFirst = true

        init(capacity: Int) { bytes.reserveCapacity(capacity) }

        mutating func appendEntry(slug: UnsafeBufferPointer<UInt8>, name: (inout [UInt8]) -> Void,
                                  version: (inout [UInt8]) -> Void) {
            if !isFirst { bytes.append(UInt8(ascii: ",")) }
            isFirst = false
            bytes.append(contentsOf: #"{"slug":""#.utf8)
            JSONWriter.appendEscaped(slug, to: &bytes)
            bytes.append(contentsOf: #"","name":"#.utf8)
            name(&bytes)
            bytes.append(contentsOf: #","version":"#.utf8)
            version(&bytes)
            bytes.append(UInt8(ascii: "}"))
        }

        /// The text; nil when no entry was written.
        mutating func finish() -> String? {
            guard !isFirst else { return nil }
            bytes.append(UInt8(ascii: "]"))
            return String(decoding: bytes, as: UTF8.self)
        }
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
        var builder = ExtraTextBuilder()
        for field in declared where !builder.contains(key: field.key) {
            guard let leaf = object[field.key] else { continue }
            switch field.type {
            case .string:
                if let text = reader.text(leaf) { builder.add(key: field.key) { JSONWriter.appendString(text, to: &$0) } }
            case .int:
                if let number = reader.int64(leaf) { builder.add(key: field.key, int: number) }
            case .float:
                if let number = reader.finiteDouble(leaf) { builder.add(key: field.key, double: number) }
            case .bool:
                if let flag = reader.bool(leaf) { builder.add(key: field.key, bool: flag) }
            }
        }
        return builder.finish()
    }

    /// The `extra` column text of cast fields, built by both the JSON-tree and the
    /// scanned-line path: each field's JSON value is appended to one buffer, and `finish`
    /// writes the object with keys sorted bytewise (nil when no field was added).
    struct ExtraTextBuilder {
        /// Each added field as `"key":value`, back to back (written once, when added).
        private var members: [UInt8] = []
        /// The keys' raw UTF-8, back to back: what `finish` sorts by.
        private var keyBytes: [UInt8] = []
        private var fields: [(key: String, keyBytes: Range<Int>, member: Range<Int>)] = []

        /// Room for a typical payload's extras up front (growing the three buffers from empty
        /// cost more than filling them).
        init() {
            members.reserveCapacity(192)
            keyBytes.reserveCapacity(96)
            fields.reserveCapacity(8)
        }

        /// Whether a field with this key was added (a declared key given twice counts once).
        func contains(key: String) -> Bool { fields.contains { $0.key == key } }

        /// Adds a field whose JSON value `appendValue` appends.
        mutating func add(key: String, _ appendValue: (inout [UInt8]) -> Void) {
            let keyStart = keyBytes.count
            keyBytes.append(contentsOf: key.utf8)
            let start = members.count
            JSONWriter.appendString(key, to: &members)
            members.append(UInt8(ascii: ":"))
            appendValue(&members)
            fields.append((key, keyStart..<keyBytes.count, start..<members.count))
        }

        mutating func add(key: String, int number: Int64) { add(key: key) { $0.append(contentsOf: String(number).utf8) } }
        mutating func add(key: String, double number: Double) {
            add(key: key) { $0.append(contentsOf: FieldCast.jsonNumberText(number).utf8) }
        }
        mutating func add(key: String, bool flag: Bool) { add(key: key) { $0.append(contentsOf: (flag ? "true" : "false").utf8) } }

        /// The object text, keys sorted by their bytes (a stable insertion sort: a handful of
        /// fields); nil when no field was added.
        mutating func finish() -> String? {
            guard !fields.isEmpty else { return nil }
            keyBytes.withUnsafeBytes { keys in
                for index in fields.indices.dropFirst() {
                    var position = index
                    while position > 0 && ParquetWriter.compareBytes(UnsafeRawBufferPointer(rebasing: keys[fields[position].keyBytes]),
                                                                    UnsafeRawBufferPointer(rebasing: keys[fields[position - 1].keyBytes])) < 0 {
                        fields.swapAt(position, position - 1)
                        position -= 1
                    }
                }
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(members.count + fields.count + 1)
            bytes.append(UInt8(ascii: "{"))
            members.withUnsafeBytes { members in
                for (position, field) in fields.enumerated() {
                    if position > 0 { bytes.append(UInt8(ascii: ",")) }
                    bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: members[field.member]))
                }
            }
            bytes.append(UInt8(ascii: "}"))
            return String(decoding: bytes, as: UTF8.self)
        }
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
}
