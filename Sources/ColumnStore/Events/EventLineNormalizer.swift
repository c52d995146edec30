import Core
import Ingest

/// Raw envelope line → `events` row: the fast path (`EnvelopeLineScanner` + the normalizer
/// over byte ranges) when the scanner accepts the line, else `Envelope.decode` and the
/// normalizer over the JSON tree. Both give the same result for every line the scanner
/// accepts (tested over generated and hand-made odd lines).
///
/// One per thread: it owns reusable scratch space.
struct EventLineNormalizer {
    enum Result: Equatable {
        /// Not a valid envelope (CONTRACT §2).
        case invalid
        case unknownProject
        case event(EventRow, castFailures: Int)
    }

    let registry: ProjectRegistry
    private var scanner = EnvelopeLineScanner()
    /// Lines that took the fast path / the general path (for tests and profiling).
    private(set) var fastLines = 0
    private(set) var generalLines = 0

    init(registry: ProjectRegistry) { self.registry = registry }

    mutating func normalize(line: UnsafeRawBufferPointer) -> Result {
        if let result = normalizeFast(line: line) {
            fastLines += 1
            return result
        }
        generalLines += 1
        return Self.normalizeGeneral(line: line, registry: registry)
    }

    /// The general path alone.
    static func normalizeGeneral(line: UnsafeRawBufferPointer, registry: ProjectRegistry) -> Result {
        guard let envelope = try? Envelope.decode(line) else { return .invalid }
        switch EventNormalizer.normalize(envelope: envelope, registry: registry) {
        case .unknownProject: return .unknownProject
        case .event(let row, let castFailures): return .event(row, castFailures: castFailures)
        }
    }

    /// The fast path alone; nil when the scanner declines the line.
    mutating func normalizeFast(line: UnsafeRawBufferPointer) -> Result? {
        guard scanner.scan(line) else { return nil }
        let idLength = scanner.id.end - scanner.id.start
        guard idLength > 0, idLength <= 128, let route = Self.route(scanner.bytes(scanner.route)),
              let receivedAt = scanner.receivedAtMicros() else { return nil }
        let siteHash = scanner.userAgent.kind == .string
            ? SiteIdentity.siteHash(userAgentBytes: scanner.bytes(scanner.userAgent)) : nil
        return scanner.slots.withUnsafeBufferPointer { slots in
            var source = ScannedPayloadSource(scanner: scanner, slots: slots)
            switch EventNormalizer.normalize(source: &source, id: scanner.string(scanner.id), receivedAtMicros: receivedAt,
                                             route: route, siteHash: siteHash, registry: registry) {
            case .unknownProject: return .unknownProject
            case .event(let row, let castFailures): return .event(row, castFailures: castFailures)
            }
        }
    }

    private static func route(_ bytes: UnsafeRawBufferPointer) -> Envelope.Route? {
        switch bytes.count {
        case 5 where bytes.equals("track"): return .track
        case 10 where bytes.equals("deactivate"): return .deactivate
        case 16 where bytes.equals("tracking-skipped"): return .trackingSkipped
        default: return nil
        }
    }
}

/// The fast path's payload: byte ranges of the line, read with the same rules as
/// `PayloadFieldReader` (each method says which of its branches it shortcuts).
struct ScannedPayloadSource: PayloadSource {
    let scanner: EnvelopeLineScanner
    let slots: UnsafeBufferPointer<ScannedSlot>
    var reader = PayloadFieldReader()
    /// Whether `server` / `wp` were objects: their fields were only recorded if so, and are
    /// read only after `openGroup`, as in the JSON tree.
    private var serverOpen = false
    private var wpOpen = false

    init(scanner: EnvelopeLineScanner, slots: UnsafeBufferPointer<ScannedSlot>) {
        self.scanner = scanner
        self.slots = slots
    }

    var castFailures: Int {
        get { reader.castFailures }
        set { reader.castFailures = newValue }
    }

    @inline(__always)
    private func slot(_ field: PayloadField) -> ScannedSlot {
        switch field.group {
        case .top: return slots[field.rawValue]
        case .server: return serverOpen ? slots[field.rawValue] : .absent
        case .wp: return wpOpen ? slots[field.rawValue] : .absent
        }
    }

    /// `PayloadFieldReader.text`.
    private mutating func text(_ slot: ScannedSlot) -> String? {
        switch slot.kind {
        case .absent, .null: return nil
        case .object, .array:
            reader.castFailures += 1
            return nil
        case .string: return FieldCast.trimmed(scanner.string(slot))
        case .number: return scanner.string(slot)
        case .true: return "1"
        case .false: return "0"
        }
    }

    mutating func text(_ field: PayloadField) -> String? { text(slot(field)) }

    /// `PayloadFieldReader.bool`. Shortcut: a string of 1–5 visible ASCII bytes needs no
    /// trimming, so it is matched against the words in place (no `String`, no `lowercased()`).
    mutating func bool(_ field: PayloadField) -> Bool? { bool(slot(field)) }

    private mutating func bool(_ slot: ScannedSlot) -> Bool? {
        switch slot.kind {
        case .true: return true
        case .false: return false
        case .string:
            let bytes = scanner.bytes(slot)
            if bytes.count >= 1 && bytes.count <= 5 {
                var word: UInt64 = 0
                var visible = true
                for byte in bytes {
                    visible = visible && byte > 0x20 && byte < 0x7F
                    let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                    word = word << 8 | UInt64(lower)
                }
                if visible {
                    switch word {
                    case 0x31, 0x796573, 0x74727565, 0x6F6E: return true             // 1 yes true on
                    case 0x30, 0x6E6F, 0x66616C7365, 0x6F6666: return false          // 0 no false off
                    default:
                        reader.castFailures += 1
                        return nil
                    }
                }
            }
        default: break
        }
        guard let text = text(slot) else { return nil }
        if let flag = FieldCast.bool(text) { return flag }
        reader.castFailures += 1
        return nil
    }

    /// `PayloadFieldReader.int64`. Shortcut: a string of 1–18 ASCII digits (cannot overflow).
    mutating func int64(_ field: PayloadField) -> Int64? { int64(slot(field)) }

    private mutating func int64(_ slot: ScannedSlot) -> Int64? {
        switch slot.kind {
        case .true, .false:
            reader.castFailures += 1
            return nil
        case .number:
            if let number = FieldCast.int64(jsonNumberLiteral: scanner.string(slot)) { return number }
            reader.castFailures += 1
            return nil
        case .string:
            let bytes = scanner.bytes(slot)
            if bytes.count >= 1 && bytes.count <= 18 {
                var value: Int64 = 0
                var digits = true
                for byte in bytes {
                    let digit = byte &- 0x30
                    digits = digits && digit <= 9
                    value = value &* 10 &+ Int64(digit)
                }
                if digits { return value }
            }
        default: break
        }
        guard let text = text(slot) else { return nil }
        if let number = FieldCast.int64(text) { return number }
        reader.castFailures += 1
        return nil
    }

    /// `JSONPayloadSource.mapField`.
    mutating func openGroup(_ field: PayloadField) {
        let slot = slots[field.rawValue]
        var isObject = false
        switch slot.kind {
        case .absent: break
        case .object: isObject = true
        case .array: if !isEmptyContainer(slot) { reader.castFailures += 1 }
        default: if text(slot) != nil { reader.castFailures += 1 }
        }
        if field == .server { serverOpen = isObject } else { wpOpen = isObject }
    }

    /// `[ ]` with only whitespace inside.
    private func isEmptyContainer(_ slot: ScannedSlot) -> Bool {
        let bytes = scanner.bytes(slot)
        for byte in bytes.dropFirst().dropLast() where !(byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D) {
            return false
        }
        return true
    }

    /// The JSON value of a field, parsed from its bytes: the JSON-text columns reuse
    /// `EventJSONColumns` on the same value the tree would hold at that place.
    private func value(_ field: PayloadField) -> JSONValue? {
        let slot = slots[field.rawValue]
        switch slot.kind {
        case .absent: return nil
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .number: return .number(scanner.string(slot))
        case .string: return .string(scanner.string(slot))
        case .object, .array:
            // Validated by the scanner (depth below its limit), so this cannot fail.
            return try? JSONParser.parse(scanner.bytes(slot), depthMax: JSONParser.defaultDepthMax + 1)
        }
    }

    /// `PayloadFieldReader.finiteDouble`.
    private mutating func finiteDouble(_ slot: ScannedSlot) -> Double? {
        guard let text = text(slot) else { return nil }
        if let number = FieldCast.finiteDouble(text) { return number }
        reader.castFailures += 1
        return nil
    }

    /// The members of a map field (`users`, `plugins`, `extra`, a plugin entry), or nil when
    /// a key repeats: the JSON tree keeps the last value then, so such maps take the tree route.
    private func uniqueMembers(_ slot: ScannedSlot) -> [(key: ScannedSlot, value: ScannedSlot)]? {
        var members: [(key: ScannedSlot, value: ScannedSlot)] = []
        scanner.members(of: slot, into: &members)
        for first in members.indices {
            let a = scanner.bytes(members[first].key)
            for second in members.index(after: first)..<members.endIndex where ParquetWriter.compareBytes(a, scanner.bytes(members[second].key)) == 0 {
                return nil
            }
        }
        return members
    }

    /// `EventJSONColumns.countNotAnObject`, for a map field that is not an object.
    private mutating func countNotAnObject(_ slot: ScannedSlot) {
        switch slot.kind {
        case .absent, .null, .object: return
        case .array: if !isEmptyContainer(slot) { reader.castFailures += 1 }
        default: if text(slot) != nil { reader.castFailures += 1 }
        }
    }

    /// A string slot (a key, or a value that needs no trimming) as a quoted JSON string.
    private func appendKey(_ slot: ScannedSlot, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        JSONWriter.appendEscaped(scanner.bytes(slot).assumingMemoryBound(to: UInt8.self), to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// `EventJSONColumns.users` over the scanned members.
    mutating func users() -> (total: Int64?, roles: String?) {
        let slot = slots[PayloadField.users.rawValue]
        guard slot.kind == .object else {
            if slot.kind == .absent { return (nil, nil) }
            countNotAnObject(slot)
            return (nil, nil)
        }
        guard let members = uniqueMembers(slot) else {
            return EventJSONColumns.users(value(.users), reader: &reader)
        }
        var total: Int64?
        var roles: [(key: ScannedSlot, count: Int64)] = []
        for (key, count) in members {
            let name = scanner.bytes(key)
            if name.equals("total") {
                total = int64(count)
            } else if let number = int64(count) {
                roles.append((key, number))
            }
        }
        guard !roles.isEmpty else { return (total, nil) }
        roles.sort { scanner.bytes($0.key).lexicographicallyPrecedes(scanner.bytes($1.key)) }
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (position, role) in roles.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            appendKey(role.key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: String(role.count).utf8)
        }
        bytes.append(UInt8(ascii: "}"))
        return (total, String(decoding: bytes, as: UTF8.self))
    }

    /// `EventJSONColumns.plugins` over the scanned members. The common case (every slug
    /// starts and ends with visible ASCII, so trimming keeps it as it is) is written straight
    /// from the line's bytes: members sorted by slug bytes, name and version copied in place,
    /// no `String` per entry. Other slugs take `pluginsViaStrings`.
    mutating func plugins() -> String? {
        let slot = slots[PayloadField.plugins.rawValue]
        guard slot.kind == .object else {
            if slot.kind == .absent { return nil }
            countNotAnObject(slot)
            return nil
        }
        var members: [(key: ScannedSlot, value: ScannedSlot)] = []
        scanner.members(of: slot, into: &members)
        guard members.allSatisfy({ Self.isVisibleASCIIAtEnds(scanner.bytes($0.key)) }) else { return pluginsViaStrings(slot) }
        members.sort { ParquetWriter.compareBytes(scanner.bytes($0.key), scanner.bytes($1.key)) < 0 }
        // A repeated slug: the JSON tree keeps its last value, so such maps take the tree route.
        for index in members.indices.dropFirst()
        where ParquetWriter.compareBytes(scanner.bytes(members[index - 1].key), scanner.bytes(members[index].key)) == 0 {
            return EventJSONColumns.plugins(value(.plugins), reader: &reader)
        }
        var writer = EventJSONColumns.PluginsTextWriter(capacity: Int(slot.end - slot.start))
        for (slug, details) in members {
            var name = ScannedSlot.absent, version = ScannedSlot.absent
            switch details.kind {
            case .object: (name, version) = nameAndVersion(of: details)
            case .null: break
            default: reader.castFailures += 1
            }
            writer.appendEntry(slug: scanner.bytes(slug).assumingMemoryBound(to: UInt8.self),
                               name: { appendTextJSON(name, to: &$0) }, version: { appendTextJSON(version, to: &$0) })
        }
        return writer.finish()
    }

    /// `plugins` when some slug needs trimming: `String` entries for `EventJSONColumns.pluginsText`.
    private mutating func pluginsViaStrings(_ slot: ScannedSlot) -> String? {
        guard let members = uniqueMembers(slot) else {
            return EventJSONColumns.plugins(value(.plugins), reader: &reader)
        }
        var entries: [(slug: String, name: String?, version: String?)] = []
        entries.reserveCapacity(members.count)
        for (slug, details) in members {
            guard let slugText = FieldCast.trimmed(scanner.string(slug)) else { continue }
            switch details.kind {
            case .object:
                let (name, version) = nameAndVersion(of: details)
                entries.append((slugText, text(name), text(version)))
            case .null:
                entries.append((slugText, nil, nil))
            default:
                reader.castFailures += 1
                entries.append((slugText, nil, nil))
            }
        }
        return EventJSONColumns.pluginsText(entries)
    }

    /// A plugin entry's `name` and `version` members; a repeated one keeps its last value, as
    /// in the JSON tree.
    private func nameAndVersion(of details: ScannedSlot) -> (name: ScannedSlot, version: ScannedSlot) {
        var name = ScannedSlot.absent, version = ScannedSlot.absent
        scanner.forEachMember(of: details) { key, value in
            let bytes = scanner.bytes(key)
            if bytes.equals("name") { name = value }
            else if bytes.equals("version") { version = value }
        }
        return (name, version)
    }

    /// True when the bytes are non-empty and start and end with visible ASCII: `FieldCast.trimmed`
    /// would return them unchanged.
    @inline(__always)
    static func isVisibleASCIIAtEnds(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let first = bytes.first, let last = bytes.last else { return false }
        return first > 0x20 && first < 0x7F && last > 0x20 && last < 0x7F
    }

    /// `text(slot)` as JSON (a quoted string or `null`), appended to `bytes`; a string that
    /// needs no trimming is copied from the line without a `String`.
    private mutating func appendTextJSON(_ slot: ScannedSlot, to bytes: inout [UInt8]) {
        if slot.kind == .string, Self.isVisibleASCIIAtEnds(scanner.bytes(slot)) {
            appendKey(slot, to: &bytes)
        } else if let text = text(slot) {
            JSONWriter.appendString(text, to: &bytes)
        } else {
            bytes.append(contentsOf: "null".utf8)
        }
    }

    /// `EventJSONColumns.extra` over the scanned members.
    mutating func extra(declared: [Project.ExtraField]) -> String? {
        let slot = slots[PayloadField.extra.rawValue]
        guard slot.kind == .object else {
            if slot.kind == .absent { return nil }
            countNotAnObject(slot)
            return nil
        }
        guard !declared.isEmpty, slot.end - slot.start > 2 else { return nil }
        var members: [(key: ScannedSlot, value: ScannedSlot)] = []
        scanner.members(of: slot, into: &members)
        guard !members.isEmpty else { return nil }
        var builder = EventJSONColumns.ExtraTextBuilder()
        for field in declared where !builder.contains(key: field.key) {
            // The last member with the key: the JSON tree keeps a repeated key's last value.
            var found: ScannedSlot?
            var key = field.key
            key.withUTF8 { wanted in
                for member in members where ParquetWriter.compareBytes(scanner.bytes(member.key), UnsafeRawBufferPointer(wanted)) == 0 {
                    found = member.value
                }
            }
            guard let leaf = found else { continue }
            switch field.type {
            case .string:
                if leaf.kind == .string, Self.isVisibleASCIIAtEnds(scanner.bytes(leaf)) {
                    builder.add(key: field.key) { appendKey(leaf, to: &$0) }
                } else if let text = text(leaf) {
                    builder.add(key: field.key) { JSONWriter.appendString(text, to: &$0) }
                }
            case .int:
                if let number = int64(leaf) { builder.add(key: field.key, int: number) }
            case .float:
                if let number = finiteDouble(leaf) { builder.add(key: field.key, double: number) }
            case .bool:
                if let flag = bool(leaf) { builder.add(key: field.key, bool: flag) }
            }
        }
        return builder.finish()
    }
}
