#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Substring search for LIKE, over raw bytes (no Strings).
///
/// Glibc's `memmem` is not visible from Swift (it needs `_GNU_SOURCE`), so this is the
/// "generic SIMD" search (Wojciech Muła): compare 16 positions at once against the needle's
/// first and last bytes and verify only positions where both match with `memcmp`. Pairs of
/// (first, last) bytes at the needle's distance are rare in text, so almost every block costs
/// two loads, two compares and one test.
struct SubstringSearcher {
    let needle: [UInt8]

    init(_ needle: [UInt8]) { self.needle = needle }

    /// Offset of the first occurrence of the needle in `haystack`, or nil.
    func firstIndex(in haystack: UnsafeRawBufferPointer) -> Int? {
        needle.withUnsafeBytes { needle in SubstringSearcher.find(needle, in: haystack) }
    }

    static func find(_ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer) -> Int? {
        let n = needle.count, length = haystack.count
        if n == 0 { return 0 }
        if n > length { return nil }
        let base = haystack.baseAddress!, pattern = needle.baseAddress!
        let first = pattern.load(as: UInt8.self)
        if n == 1 {
            guard let hit = memchr(base, Int32(first), length) else { return nil }
            return UnsafeRawPointer(hit) - base
        }
        let last = pattern.load(fromByteOffset: n - 1, as: UInt8.self)
        let firsts = SIMD16<UInt8>(repeating: first), lasts = SIMD16<UInt8>(repeating: last)
        var index = 0
        // Block loop: positions index..<index+16, reading up to index+15+n-1 < length.
        while index + 16 + n - 1 <= length {
            let heads = base.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
            let tails = base.loadUnaligned(fromByteOffset: index + n - 1, as: SIMD16<UInt8>.self)
            let candidates = (heads .== firsts) .& (tails .== lasts)
            if any(candidates) {
                for lane in 0..<16 where candidates[lane] {
                    if n <= 2 || memcmp(base + index + lane + 1, pattern + 1, n - 2) == 0 { return index + lane }
                }
            }
            index += 16
        }
        while index + n <= length {
            if base.load(fromByteOffset: index, as: UInt8.self) == first,
               base.load(fromByteOffset: index + n - 1, as: UInt8.self) == last,
               n <= 2 || memcmp(base + index + 1, pattern + 1, n - 2) == 0 {
                return index
            }
            index += 1
        }
        return nil
    }
}
