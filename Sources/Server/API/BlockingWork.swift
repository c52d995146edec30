import Foundation
import Hummingbird
import Query

/// Runs synchronous, CPU-heavy work (queries, scans) off the Swift concurrency pool, whose
/// few threads also serve the HTTP handlers. At most `concurrencyMax` pieces run at once (each
/// query already spreads over every core); the rest wait their turn in order, so a burst of
/// dashboard requests queues instead of multiplying threads.
enum BlockingWork {
    static let concurrencyMax = max(2, ProcessInfo.processInfo.activeProcessorCount)

    private static let queue: OperationQueue = {
        let queue = OperationQueue()
        queue.name = "trackhouse.api.queries"
        queue.maxConcurrentOperationCount = concurrencyMax
        return queue
    }()

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.addOperation {
                continuation.resume(with: Result { try work() })
            }
        }
    }

    /// Runs SQL the API wrote itself: an engine error there is the server's fault (500),
    /// unlike errors in SQL a caller sent to `POST /query`.
    static func serverQuery<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await run { try retryingOnce(work) }
        } catch let error as QueryError {
            throw APIError(.internalServerError, code: "query_failed", message: "\(error)")
        }
    }

    /// Runs `work` again once after an I/O error: a merge that commits between a query listing
    /// the live files and opening one of them deletes that file, and the second run lists the
    /// files that replaced it. A damaged file fails twice and is reported.
    static func retryingOnce<T>(_ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as QueryError where error.code == .io {
            return try work()
        }
    }
}
