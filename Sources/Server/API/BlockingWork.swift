import Dispatch
import Hummingbird
import Query

/// Runs synchronous, CPU-heavy work (queries, scans) on a Dispatch queue rather than on the
/// Swift concurrency pool, whose few threads also serve the HTTP handlers.
enum BlockingWork {
    private static let queue = DispatchQueue(label: "trackhouse.api.queries", attributes: .concurrent)

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }

    /// Runs a computation whose SQL the API wrote itself: an engine error there is the
    /// server's fault (500), unlike errors in SQL a caller sent to `POST /query`.
    static func serverQuery<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await run(work)
        } catch let error as QueryError {
            throw APIError(.internalServerError, code: "query_failed", message: "\(error)")
        }
    }
}
