#if canImport(Glibc)
import Glibc
#endif

/// Hands the heap's free pages back to the kernel: glibc keeps what a burst of work freed
/// (a query's batches, a compaction's chunks) mapped in its arenas, so RSS stays at the peak
/// until then. A no-op off glibc.
public enum FreedMemory {
    /// glibc's `malloc_trim(0)`: returns the free pages of every arena to the kernel.
    public static func release() {
        #if canImport(Glibc)
        typealias MallocTrim = @convention(c) (Int) -> Int32
        if let trim = mallocTrim { _ = unsafeBitCast(trim, to: MallocTrim.self)(0) }
        #endif
    }

    /// `nonisolated(unsafe)`: a `let` set once by the static initializer (`swift_once`,
    /// thread-safe); the pointer is only called, never written through.
    nonisolated(unsafe) private static let mallocTrim = GlibcSymbol.lookup("malloc_trim")
}
