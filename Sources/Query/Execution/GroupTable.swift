/// Maps encoded group keys to dense group ids (0, 1, 2, ... in first-seen order).
///
/// Keys are byte strings (see `GroupKeyEncoder`) stored back to back in one arena; the table
/// is open addressing with linear probing over `Int32` slots and keeps each group's hash so
/// growing never re-reads keys.
final class GroupTable {
    private(set) var arena: [UInt8] = []
    private(set) var keyStarts: [Int] = [0]
    private var hashes: [UInt64] = []
    private var slots: [Int32]
    private var mask: Int

    var groupCount: Int { hashes.count }

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    /// Bytes held, for the memory budget.
    var memoryBytes: Int { arena.capacity + keyStarts.capacity * 8 + hashes.capacity * 8 + slots.count * 4 }

    func key(of group: Int) -> ArraySlice<UInt8> { arena[keyStarts[group]..<keyStarts[group + 1]] }

    /// The id of `key`, inserting it when new.
    func findOrInsert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32 {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let group = slots[slot]
            if group < 0 { break }
            let g = Int(group)
            if hashes[g] == hash {
                let start = keyStarts[g], end = keyStarts[g + 1]
                if end - start == key.count {
                    let equal = arena.withUnsafeBufferPointer { arenaBuffer in
                        key.count == 0 || memcmp(arenaBuffer.baseAddress! + start, key.baseAddress!, key.count) == 0
                    }
                    if equal { return group }
                }
            }
            slot = (slot + 1) & mask
        }
        let group = Int32(hashes.count)
        slots[slot] = group
        hashes.append(hash)
        arena.append(contentsOf: key)
        keyStarts.append(arena.count)
        if hashes.count * 2 > slots.count { grow() }
        return group
    }

    private func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        for (group, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(group)
        }
    }
}

/// Encodes the key columns of a row as bytes: per column a validity byte, then 8 bytes for
/// BIGINT/TIMESTAMP/DOUBLE, 1 byte for BOOLEAN, or a 4-byte length and the bytes for VARCHAR.
/// Equal SQL values (grouping semantics: NULLs group together, -0.0 = 0.0) give equal bytes.
enum GroupKeyEncoder {
    static func append(_ vector: Vector, row: Int, to out: inout [UInt8]) {
        if vector.type == .null || vector.isNull(row) {
            out.append(0)
            return
        }
        out.append(1)
        let index = vector.bufferIndex(row)
        switch vector.buffer {
        case .int64(let values):
            appendWord(UInt64(bitPattern: values[index]), to: &out)
        case .double(let values):
            var value = values[index]
            if value == 0 { value = 0 }
            if value.isNaN { value = .nan }
            appendWord(value.bitPattern, to: &out)
        case .bool(let values):
            out.append(values[index])
        case .string(let strings):
            let start = Int(strings.offsets[index]), end = Int(strings.offsets[index + 1])
            appendWord32(UInt32(end - start), to: &out)
            out.append(contentsOf: strings.bytes[start..<end])
        case .none:
            break
        }
    }

    @inline(__always)
    static func appendWord(_ word: UInt64, to out: inout [UInt8]) {
        withUnsafeBytes(of: word.littleEndian) { out.append(contentsOf: $0) }
    }

    @inline(__always)
    static func appendWord32(_ word: UInt32, to out: inout [UInt8]) {
        withUnsafeBytes(of: word.littleEndian) { out.append(contentsOf: $0) }
    }

    /// Decodes one key column value starting at `offset`, advancing it.
    static func decode(_ key: ArraySlice<UInt8>, offset: inout Int, type: LogicalType) -> Value {
        let isValid = key[offset] != 0
        offset += 1
        guard isValid else { return .null }
        func word() -> UInt64 {
            var value: UInt64 = 0
            for shift in 0..<8 { value |= UInt64(key[offset + shift]) << (8 * UInt64(shift)) }
            offset += 8
            return value
        }
        switch type {
        case .bigint: return .int64(Int64(bitPattern: word()))
        case .timestamp: return .timestamp(Int64(bitPattern: word()))
        case .double: return .double(Double(bitPattern: word()))
        case .boolean:
            defer { offset += 1 }
            return .bool(key[offset] != 0)
        case .varchar:
            var length = 0
            for shift in 0..<4 { length |= Int(key[offset + shift]) << (8 * shift) }
            offset += 4
            defer { offset += length }
            return .string(String(decoding: key[offset..<offset + length], as: UTF8.self))
        case .null:
            return .null
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
