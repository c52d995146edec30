import Core
import Foundation

/// A JSON value found in a raw line, by byte range (no copy, no tree).
struct ScannedSlot {
    enum Kind: UInt8 { case absent, null, `true`, `false`, number, string, object, array }
    var kind: Kind = .absent
    /// Strings: the bytes between the quotes (no escapes: the scanner declines those lines).
    /// Everything else: the whole value, brackets included.
    var start: Int32 = 0
    var end: Int32 = 0
    static let absent = ScannedSlot()
}

/// The compactor's fast path for one envelope line (CONTRACT §2): a single pass over the
/// bytes that validates the whole line and records where the envelope fields and the known
/// payload fields (`PayloadField`) are, so `EventNormalizer` can read them without building
/// a JSON tree (which cost about 18 µs a line: a `String` per key and value, arrays, and a
/// linear key search per lookup).
///
/// The scanner only accepts lines it is sure to read exactly as `Envelope.decode` would;
/// anything else makes `scan` return false and the caller uses the general path, which then
/// also decides whether the line is invalid. Declined: any backslash escape, invalid UTF-8,
/// control characters, nesting deeper than `depthMax`, a known key given twice (the JSON tree
/// keeps the last value), any syntax error, and envelope fields that do not validate.
struct EnvelopeLineScanner {
    /// Deeper lines go to the general parser (which allows 33 levels); real payloads use 4.
    static let depthMax = 16

    var slots = [ScannedSlot](repeating: .absent, count: PayloadField.count)
    var id = ScannedSlot.absent
    var receivedAt = ScannedSlot.absent
    var route = ScannedSlot.absent
    var userAgent = ScannedSlot.absent
    var version = ScannedSlot.absent
    var hasPayload = false

    private var base: UnsafePointer<UInt8> = UnsafePointer(bitPattern: 1)!
    private var count = 0
    private var index = 0

    /// Payload keys by length, for matching without building a `String` per key.
    private static let topKeys = keyTable(PayloadField.topFields)
    private static let serverKeys = keyTable(PayloadField.serverFields)
    private static let wpKeys = keyTable(PayloadField.wpFields)

    private static func keyTable(_ fields: ClosedRange<Int>) -> [[(bytes: [UInt8], field: Int)]] {
        var table = [[(bytes: [UInt8], field: Int)]](repeating: [], count: 32)
        for field in fields {
            let bytes = Array(PayloadField.keys[field].utf8)
            table[bytes.count].append((bytes, field))
        }
        return table
    }

    /// Scans one line (without its newline). True when every recorded range can be read
    /// directly; false when the line must go through `Envelope.decode`.
    mutating func scan(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let address = line.baseAddress, line.count < Int(Int32.max) else { return false }
        base = address.assumingMemoryBound(to: UInt8.self)
        count = line.count
        index = 0
        for position in slots.indices { slots[position] = .absent }
        id = .absent; receivedAt = .absent; route = .absent; userAgent = .absent; version = .absent
        hasPayload = false
        guard scanEnvelope() else { return false }
        skipWhitespace()
        return index == count && hasPayload && id.kind == .string && receivedAt.kind == .string && route.kind == .string
            && version.kind == .number && version.end - version.start == 1 && base[Int(version.start)] == UInt8(ascii: "1")
    }

    // MARK: - Reading the result

    func bytes(_ slot: ScannedSlot) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + Int(slot.start), count: Int(slot.end - slot.start))
    }

    /// A string or number slot as a `String` (already validated while scanning).
    func string(_ slot: ScannedSlot) -> String {
        String(decoding: bytes(slot), as: UTF8.self)
    }

    /// The envelope's `received_at`: the canonical `YYYY-MM-DDTHH:MM:SS.ffffffZ` that ingest
    /// writes is read in place; any other form goes through `UTCTime.parseISO`.
    func receivedAtMicros() -> Int64? {
        let text = bytes(receivedAt)
        if text.count == 27 {
            @inline(__always) func digits(_ at: Int, _ width: Int) -> Int? {
                var value = 0
                for offset in at..<at + width {
                    let digit = text[offset] &- 0x30
                    guard digit <= 9 else { return nil }
                    value = value * 10 + Int(digit)
                }
                return value
            }
            if text[4] == 0x2D, text[7] == 0x2D, text[10] == 0x54, text[13] == 0x3A, text[16] == 0x3A,
               text[19] == 0x2E, text[26] == 0x5A,
               let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2), let hour = digits(11, 2),
               let minute = digits(14, 2), let second = digits(17, 2), let micros = digits(20, 6),
               (1...12).contains(month), day >= 1, day <= UTCTime.daysInMonth(year: year, month: month),
               hour < 24, minute < 60, second < 60 {
                // As `UTCTime.micros(_:)` computes it.
                let days = Int64(UTCTime.daysFromCivil(year: year, month: month, day: day))
                return ((days * 24 + Int64(hour)) * 60 + Int64(minute)) * 60_000_000
                    + Int64(second) * 1_000_000 + Int64(micros)
            }
        }
        return UTCTime.parseISO(string(receivedAt))
    }

    /// The members of an object this scanner accepted (so valid, without escapes), in order.
    func members(of object: ScannedSlot, into members: inout [(key: ScannedSlot, value: ScannedSlot)]) {
        members.removeAll(keepingCapacity: true)
        forEachMember(of: object) { members.append(($0, $1)) }
    }

    /// Calls `body` with each member's key and value range of an accepted object, in order.
    func forEachMember(of object: ScannedSlot, _ body: (ScannedSlot, ScannedSlot) -> Void) {
        var cursor = self
        cursor.index = Int(object.start) + 1
        while true {
            cursor.skipWhitespace()
            guard cursor.index < cursor.count, cursor.base[cursor.index] == UInt8(ascii: "\""),
                  let key = cursor.scanString(), cursor.take(UInt8(ascii: ":")) else { return }
            cursor.skipWhitespace()
            guard let value = cursor.scanValue(depth: 0) else { return }
            body(key, value)
            guard cursor.take(UInt8(ascii: ",")) else { return }
        }
    }

    // MARK: - Scanning

    @inline(__always) private var atEnd: Bool { index >= count }

    @inline(__always) private mutating func skipWhitespace() {
        while index < count {
            switch base[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index &+= 1
            default: return
            }
        }
    }

    @inline(__always) private mutating func take(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < count, base[index] == byte else { return false }
        index &+= 1
        return true
    }

    /// The envelope object: known envelope keys are recorded, `payload` is scanned field by
    /// field, anything else is validated and skipped.
    private mutating func scanEnvelope() -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        var seen: UInt8 = 0
        while true {
            skipWhitespace()
            guard let key = scanString() else { return false }
            guard take(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            let keyBytes = bytes(key)
            var bit: UInt8 = 0
            switch keyBytes.count {
            case 1 where keyBytes[0] == UInt8(ascii: "v"):
                bit = 1
                guard let value = scanValue(depth: 1) else { return false }
                version = value
            case 2 where keyBytes.equals("id"):
                bit = 2
                guard let value = scanValue(depth: 1) else { return false }
                id = value
            case 5 where keyBytes.equals("route"):
                bit = 4
                guard let value = scanValue(depth: 1) else { return false }
                route = value
            case 7 where keyBytes.equals("payload"):
                bit = 8
                guard index < count, base[index] == UInt8(ascii: "{"), scanPayload() else { return false }
                hasPayload = true
            case 10 where keyBytes.equals("user_agent"):
                bit = 16
                guard let value = scanValue(depth: 1) else { return false }
                userAgent = value
            case 11 where keyBytes.equals("received_at"):
                bit = 32
                guard let value = scanValue(depth: 1) else { return false }
                receivedAt = value
            default:
                guard scanValue(depth: 1) != nil else { return false }
            }
            // A repeated envelope key: the JSON tree keeps the last one; leave that to it.
            if bit != 0 {
                if seen & bit != 0 { return false }
                seen |= bit
            }
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "}"))
        }
    }

    /// The payload object at `index` (depth 2), recording known fields; `server` and `wp`
    /// objects are scanned one level further for their fields.
    private mutating func scanPayload() -> Bool {
        var seen: UInt64 = 0
        return scanObject(keys: Self.topKeys, seen: &seen) { scanner, field, seen in
            if (field == PayloadField.server.rawValue || field == PayloadField.wp.rawValue),
               scanner.index < scanner.count, scanner.base[scanner.index] == UInt8(ascii: "{") {
                let start = scanner.index
                let keys = field == PayloadField.server.rawValue ? Self.serverKeys : Self.wpKeys
                guard scanner.scanObject(keys: keys, seen: &seen, field: { scanner, field, _ in
                    guard let value = scanner.scanValue(depth: 3) else { return false }
                    scanner.slots[field] = value
                    return true
                }) else { return false }
                scanner.slots[field] = ScannedSlot(kind: .object, start: Int32(start), end: Int32(scanner.index))
                return true
            }
            guard let value = scanner.scanValue(depth: 2) else { return false }
            scanner.slots[field] = value
            return true
        }
    }

    /// An object at `index` whose keys are looked up in `keys`: a known key calls `field`
    /// (which scans the value), an unknown key's value is validated and skipped.
    private mutating func scanObject(keys: [[(bytes: [UInt8], field: Int)]], seen: inout UInt64,
                                     field: (inout EnvelopeLineScanner, Int, inout UInt64) -> Bool) -> Bool {
        index &+= 1  // {
        skipWhitespace()
        if index < count, base[index] == UInt8(ascii: "}") { index &+= 1; return true }
        while true {
            skipWhitespace()
            guard let key = scanString() else { return false }
            guard take(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            let length = Int(key.end - key.start)
            var known = -1
            if length < keys.count {
                for candidate in keys[length] where memcmp(base + Int(key.start), candidate.bytes, length) == 0 {
                    known = candidate.field
                    break
                }
            }
            if known >= 0 {
                let bit: UInt64 = 1 << UInt64(known)
                if seen & bit != 0 { return false }
                seen |= bit
                guard field(&self, known, &seen) else { return false }
            } else {
                // Depth of the unknown value is at most 3 here (payload or group member).
                guard scanValue(depth: 3) != nil else { return false }
            }
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "}"))
        }
    }

    /// A string at `index` without escapes or control characters, valid UTF-8; nil otherwise.
    private mutating func scanString() -> ScannedSlot? {
        guard index < count, base[index] == UInt8(ascii: "\"") else { return nil }
        index &+= 1
        let start = index
        var high: UInt8 = 0
        // Eight bytes at a time while none is a quote, a backslash or a control byte (the
        // usual "has a byte below n / equal to c" word tests: exact about whether any byte
        // matches); the byte loop below takes over at the word that holds one.
        var highBits: UInt64 = 0
        while index &+ 8 <= count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let ones: UInt64 = 0x0101_0101_0101_0101, tops: UInt64 = 0x8080_8080_8080_8080
            let control = (word &- ones &* 0x20) & ~word & tops
            let quote = ((word ^ (ones &* 0x22)) &- ones) & ~(word ^ (ones &* 0x22)) & tops
            let backslash = ((word ^ (ones &* 0x5C)) &- ones) & ~(word ^ (ones &* 0x5C)) & tops
            if control | quote | backslash != 0 { break }
            highBits |= word
            index &+= 8
        }
        if highBits & 0x8080_8080_8080_8080 != 0 { high = 0x80 }
        while index < count {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                let slot = ScannedSlot(kind: .string, start: Int32(start), end: Int32(index))
                index &+= 1
                if high & 0x80 != 0 && !UTF8Validation.isValid(bytes(slot)) { return nil }
                return slot
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            high |= byte
            index &+= 1
        }
        return nil
    }

    /// Any JSON value at `index` (whose nesting level is `depth`), validated; nil when the
    /// scanner declines it.
    private mutating func scanValue(depth: Int) -> ScannedSlot? {
        guard index < count else { return nil }
        let start = index
        switch base[index] {
        case UInt8(ascii: "\""):
            return scanString()
        case UInt8(ascii: "{"):
            guard depth < Self.depthMax else { return nil }
            index &+= 1
            skipWhitespace()
            if index < count, base[index] == UInt8(ascii: "}") {
                index &+= 1
            } else {
                while true {
                    skipWhitespace()
                    guard scanString() != nil, take(UInt8(ascii: ":")) else { return nil }
                    skipWhitespace()
                    guard scanValue(depth: depth + 1) != nil else { return nil }
                    if take(UInt8(ascii: ",")) { continue }
                    guard take(UInt8(ascii: "}")) else { return nil }
                    break
                }
            }
            return ScannedSlot(kind: .object, start: Int32(start), end: Int32(index))
        case UInt8(ascii: "["):
            guard depth < Self.depthMax else { return nil }
            index &+= 1
            skipWhitespace()
            if index < count, base[index] == UInt8(ascii: "]") {
                index &+= 1
            } else {
                while true {
                    skipWhitespace()
                    guard scanValue(depth: depth + 1) != nil else { return nil }
                    if take(UInt8(ascii: ",")) { continue }
                    guard take(UInt8(ascii: "]")) else { return nil }
                    break
                }
            }
            return ScannedSlot(kind: .array, start: Int32(start), end: Int32(index))
        case UInt8(ascii: "t"):
            guard literal("true") else { return nil }
            return ScannedSlot(kind: .true, start: Int32(start), end: Int32(index))
        case UInt8(ascii: "f"):
            guard literal("false") else { return nil }
            return ScannedSlot(kind: .false, start: Int32(start), end: Int32(index))
        case UInt8(ascii: "n"):
            guard literal("null") else { return nil }
            return ScannedSlot(kind: .null, start: Int32(start), end: Int32(index))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            guard scanNumber() else { return nil }
            return ScannedSlot(kind: .number, start: Int32(start), end: Int32(index))
        default:
            return nil
        }
    }

    private mutating func literal(_ text: StaticString) -> Bool {
        let length = text.utf8CodeUnitCount
        guard index + length <= count, memcmp(base + index, text.utf8Start, length) == 0 else { return false }
        index &+= length
        return true
    }

    /// The JSON number grammar (no leading zeros, digits after `.` and in the exponent).
    private mutating func scanNumber() -> Bool {
        @inline(__always) func isDigit(_ at: Int) -> Bool { at < count && base[at] &- 0x30 <= 9 }
        if base[index] == UInt8(ascii: "-") { index &+= 1 }
        guard index < count else { return false }
        if base[index] == UInt8(ascii: "0") {
            index &+= 1
        } else if isDigit(index) {
            while isDigit(index) { index &+= 1 }
        } else {
            return false
        }
        if index < count, base[index] == UInt8(ascii: ".") {
            index &+= 1
            guard isDigit(index) else { return false }
            while isDigit(index) { index &+= 1 }
        }
        if index < count, base[index] == UInt8(ascii: "e") || base[index] == UInt8(ascii: "E") {
            index &+= 1
            if index < count, base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-") { index &+= 1 }
            guard isDigit(index) else { return false }
            while isDigit(index) { index &+= 1 }
        }
        return true
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these bytes are `text`'s UTF-8: one `memcmp` (the generic `elementsEqual`
    /// against a `String.UTF8View` walked byte by byte, on every key of every line).
    @inline(__always)
    func equals(_ text: StaticString) -> Bool {
        guard count == text.utf8CodeUnitCount else { return false }
        guard count > 0, let base = baseAddress else { return true }
        return memcmp(base, text.utf8Start, count) == 0
    }
}
