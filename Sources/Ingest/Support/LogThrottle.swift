import Foundation
import Synchronization

/// Logs a repeated event once per interval with a count, instead of once per occurrence.
///
/// A full disk refuses every request, and each refusal used to log an error and a warning:
/// ~20,000 lines a second, which fills the disk of the log too and buries everything else.
/// Per key: the first occurrence is logged at once; later ones within `intervalSeconds` are
/// only counted, and the next one after the interval is logged with `repeats` (how many were
/// not logged since the last line).
public final class LogThrottle: Sendable {
    private struct Entry {
        var lastLoggedNanos: UInt64
        var suppressed: Int
    }

    public let intervalSeconds: Double
    private let entries = Mutex<[String: Entry]>([:])

    public init(intervalSeconds: Double = 10) {
        self.intervalSeconds = intervalSeconds
    }

    /// Whether to log this occurrence of `key` now, and how many were left unlogged before it.
    public func admit(_ key: String, nowNanos: UInt64 = DispatchTime.now().uptimeNanoseconds) -> (log: Bool, repeats: Int) {
        let intervalNanos = UInt64(intervalSeconds * 1e9)
        return entries.withLock { entries in
            guard var entry = entries[key] else {
                entries[key] = Entry(lastLoggedNanos: nowNanos, suppressed: 0)
                return (true, 0)
            }
            if nowNanos &- entry.lastLoggedNanos >= intervalNanos {
                let repeats = entry.suppressed
                entry = Entry(lastLoggedNanos: nowNanos, suppressed: 0)
                entries[key] = entry
                return (true, repeats)
            }
            entry.suppressed += 1
            entries[key] = entry
            return (false, 0)
        }
    }
}
