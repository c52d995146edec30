import Foundation

/// Shared state of one running query: deadline, cancellation, memory accounting and
/// counters. Workers call `checkpoint()` between batches.
final class ExecutionContext: @unchecked Sendable {
    let deadline: UInt64?
    let timeoutMs: Int?
    let memoryBytesMax: Int
    private let lock = NSLock()
    private var cancelled = false
    private var memoryByOwner: [Int: Int] = [:]
    private var memoryTotal = 0
    private(set) var rowsScanned = 0
    private(set) var unitsScanned = 0
    private(set) var columnsRead = 0
    private(set) var unitsSkipped = 0

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
        lock.lock()
        let stop = cancelled
        lock.unlock()
        if stop { throw CancellationError() }
    }

    func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    /// Records that `owner` (a worker or operator) now holds `bytes`; throws past the budget.
    func reserveMemory(owner: Int, bytes: Int) throws {
        lock.lock()
        memoryTotal += bytes - (memoryByOwner[owner] ?? 0)
        memoryByOwner[owner] = bytes
        let total = memoryTotal
        lock.unlock()
        if total > memoryBytesMax {
            throw QueryError(.memoryLimit, "query needs more than \(memoryBytesMax) bytes (memoryBytesMax) for its "
                                 + "hash tables and buffers (at least \(total)); add filters, group by fewer "
                                 + "distinct values or add a LIMIT")
        }
    }

    /// A unit the top-N bounds ruled out while running.
    func countSkipped() {
        lock.lock()
        unitsSkipped += 1
        lock.unlock()
    }

    func countScanned(rows: Int, columns: Int) {
        lock.lock()
        rowsScanned += rows
        unitsScanned += 1
        columnsRead += columns
        lock.unlock()
    }
}

struct CancellationError: Error {}
