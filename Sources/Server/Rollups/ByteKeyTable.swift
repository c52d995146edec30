/// Dense ids for byte strings (one project's site keys or site hashes) without a Swift
/// `String` per lookup: keys live back to back in one arena, an open-addressing table of
/// ids finds them by a 64-bit hash. Ids are given in first-seen order, 0, 1, 2, …
struct ByteKeyTable: Sendable {
    private var arena: [UInt8] = []
    /// `starts[id] ..< starts[id + 1]` is key `id` in `arena`.
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    /// id + 1, 0 = empty; power-of-two capacity, load ≤ 1/2.
    private var slots = [UInt32](repeating: 0, count: 1024)

    var count: Int { hashes.count }

    init() {}

    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(key.count)
        var index = 0
        while index + 8 <= key.count {
            h = (h ^ key.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 32
            index += 8
        }
        while index < key.count {
            h = (h ^ UInt64(key[index])) &* 0x100_0000_01B3
            index += 1
        }
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }

    /// The id of `key`, adding it if new.
    mutating func id(_ key: UnsafeRawBufferPointer) -> UInt32 {
        if (count + 1) * 2 > slots.count { grow() }
        let hash = Self.hash(key)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = slots[slot]
            if stored == 0 { break }
            let id = Int(stored - 1)
            if hashes[id] == hash && starts[id + 1] - starts[id] == key.count {
                let equal = arena.withUnsafeBufferPointer { arena in
                    key.count == 0 || memcmp(arena.baseAddress! + starts[id], key.baseAddress!, key.count) == 0
                }
                if equal { return UInt32(id) }
            }
            slot = (slot + 1) & mask
        }
        let id = UInt32(count)
        arena.append(contentsOf: key)
        starts.append(arena.count)
        hashes.append(hash)
        slots[slot] = id + 1
        return id
    }

    mutating func id(_ key: String) -> UInt32 {
        var key = key
        return key.withUTF8 { id(UnsafeRawBufferPointer($0)) }
    }

    /// The arena and the key starts (`starts[id] ..< starts[id + 1]`), for the state file.
    var storage: (arena: [UInt8], starts: [Int]) { (arena, starts) }

    /// The table holding the keys of `storage` with the same ids; nil when the keys are not
    /// a valid table (starts not ascending from 0 to the arena's end, or a key twice).
    init?(arena: [UInt8], starts: [Int]) {
        guard starts.first == 0, starts.last == arena.count else { return nil }
        for index in 1..<starts.count where starts[index] < starts[index - 1] { return nil }
        let keyCount = starts.count - 1
        var slotCount = 1024
        while slotCount < keyCount * 2 + 2 { slotCount *= 2 }
        slots = [UInt32](repeating: 0, count: slotCount)
        self.arena.reserveCapacity(arena.count)
        self.starts.reserveCapacity(starts.count)
        hashes.reserveCapacity(keyCount)
        let unique = arena.withUnsafeBytes { bytes in
            for key in 0..<keyCount {
                let expected = UInt32(key)
                guard id(UnsafeRawBufferPointer(rebasing: bytes[starts[key]..<starts[key + 1]])) == expected else { return false }
            }
            return true
        }
        guard unique else { return nil }
    }

    private mutating func grow() {
        var bigger = [UInt32](repeating: 0, count: slots.count * 2)
        let mask = bigger.count - 1
        for id in 0..<count {
            var slot = Int(truncatingIfNeeded: hashes[id]) & mask
            while bigger[slot] != 0 { slot = (slot + 1) & mask }
            bigger[slot] = UInt32(id + 1)
        }
        slots = bigger
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
