#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Assigns dense ids to distinct byte strings, storing them in a `StringColumn`.
///
/// Open addressing over (hash, id) slots instead of `[String: UInt32]`, so inserting a
/// value costs a hash and a memcmp, not a String allocation.
struct StringDictionaryBuilder {
    private(set) var values = StringColumn()
    private var slots: [Int32]  // id + 1, 0 = empty
    private var hashes: [UInt64] = []
    private var mask: Int

    /// Limits of a dictionary page; inserting past them is refused so the writer can fall back to PLAIN.
    private(set) var entriesMax: Int
    private(set) var plainBytesMax: Int

    /// Raises the limits (never lowers them): the writer lets a dictionary whose entries repeat
    /// grow past the first limits.
    mutating func raiseLimits(entriesMax: Int, plainBytesMax: Int) {
        self.entriesMax = max(self.entriesMax, entriesMax)
        self.plainBytesMax = max(self.plainBytesMax, plainBytesMax)
    }

    init(entriesMax: Int, plainBytesMax: Int) {
        self.entriesMax = entriesMax
        self.plainBytesMax = plainBytesMax
        slots = [Int32](repeating: 0, count: 1024)
        mask = 1023
    }

    var count: Int { values.count }
    /// Size of the PLAIN dictionary page body (4-byte length + bytes per entry).
    var plainByteCount: Int { values.bytes.count + 4 * values.count }

    /// Id of `bytes`, inserting it if new; nil when it is new and the dictionary is full.
    mutating func id(of bytes: UnsafeRawBufferPointer) -> UInt32? {
        let hash = Self.hash(bytes)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { break }
            let id = entry - 1
            if hashes[id] == hash && equals(id, bytes) { return UInt32(id) }
            slot = (slot + 1) & mask
        }
        if values.count + 1 > entriesMax || plainByteCount + 4 + bytes.count > plainBytesMax { return nil }
        let id = values.count
        values.append(bytes: bytes)
        hashes.append(hash)
        slots[slot] = Int32(id + 1)
        if values.count * 2 > slots.count { grow() }
        return UInt32(id)
    }

    private func equals(_ id: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let range = values.range(at: id)
        guard range.count == bytes.count else { return false }
        return values.bytes.withUnsafeBytes { stored in
            range.isEmpty || memcmp(stored.baseAddress! + range.lowerBound, bytes.baseAddress!, range.count) == 0
        }
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = [Int32](repeating: 0, count: capacity)
        mask = capacity - 1
        for id in 0..<hashes.count {
            var slot = Int(truncatingIfNeeded: hashes[id]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(id + 1)
        }
    }

    /// FNV-1a over 8-byte words then a final mix; good enough spread for dictionary keys.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var index = 0
        while index + 8 <= bytes.count {
            hash = (hash ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0x0000_0100_0000_01b3
            index += 8
        }
        while index < bytes.count {
            hash = (hash ^ UInt64(bytes[index])) &* 0x0000_0100_0000_01b3
            index += 1
        }
        hash ^= UInt64(bytes.count)
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        return hash
    }
}
