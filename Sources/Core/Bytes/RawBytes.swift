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
/// and then `advance(by:)` what they wrote. Used by the form transcoder's output and the
/// Workload generator's `JSONBytesSink`; public and inlinable for the latter, whose per-byte
/// appends must stay inlined across the module boundary.
public struct RawBytes {
    /// The first byte; moves when the buffer grows.
    public private(set) var base: UnsafeMutablePointer<UInt8>
    /// Bytes written so far (stored apart from `count` so inlined appends can update it).
    @usableFromInline var filled = 0
    @usableFromInline var capacity: Int

    public var count: Int { filled }

    public init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    public func deallocate() { base.deallocate() }

    @inlinable
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: filled) }

    /// Where the next byte goes; valid for as many bytes as the last `reserve` asked for.
    @inlinable
    public var end: UnsafeMutablePointer<UInt8> { base + filled }

    public mutating func removeAll() { filled = 0 }

    @inlinable @inline(__always)
    public mutating func reserve(_ extra: Int) {
        if filled &+ extra > capacity { grow(filled + extra) }
    }

    @usableFromInline @inline(never)
    mutating func grow(_ needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: base, count: filled)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    /// Counts `written` bytes put at `end` after a `reserve` of at least that many.
    @inlinable @inline(__always)
    public mutating func advance(by written: Int) { filled &+= written }

    @inlinable @inline(__always)
    public mutating func append(_ byte: UInt8) {
        reserve(1)
        base[filled] = byte
        filled &+= 1
    }

    @inlinable @inline(__always)
    public mutating func append(_ buffer: UnsafeRawBufferPointer) {
        guard let source = buffer.baseAddress, buffer.count > 0 else { return }
        reserve(buffer.count)
        (base + filled).update(from: source.assumingMemoryBound(to: UInt8.self), count: buffer.count)
        filled &+= buffer.count
    }
}
