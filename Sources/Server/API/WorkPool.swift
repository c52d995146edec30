import Core
import Foundation
import Hummingbird
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A bounded pool of threads of its own for CPU-heavy API work (SQL, chart scans, sites pages),
/// with a queue and an admission limit.
///
/// Why: the HTTP handlers run on Swift's cooperative pool, one thread per core. Work run there,
/// or on Dispatch's global queues (which share those threads on Linux), made `/healthz`,
/// `/metrics` and ingest wait for seconds behind a few heavy queries. Here:
/// 1. `workers` threads, started once, at nice `niceness` so the event loops and the
///    cooperative pool win the cores when both want them (a query's own helper threads,
///    `ParallelFor`, inherit the value).
/// 2. A job is admitted when fewer than `queuedMax` wait and its tenant has fewer than
///    `perTenantMax` admitted; otherwise `submit` throws at once: 503 `overloaded` (the pool)
///    or 429 `rate_limited` (the tenant), both with `Retry-After`. One token's burst cannot
///    fill the queue for every other.
/// 3. Jobs start in arrival order. A job's deadline counts from its admission: time in the
///    queue is part of the limit, and a job whose deadline passed while it waited is not run.
/// 4. When the pool falls idle, `malloc_trim` hands freed heap back to the kernel (glibc keeps
///    it otherwise: RSS stayed at ~2.9 GB after ten heavy queries).
final class WorkPool: Sendable {
    struct Job {
        let tenant: String
        let admittedAt: ContinuousClock.Instant
        let run: @Sendable (_ waited: Duration) -> Void
    }

    struct State {
        var queue: [Job] = []
        var head = 0
        var running = 0
        var admittedByTenant: [String: Int] = [:]
        var completed = 0
        var refused = 0
    }

    let name: String
    let workers: Int
    let queuedMax: Int
    let perTenantMax: Int
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    init(name: String, workers: Int, queuedMax: Int, perTenantMax: Int, niceness: Int32 = 5) {
        self.name = name
        self.workers = max(1, workers)
        self.queuedMax = max(0, queuedMax)
        self.perTenantMax = max(1, perTenantMax)
        for index in 0..<self.workers {
            let thread = Thread { [self] in
                FileIO.nameCurrentThread("th-\(name)-\(index)")
                #if os(Linux)
                // Per-thread on Linux: `who` 0 in PRIO_PROCESS names the calling thread.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
                #endif
                self.workLoop()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs `work` on a pool thread; throws an `APIError` at once when the pool or the tenant
    /// is full. `work` gets the time its job waited in the queue.
    func submit<T: Sendable>(tenant: String, _ work: @escaping @Sendable (_ waited: Duration) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(tenant: tenant, admittedAt: .now) { waited in
                continuation.resume(with: Result { try work(waited) })
            }
            if let refusal = admit(job) {
                continuation.resume(throwing: refusal)
            } else {
                wake.signal()
            }
        }
    }

    private func admit(_ job: Job) -> APIError? {
        state.withLock { state -> APIError? in
            let waiting = state.queue.count - state.head
            if waiting >= queuedMax && state.running >= workers {
                state.refused += 1
                var error = APIError(.serviceUnavailable, code: "overloaded",
                                     message: "the server is answering as many \(name) requests as it can (\(workers) running, \(waiting) waiting); try again shortly")
                error.retryAfterSeconds = 2
                return error
            }
            if state.admittedByTenant[job.tenant, default: 0] >= perTenantMax {
                state.refused += 1
                var error = APIError(.tooManyRequests, code: "rate_limited",
                                     message: "this token already has \(perTenantMax) \(name) requests running or waiting; wait for them before sending more")
                error.retryAfterSeconds = 1
                return error
            }
            state.admittedByTenant[job.tenant, default: 0] += 1
            state.queue.append(job)
            return nil
        }
    }

    private func workLoop() {
        while true {
            wake.wait()
            guard let job = take() else { continue }
            job.run(ContinuousClock.now - job.admittedAt)
            let idle = state.withLock { state -> Bool in
                state.running -= 1
                state.completed += 1
                state.admittedByTenant[job.tenant, default: 1] -= 1
                if state.admittedByTenant[job.tenant] == 0 { state.admittedByTenant[job.tenant] = nil }
                return state.running == 0 && state.queue.count == state.head
            }
            if idle { FreedMemory.release() }
        }
    }

    private func take() -> Job? {
        state.withLock { state -> Job? in
            guard state.head < state.queue.count else { return nil }
            let job = state.queue[state.head]
            state.head += 1
            state.running += 1
            if state.head > 64 && state.head * 2 > state.queue.count {
                state.queue.removeFirst(state.head)
                state.head = 0
            }
            return job
        }
    }

    /// For `/healthz` and `/metrics`.
    var snapshot: (running: Int, waiting: Int, completed: Int, refused: Int) {
        state.withLock { ($0.running, $0.queue.count - $0.head, $0.completed, $0.refused) }
    }
}
