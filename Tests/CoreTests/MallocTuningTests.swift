import XCTest
import Core
#if canImport(Glibc)
import Glibc
#endif

final class MallocTuningTests: XCTestCase {
    /// The lookup of glibc's `mallopt` works (a failed `dlsym` would silently leave every
    /// tuning off: the compactor's arenas, the query engine's thresholds).
    func testGlibcAcceptsTheOptions() throws {
        #if canImport(Glibc)
        XCTAssertTrue(MallocTuning.set(.trimThreshold, 256 << 20))
        XCTAssertTrue(MallocTuning.set(.mmapThreshold, 64 << 20))
        XCTAssertTrue(MallocTuning.set(.arenaMax, 8))
        #else
        throw XCTSkip("glibc only")
        #endif
    }

    /// An operator's `MALLOC_ARENA_MAX` wins over the commands' own limit.
    func testOperatorsArenaSettingIsKept() throws {
        #if canImport(Glibc)
        let previous = getenv("MALLOC_ARENA_MAX").map { String(cString: $0) }
        defer {
            if let previous { setenv("MALLOC_ARENA_MAX", previous, 1) } else { unsetenv("MALLOC_ARENA_MAX") }
        }
        setenv("MALLOC_ARENA_MAX", "4", 1)
        XCTAssertFalse(MallocTuning.limitArenas(to: 2))
        unsetenv("MALLOC_ARENA_MAX")
        XCTAssertTrue(MallocTuning.limitArenas(to: 8))
        #else
        throw XCTSkip("glibc only")
        #endif
    }
}
