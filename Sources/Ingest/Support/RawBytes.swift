#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An append-only byte buffer in raw memory: one capacity check per write, none of `Array`'s
/// copy-on-write or uniqueness checks per byte. A plain struct over a pointer, so copies share
/// the memory: the one owner calls `deallocate()` when done.
///
/// Writers that fill a known amount at once call `reserve(n)`, write up to `n` bytes at `end`
/// and then `advance(by:)` what they wrote. Used by the generator's `JSONBytesSink` and the
/// form transcoder's output.
struct RawBytes {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    func deallocate() { base.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Where the next byte goes; valid for as many bytes as the last `reserve` asked for.
    var end: UnsafeMutablePointer<UInt8> { base + count }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count &+ extra > capacity { grow(count + extra) }
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    /// Counts `written` bytes put at `end` after a `reserve` of at least that many.
    @inline(__always)
    mutating func advance(by written: Int) { count &+= written }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count &+= 1
    }

    @inline(__always)
    mutating func append(_ buffer: UnsafeRawBufferPointer) {
        guard let source = buffer.baseAddress, buffer.count > 0 else { return }
        reserve(buffer.count)
        (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: buffer.count)
        count &+= buffer.count
    }
}
