// A fixed 64-bit hash (not Swift's per-process seeded Hasher) so HyperLogLog estimates and
// hash-table layouts are the same on every run.

@inline(__always)
func mixHash(_ value: UInt64) -> UInt64 {
    // MurmurHash3's 64-bit finaliser.
    var h = value
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    h = h &* 0xC4CE_B9FE_1A85_EC53
    h ^= h >> 33
    return h
}

@inline(__always)
func hashBytes(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(bytes.count) &* 0x8CB9_2BA7_2F3D_8DD7)
    var offset = 0
    let count = bytes.count
    while offset + 8 <= count {
        let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        h = (h ^ mixHash(word)) &* 0x9E37_79B9_7F4A_7C15
        h = (h << 31) | (h >> 33)
        offset += 8
    }
    if offset < count {
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < count {
            tail |= UInt64(bytes[offset]) << shift
            shift += 8
            offset += 1
        }
        h = (h ^ mixHash(tail)) &* 0x9E37_79B9_7F4A_7C15
    }
    return mixHash(h)
}

@inline(__always)
func hashBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    hashBytes(UnsafeRawBufferPointer(bytes))
}
