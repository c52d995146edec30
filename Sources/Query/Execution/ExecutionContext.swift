import Foundation
import Synchronization

/// Shared state of one running query: deadline, cancellation, memory accounting and
/// counters. Workers call `checkpoint()` between batches.
final class ExecutionContext: Sendable {
    let deadline: UInt64?
    let timeoutMs: Int?
    let memoryBytesMax: Int
    private struct State {
        var cancelled = false
        var memoryByOwner: [Int: Int] = [:]
        var memoryTotal = 0
        var rowsScanned = 0
        var unitsScanned = 0
        var columnsRead = 0
        var unitsSkipped = 0
        var unitsCountedByEntry = 0
    }
    private let state = Mutex(State())

    var rowsScanned: Int { state.withLock { $0.rowsScanned } }
    var unitsScanned: Int { state.withLock { $0.unitsScanned } }
    var columnsRead: Int { state.withLock { $0.columnsRead } }
    var unitsSkipped: Int { state.withLock { $0.unitsSkipped } }
    var unitsCountedByEntry: Int { state.withLock { $0.unitsCountedByEntry } }

    init(options: QueryOptions) {
        timeoutMs = options.timeoutMs
        deadline = options.timeoutMs.map { DispatchTime.now().uptimeNanoseconds + UInt64(max(0, $0)) * 1_000_000 }
        memoryBytesMax = options.memoryBytesMax
    }

    /// Throws when the query ran out of time or another worker failed.
    func checkpoint() throws {
        if let deadline, DispatchTime.now().uptimeNanoseconds > deadline {
            throw QueryError(.timeout, "query exceeded its time limit of \(timeoutMs ?? 0) ms (timeoutMs); "
                                 + "narrow the WHERE clause or raise the limit")
        }
        let stop = state.withLock { $0.cancelled }
        if stop { throw CancellationError() }
    }

    func cancel() {
        state.withLock { $0.cancelled = true }
    }

    /// Records that `owner` (a worker or operator) now holds `bytes`; throws past the budget.
    func reserveMemory(owner: Int, bytes: Int) throws {
        let total = state.withLock { state in
            state.memoryTotal += bytes - (state.memoryByOwner[owner] ?? 0)
            state.memoryByOwner[owner] = bytes
            return state.memoryTotal
        }
        if total > memoryBytesMax {
            throw QueryError(.memoryLimit, "query needs more than \(memoryBytesMax) bytes (memoryBytesMax) for its "
                                 + "hash tables and buffers (at least \(total)); add filters, group by fewer "
                                 + "distinct values or add a LIMIT")
        }
    }

    /// A unit the top-N bounds ruled out while running.
    func countSkipped() {
        state.withLock { $0.unitsSkipped += 1 }
    }

    func countScanned(rows: Int, columns: Int, countedByEntry: Bool = false) {
        state.withLock { state in
            if countedByEntry { state.unitsCountedByEntry += 1 }
            state.rowsScanned += rows
            state.unitsScanned += 1
            state.columnsRead += columns
        }
    }
}

struct CancellationError: Error {}
