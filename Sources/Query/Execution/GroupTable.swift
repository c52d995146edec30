/// Maps encoded group keys to dense group ids (0, 1, 2, ... in first-seen order).
///
/// Keys are byte strings (see `GroupKeyEncoder`) stored back to back in one arena; the table
/// is open addressing with linear probing and keeps each group's hash so growing never
/// re-reads keys. A slot holds the group id and the top 32 bits of its hash, so a probe
/// compares keys only on a 32-bit tag match and never touches `hashes` (one cache miss less
/// per lookup in tables larger than the caches).
final class GroupTable {
    private(set) var arena: [UInt8] = []
    private(set) var keyStarts: [Int] = [0]
    private(set) var hashes: [UInt64] = []
    /// `tag << 32 | group`, or `emptySlot`.
    private var slots: [UInt64]
    private var mask: Int
    private static let emptySlot = UInt64.max
    private static let tagMask: UInt64 = 0xFFFF_FFFF_0000_0000

    var groupCount: Int { hashes.count }
    /// Written by the prefetch pass so the compiler keeps its loads.
    private var prefetchSink: UInt64 = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: GroupTable.emptySlot, count: size)
        mask = size - 1
    }

    /// Bytes held, for the memory budget.
    var memoryBytes: Int { arena.capacity + keyStarts.capacity * 8 + hashes.capacity * 8 + slots.count * 8 }

    func key(of group: Int) -> ArraySlice<UInt8> { arena[keyStarts[group]..<keyStarts[group + 1]] }

    /// The id of `key`, inserting it when new.
    func findOrInsert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32 {
        var result: Int32 = 0
        findOrInsertBatch(keys: key, offsets: [0, key.count], hashes: [hash], into: &result)
        return result
    }

    /// Group ids of `count` encoded keys (key `i` is `keys[offsets[i]..<offsets[i + 1]]`),
    /// hashing them first: the batch step shared by GROUP BY and DISTINCT.
    func findOrInsertBatch(keys: [UInt8], offsets: [Int], count: Int) -> [Int32] {
        var hashes = [UInt64](repeating: 0, count: count)
        keys.withUnsafeBytes { bytes in
            offsets.withUnsafeBufferPointer { offsets in
                for index in 0..<count {
                    hashes[index] = hashBytes(UnsafeRawBufferPointer(rebasing: bytes[offsets[index]..<offsets[index + 1]]))
                }
            }
        }
        var ids = [Int32](repeating: 0, count: count)
        keys.withUnsafeBufferPointer { bytes in
            ids.withUnsafeMutableBufferPointer { output in
                findOrInsertBatch(keys: bytes, offsets: offsets, hashes: hashes, into: output.baseAddress!)
            }
        }
        return ids
    }

    /// Group ids of a batch of keys: key `i` is `keys[offsets[i]..<offsets[i + 1]]`. One call
    /// per batch keeps array access (and Swift's exclusivity checks) out of the per-row loop.
    func findOrInsertBatch(keys: UnsafeBufferPointer<UInt8>, offsets: [Int], hashes: [UInt64],
                           into groups: UnsafeMutablePointer<Int32>) {
        let count = hashes.count
        var row = 0
        while row < count {
            // Keys go in steps of at most 256, each with room for all its keys without passing
            // the load factor (no growth mid-step), so a table of few groups stays small.
            let stepEnd = min(count, row + 256)
            while (self.hashes.count + (stepEnd - row)) * 2 > slots.count { grow() }
            slots.withUnsafeMutableBufferPointer { slotBuffer in
                let mask = self.mask
                // Touch every row's home slot first: independent loads overlap their cache
                // misses, so the probe loop below (one branchy miss at a time) finds them cached.
                var touched: UInt64 = 0
                for ahead in row..<stepEnd { touched ^= slotBuffer[Int(truncatingIfNeeded: hashes[ahead]) & mask] }
                prefetchSink = touched
                while row < stepEnd {
                    let hash = hashes[row]
                    let tag = hash & GroupTable.tagMask
                    let keyStart = offsets[row], keyLength = offsets[row + 1] - keyStart
                    var slot = Int(truncatingIfNeeded: hash) & mask
                    var found: Int32 = -1
                    while true {
                        let entry = slotBuffer[slot]
                        if entry == GroupTable.emptySlot { break }
                        if entry & GroupTable.tagMask == tag {
                            let g = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF)
                            let start = keyStarts[g]
                            if keyStarts[g + 1] - start == keyLength {
                                let equal = keyLength == 0 || arena.withUnsafeBufferPointer { arenaBuffer in
                                    bytesEqual(arenaBuffer.baseAddress! + start, keys.baseAddress! + keyStart, keyLength)
                                }
                                if equal { found = Int32(g); break }
                            }
                        }
                        slot = (slot + 1) & mask
                    }
                    if found < 0 {
                        found = Int32(self.hashes.count)
                        slotBuffer[slot] = tag | UInt64(UInt32(bitPattern: found))
                        self.hashes.append(hash)
                        arena.append(contentsOf: UnsafeBufferPointer(rebasing: keys[keyStart..<(keyStart + keyLength)]))
                        keyStarts.append(arena.count)
                    }
                    groups[row] = found
                    row += 1
                }
            }
        }
    }

    private func grow() {
        let size = slots.count * 2
        slots = [UInt64](repeating: GroupTable.emptySlot, count: size)
        mask = size - 1
        for (group, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != GroupTable.emptySlot { slot = (slot + 1) & mask }
            slots[slot] = (hash & GroupTable.tagMask) | UInt64(UInt32(group))
        }
    }
}

/// Byte equality for short keys (typically 8 to 64 bytes) without a libc call: 8 bytes at a
/// time, then the tail.
@inline(__always)
func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    let x = UnsafeRawPointer(a), y = UnsafeRawPointer(b)
    var offset = 0
    while offset + 8 <= count {
        if x.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != y.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
            return false
        }
        offset += 8
    }
    while offset < count {
        if a[offset] != b[offset] { return false }
        offset += 1
    }
    return true
}

extension VectorBuffer {
    /// Bytes per value in a group key (strings are variable).
    var fixedWidth: Int {
        switch self {
        case .int64, .double: return 8
        case .bool: return 1
        case .string, .none: return 0
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

    /// Encodes every row of `keys` into one buffer: row i's key is
    /// `bytes[offsets[i]..<offsets[i + 1]]`, byte-identical to `append` row by row.
    /// Column at a time, so the per-row work is a typed load and a store.
    static func encodeBatch(_ keys: [Vector], count: Int, bytes: inout [UInt8], offsets: inout [Int]) {
        var lengths = [Int](repeating: 0, count: count)
        let formats = keys.map(\.unified)
        for (key, format) in zip(keys, formats) {
            let indices = format.indices ?? []
            let flat = format.indices == nil
            let validity = format.validity
            switch key.buffer {
            case .string(let strings):
                let stringOffsets = strings.offsets
                for row in 0..<count {
                    let index = flat ? row : Int(indices[row])
                    if let validity, validity[index] == 0 || key.type == .null {
                        lengths[row] &+= 1
                    } else {
                        lengths[row] &+= 5 &+ Int(stringOffsets[index + 1] &- stringOffsets[index])
                    }
                }
            default:
                let width = key.buffer.fixedWidth
                if key.type == .null {
                    for row in 0..<count { lengths[row] &+= 1 }
                } else if let validity {
                    for row in 0..<count { lengths[row] &+= validity[flat ? row : Int(indices[row])] == 0 ? 1 : 1 &+ width }
                } else {
                    for row in 0..<count { lengths[row] &+= 1 &+ width }
                }
            }
        }
        offsets.removeAll(keepingCapacity: true)
        offsets.reserveCapacity(count + 1)
        var total = 0
        offsets.append(0)
        for length in lengths {
            total &+= length
            offsets.append(total)
        }
        if bytes.count < total { bytes = [UInt8](repeating: 0, count: total) }
        var cursors = Array(offsets.dropLast())
        bytes.withUnsafeMutableBufferPointer { out in
            let base = UnsafeMutableRawPointer(out.baseAddress!)
            for (key, format) in zip(keys, formats) {
                let indices = format.indices ?? []
                let flat = format.indices == nil
                let validity = key.type == .null ? [0] : format.validity
                for row in 0..<count {
                    let index = flat ? row : Int(indices[row])
                    let cursor = cursors[row]
                    if let validity, validity[key.type == .null ? 0 : index] == 0 {
                        base.storeBytes(of: 0, toByteOffset: cursor, as: UInt8.self)
                        cursors[row] = cursor &+ 1
                        continue
                    }
                    base.storeBytes(of: 1, toByteOffset: cursor, as: UInt8.self)
                    switch key.buffer {
                    case .int64(let values):
                        base.storeBytes(of: UInt64(bitPattern: values[index]).littleEndian, toByteOffset: cursor &+ 1,
                                        as: UInt64.self)
                        cursors[row] = cursor &+ 9
                    case .double(let values):
                        var value = values[index]
                        if value == 0 { value = 0 }
                        if value.isNaN { value = .nan }
                        base.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: cursor &+ 1, as: UInt64.self)
                        cursors[row] = cursor &+ 9
                    case .bool(let values):
                        base.storeBytes(of: values[index], toByteOffset: cursor &+ 1, as: UInt8.self)
                        cursors[row] = cursor &+ 2
                    case .string(let strings):
                        let start = Int(strings.offsets[index]), end = Int(strings.offsets[index + 1])
                        base.storeBytes(of: UInt32(end &- start).littleEndian, toByteOffset: cursor &+ 1, as: UInt32.self)
                        strings.bytes.withUnsafeBufferPointer { source in
                            if end > start {
                                (base + (cursor &+ 5)).copyMemory(from: source.baseAddress! + start, byteCount: end &- start)
                            }
                        }
                        cursors[row] = cursor &+ 5 &+ (end &- start)
                    case .none:
                        cursors[row] = cursor &+ 1
                    }
                }
            }
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
