import Foundation
import Synchronization

/// `DispatchQueue.concurrentPerform` on threads of its own.
///
/// Why not Dispatch: on Linux, Swift concurrency's cooperative executor and Dispatch's global
/// queues draw from the same few threads (one per core). A scan that fanned out with
/// `concurrentPerform` held them, and the server's HTTP handlers, health check included,
/// waited behind it for seconds. Threads made here are the kernel's to schedule beside the
/// event loops, and inherit the caller's nice value (a query worker's lower priority).
public enum ParallelFor {
    /// Runs `body(0..<iterations)`, iteration 0 on the calling thread and each other on a new
    /// thread, and returns when all have finished.
    public static func run(iterations: Int, _ body: @escaping (Int) -> Void) {
        guard iterations > 1 else {
            if iterations == 1 { body(0) }
            return
        }
        let done = DispatchSemaphore(value: 0)
        let shared = UncheckedSendableBox(body)
        for iteration in 1..<iterations {
            let thread = Thread {
                shared.value(iteration)
                done.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        body(0)
        for _ in 1..<iterations { done.wait() }
    }
}

extension ParallelFor {
    /// Runs `body(index)` for every index in `0..<count` on at most `workersMax` threads (the
    /// caller's among them), each taking the next index: for many jobs of uneven size.
    public static func forEach(count: Int, workersMax: Int, _ body: @escaping (Int) -> Void) {
        let next = Mutex(0)
        run(iterations: min(count, max(1, workersMax))) { _ in
            while true {
                let index = next.withLock { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard index < count else { return }
                body(index)
            }
        }
    }
}

/// Hands a non-Sendable value to threads whose use of it the caller orders (here: each
/// thread calls the closure once, and the caller waits for all of them before returning).
/// `@unchecked Sendable`: the box adds no synchronization; it is only safe where the user
/// orders every access itself, as each use site's comment explains (`ParallelFor.run`: the
/// threads only call `value`, and `run` waits for all of them before returning).
public struct UncheckedSendableBox<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
