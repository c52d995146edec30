#if canImport(Glibc)
import Glibc
#endif

/// glibc's `mallopt`, for the few process-wide allocator settings the workloads were measured
/// with (the query engine's thresholds, the compactor's arenas). A no-op off glibc.
public enum MallocTuning {
    /// `M_…` constants of <malloc.h>.
    public enum Option: Int32 {
        case trimThreshold = -1
        case mmapThreshold = -3
        case arenaMax = -8
    }

    /// Sets `option`; false when glibc refused it or is not there.
    @discardableResult
    public static func set(_ option: Option, _ value: Int32) -> Bool {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = mallopt else { return false }
        return unsafeBitCast(symbol, to: Mallopt.self)(option.rawValue, value) == 1
        #else
        return false
        #endif
    }

    /// Caps glibc's arenas at `count`, unless the operator set `MALLOC_ARENA_MAX` (glibc reads
    /// it at start; a `mallopt` would override their choice).
    @discardableResult
    public static func limitArenas(to count: Int) -> Bool {
        #if canImport(Glibc)
        if getenv("MALLOC_ARENA_MAX") != nil { return false }
        #endif
        return set(.arenaMax, Int32(clamping: max(1, count)))
    }

    /// `nonisolated(unsafe)`: a `let` set once by the static initializer (`swift_once`,
    /// thread-safe); the pointer is only called, never written through.
    nonisolated(unsafe) private static let mallopt = GlibcSymbol.lookup("mallopt")
}
