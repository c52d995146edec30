// String kernels. Strings are UTF-8 bytes; comparisons are bytewise like DuckDB's.
// length and substr count Unicode code points, as DuckDB's `length` and `substr` do.
extension ExpressionExecutor {
    /// Applies `transform` to the bytes of every row of a VARCHAR vector.
    func mapString(_ input: Vector, count: Int, _ transform: (UnsafeBufferPointer<UInt8>) -> [UInt8]) -> Vector {
        guard case .string(let strings) = input.buffer else { return Vector.constant(.null, type: .varchar, count: count) }
        let validity = mergedValidity([input], count: count)
        let u = input.unified
        let indices = u.indices ?? []
        let flat = u.indices == nil
        var builder = StringColumnBuilder(capacity: count)
        strings.bytes.withUnsafeBufferPointer { bytes in
            let offsets = strings.offsets
            for row in 0..<count {
                if let validity, validity[row] == 0 { builder.appendEmpty(); continue }
                let index = flat ? row : Int(indices[row])
                builder.append(transform(UnsafeBufferPointer(rebasing: bytes[Int(offsets[index])..<Int(offsets[index + 1])])))
            }
        }
        return Vector(type: .varchar, buffer: .string(builder.build()), validity: validity, count: count)
    }

    func length(_ input: Vector, count: Int) -> Vector {
        guard case .string(let strings) = input.buffer else { return Vector.constant(.null, type: .bigint, count: count) }
        let validity = mergedValidity([input], count: count)
        let u = input.unified
        let indices = u.indices ?? []
        let flat = u.indices == nil
        var out = [Int64](repeating: 0, count: count)
        strings.bytes.withUnsafeBufferPointer { bytes in
            let offsets = strings.offsets
            for row in 0..<count {
                let index = flat ? row : Int(indices[row])
                var characters: Int64 = 0
                for offset in Int(offsets[index])..<Int(offsets[index + 1]) where bytes[offset] & 0xC0 != 0x80 {
                    characters &+= 1
                }
                out[row] = characters
            }
        }
        return Vector(type: .bigint, buffer: .int64(out), validity: validity, count: count)
    }

    func concat(_ left: Vector, _ right: Vector, count: Int) -> Vector {
        let validity = mergedValidity([left, right], count: count)
        guard case .string(let a) = left.buffer, case .string(let b) = right.buffer else {
            return Vector.constant(.null, type: .varchar, count: count)
        }
        var builder = StringColumnBuilder(capacity: count)
        for row in 0..<count {
            if let validity, validity[row] == 0 { builder.appendEmpty(); continue }
            var bytes: [UInt8] = []
            a.withBytes(at: left.bufferIndex(row)) { bytes.append(contentsOf: $0) }
            b.withBytes(at: right.bufferIndex(row)) { bytes.append(contentsOf: $0) }
            builder.append(bytes)
        }
        return Vector(type: .varchar, buffer: .string(builder.build()), validity: validity, count: count)
    }

    /// substr(s, start[, length]) with DuckDB's rules: 1-based start, 0 starts one character
    /// before the first, a negative start counts from the end, a negative length goes backwards.
    func substr(_ inputs: [Vector], count: Int) -> Vector {
        let validity = mergedValidity(inputs, count: count)
        guard case .string(let strings) = inputs[0].buffer, case .int64(let starts) = inputs[1].buffer else {
            return Vector.constant(.null, type: .varchar, count: count)
        }
        var lengths: [Int64] = []
        if inputs.count == 3 {
            guard case .int64(let values) = inputs[2].buffer else { return Vector.constant(.null, type: .varchar, count: count) }
            lengths = values
        }
        var builder = StringColumnBuilder(capacity: count)
        for row in 0..<count {
            if let validity, validity[row] == 0 { builder.appendEmpty(); continue }
            let offset = starts[inputs[1].bufferIndex(row)]
            let length = inputs.count == 3 ? lengths[inputs[2].bufferIndex(row)] : Int64(Int32.max)
            strings.withBytes(at: inputs[0].bufferIndex(row)) { bytes in
                builder.append(substringBytes(bytes, offset: offset, length: length))
            }
        }
        return Vector(type: .varchar, buffer: .string(builder.build()), validity: validity, count: count)
    }

    func like(_ expression: BoundExpression, _ operand: Vector, _ pattern: Vector, negated: Bool,
              caseInsensitive: Bool) throws -> Vector {
        let count = operand.count
        let validity = mergedValidity([operand, pattern], count: count)
        guard case .string(let strings) = operand.buffer, case .string(let patterns) = pattern.buffer else {
            return Vector.constant(.null, type: .boolean, count: count)
        }
        var out = [UInt8](repeating: 0, count: count)
        let hit: UInt8 = negated ? 0 : 1
        if pattern.isConstant {
            let key = ObjectIdentifier(expression)
            let matcher: LikeMatcher
            if let cached = likeMatchers[key] {
                matcher = cached
            } else {
                matcher = patterns.withBytes(at: 0) { LikeMatcher(pattern: Array($0), caseInsensitive: caseInsensitive) }
                likeMatchers[key] = matcher
            }
            if case .flat = operand.encoding, strings.count >= count, let needle = matcher.containedLiteral {
                out = entriesContaining(needle, in: strings, count: count, hit: hit)
                return Vector(type: .boolean, buffer: .bool(out), validity: validity, count: count)
            }
            let u = operand.unified
            let indices = u.indices ?? []
            let flat = u.indices == nil
            strings.bytes.withUnsafeBufferPointer { bytes in
                let offsets = strings.offsets
                for row in 0..<count {
                    let index = flat ? row : Int(indices[row])
                    let value = UnsafeBufferPointer(rebasing: bytes[Int(offsets[index])..<Int(offsets[index + 1])])
                    out[row] = matcher.matches(value) ? hit : 1 - hit
                }
            }
        } else {
            for row in 0..<count {
                if let validity, validity[row] == 0 { continue }
                let matcher = patterns.withBytes(at: pattern.bufferIndex(row)) {
                    LikeMatcher(pattern: Array($0), caseInsensitive: caseInsensitive)
                }
                let matched = strings.withBytes(at: operand.bufferIndex(row)) { matcher.matches($0) }
                out[row] = matched ? hit : 1 - hit
            }
        }
        return Vector(type: .boolean, buffer: .bool(out), validity: validity, count: count)
    }

    func jsonExtractString(_ expression: BoundExpression, _ document: Vector, _ path: Vector, count: Int) throws
        -> Vector {
        var validity = mergedValidity([document, path], count: count) ?? [UInt8](repeating: 1, count: count)
        guard case .string(let documents) = document.buffer, case .string(let paths) = path.buffer else {
            return Vector.constant(.null, type: .varchar, count: count)
        }
        var builder = StringColumnBuilder(capacity: count)
        let key = ObjectIdentifier(expression)
        for row in 0..<count {
            if validity[row] == 0 { builder.appendEmpty(); continue }
            let steps: [JSONPathStep]
            if path.isConstant, let cached = jsonPaths[key] {
                steps = cached
            } else {
                steps = try paths.withBytes(at: path.bufferIndex(row)) { try parseJSONPath(Array($0)) }
                if path.isConstant { jsonPaths[key] = steps }
            }
            let extracted = try documents.withBytes(at: document.bufferIndex(row)) { try extractJSONString($0, steps) }
            if let extracted {
                builder.append(extracted)
            } else {
                validity[row] = 0
                builder.appendEmpty()
            }
        }
        let anyNull = validity.contains(0)
        return Vector(type: .varchar, buffer: .string(builder.build()), validity: anyNull ? validity : nil, count: count)
    }
}

/// lower/upper: a byte loop for ASCII, Swift's Unicode case mapping otherwise.
func caseMapped(_ bytes: UnsafeBufferPointer<UInt8>, upper: Bool) -> [UInt8] {
    var isASCII = true
    for byte in bytes where byte >= 0x80 { isASCII = false; break }
    if isASCII {
        var out = [UInt8](bytes)
        for index in out.indices {
            let byte = out[index]
            if upper, byte >= 0x61, byte <= 0x7A { out[index] = byte - 32 }
            if !upper, byte >= 0x41, byte <= 0x5A { out[index] = byte + 32 }
        }
        return out
    }
    let string = String(decoding: bytes, as: UTF8.self)
    return Array((upper ? string.uppercased() : string.lowercased()).utf8)
}

/// DuckDB's (1.x/2.x) substring window, in code points: the start is `offset - 1` (so 0 is one
/// before the first character) or, when negative, `size + offset`; a positive length runs
/// forward from it, a negative one backward; only then is the window clipped to the string,
/// so `substr('8', -3, 1)` is '' (the window lies before the string), not '8'. Computed in
/// 128 bits: offset + length cannot overflow.
func substringBytes(_ bytes: UnsafeBufferPointer<UInt8>, offset: Int64, length: Int64) -> [UInt8] {
    // Byte position of every code point start, plus the end.
    var starts: [Int] = []
    starts.reserveCapacity(bytes.count + 1)
    for index in 0..<bytes.count where bytes[index] & 0xC0 != 0x80 { starts.append(index) }
    let size = Int128(starts.count)
    starts.append(bytes.count)
    var start = offset >= 0 ? Int128(offset) - 1 : size + Int128(offset)
    var end: Int128
    if length >= 0 {
        end = start + Int128(length)
    } else {
        end = start
        start += Int128(length)
    }
    start = min(max(start, 0), size)
    end = min(max(end, 0), size)
    if start >= end { return [] }
    return Array(bytes[starts[Int(start)]..<starts[Int(end)]])
}

/// A compiled LIKE pattern: `%` matches any run of characters, `_` exactly one character.
/// No escape character (DuckDB has none unless ESCAPE is given).
///
/// Parts without `_` (the common case) are matched as byte strings: anchored ones with one
/// `memcmp`, floating ones with `SubstringSearcher`. Byte matching equals character matching
/// here because a part is valid UTF-8, so its first byte never matches a continuation byte.
struct LikeMatcher {
    private enum Element: Equatable {
        case byte(UInt8)
        case anyCharacter
    }

    /// The pattern split at every `%`; the first part is anchored at the start, the last at
    /// the end, the middle ones are found leftmost in between.
    private let parts: [[Element]]
    /// Each part's bytes when it has no `_`.
    private let literals: [[UInt8]?]
    private let caseInsensitive: Bool

    init(pattern: [UInt8], caseInsensitive: Bool) {
        let pattern = caseInsensitive ? pattern.withUnsafeBufferPointer { caseMapped($0, upper: false) } : pattern
        self.caseInsensitive = caseInsensitive
        var parts: [[Element]] = [[]]
        for byte in pattern {
            if byte == UInt8(ascii: "%") {
                parts.append([])
            } else if byte == UInt8(ascii: "_") {
                parts[parts.count - 1].append(.anyCharacter)
            } else {
                parts[parts.count - 1].append(.byte(byte))
            }
        }
        self.parts = parts
        literals = parts.map { part in
            var bytes: [UInt8] = []
            for element in part {
                guard case .byte(let byte) = element else { return nil }
                bytes.append(byte)
            }
            return bytes
        }
    }

    /// The needle when the pattern is `%needle%` with a non-empty needle free of `_` (and the
    /// match is case-sensitive): such a pattern can be searched over a whole column at once.
    var containedLiteral: [UInt8]? {
        guard !caseInsensitive, parts.count == 3, parts[0].isEmpty, parts[2].isEmpty,
              let literal = literals[1], !literal.isEmpty else { return nil }
        return literal
    }

    func matches(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        if caseInsensitive {
            let lowered = caseMapped(value, upper: false)
            return lowered.withUnsafeBufferPointer { matchesExact($0) }
        }
        return matchesExact(value)
    }

    private func matchesExact(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        if parts.count == 1 { return matchPart(0, in: value, at: 0) == value.count }
        guard let prefixEnd = matchPart(0, in: value, at: 0),
              let tailStart = lastMatchStart(parts.count - 1, in: value, notBefore: prefixEnd) else {
            return false
        }
        var position = prefixEnd
        for index in 1..<(parts.count - 1) where !parts[index].isEmpty {
            guard let end = find(index, in: value, from: position, before: tailStart) else { return false }
            position = end
        }
        return true
    }

    /// End of part `index` matched at `start`, or nil.
    private func matchPart(_ index: Int, in value: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
        if let literal = literals[index] {
            let end = start + literal.count
            guard end <= value.count else { return nil }
            if literal.isEmpty { return start }
            let equal = literal.withUnsafeBufferPointer { memcmp(value.baseAddress! + start, $0.baseAddress!, $0.count) == 0 }
            return equal ? end : nil
        }
        return match(parts[index], in: value, at: start)
    }

    /// End of `segment` matched at `start`, or nil.
    private func match(_ segment: [Element], in value: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
        var position = start
        for element in segment {
            guard position < value.count else { return nil }
            switch element {
            case .byte(let byte):
                guard value[position] == byte else { return nil }
                position += 1
            case .anyCharacter:
                position += 1
                while position < value.count, value[position] & 0xC0 == 0x80 { position += 1 }
            }
        }
        return position
    }

    /// End of the leftmost match of part `index` starting at or after `from` and ending by `limit`.
    private func find(_ index: Int, in value: UnsafeBufferPointer<UInt8>, from: Int, before limit: Int) -> Int? {
        if let literal = literals[index] {
            guard from <= limit else { return nil }
            let window = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(value)[from..<limit])
            guard let hit = literal.withUnsafeBytes({ SubstringSearcher.find($0, in: window) }) else { return nil }
            return from + hit + literal.count
        }
        var start = from
        while start <= limit {
            if let end = match(parts[index], in: value, at: start), end <= limit { return end }
            start += 1
            while start < value.count, value[start] & 0xC0 == 0x80 { start += 1 }
        }
        return nil
    }

    /// Start of a match of part `index` that ends exactly at the end of `value`.
    private func lastMatchStart(_ index: Int, in value: UnsafeBufferPointer<UInt8>, notBefore: Int) -> Int? {
        if let literal = literals[index] {
            let start = value.count - literal.count
            guard start >= notBefore, matchPart(index, in: value, at: start) != nil else { return nil }
            return start
        }
        var start = value.count
        while start >= notBefore {
            if match(parts[index], in: value, at: start) == value.count { return start }
            start -= 1
        }
        return nil
    }
}

/// For each of the first `count` entries of `strings`: 1 when it contains `needle` (non-empty).
/// Searches the entries' bytes as one run and maps hits back to entries, so short values do
/// not each pay a call; a hit that straddles two entries is skipped past by one byte.
func entriesContaining(_ needle: [UInt8], in strings: StringColumn, count: Int, hit: UInt8) -> [UInt8] {
    var out = [UInt8](repeating: 1 - hit, count: count)
    guard count > 0 else { return out }
    strings.bytes.withUnsafeBytes { bytes in
        strings.offsets.withUnsafeBufferPointer { offsets in
            needle.withUnsafeBytes { needle in
                out.withUnsafeMutableBufferPointer { out in
                    let end = Int(offsets[count])
                    var position = Int(offsets[0])
                    var entry = 0
                    while position < end,
                          let found = SubstringSearcher.find(needle, in: UnsafeRawBufferPointer(rebasing: bytes[position..<end])) {
                        let start = position + found
                        while Int(offsets[entry + 1]) <= start { entry += 1 }
                        let entryEnd = Int(offsets[entry + 1])
                        if start + needle.count <= entryEnd {
                            out[entry] = hit
                            position = entryEnd
                        } else {
                            position = start + 1
                        }
                    }
                }
            }
        }
    }
    return out
}

#if canImport(Glibc)
import ColumnStore
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
