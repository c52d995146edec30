import Foundation
import Hummingbird
import Query

/// Runs synchronous, CPU-heavy API work on `WorkPool`s, never on the cooperative pool whose
/// few threads serve every HTTP handler. Two pools, so a queue of callers' SQL never delays
/// the dashboard's own charts:
/// - `sql`: `POST /api/v1/query`, one job per core running, 8 waiting, 3 per token;
/// - `charts`: the API's own work (chart scans, sites pages, deactivations), one per core
///   running, 64 waiting, 32 per token.
/// A job beyond those limits is refused at once (503 `overloaded` or 429, with `Retry-After`).
enum BlockingWork {
    static let cores = max(2, ProcessInfo.processInfo.activeProcessorCount)
    static let sql = WorkPool(name: "sql", workers: cores, queuedMax: 8, perTenantMax: cores + 1)
    static let charts = WorkPool(name: "chart", workers: cores, queuedMax: 64, perTenantMax: 32)

    /// Runs `work` on `pool` for `tenant` (the token's scope: one tenant's burst is bounded).
    static func run<T: Sendable>(pool: WorkPool = charts, tenant: String = "",
                                 _ work: @escaping @Sendable (_ waited: Duration) throws -> T) async throws -> T {
        try await pool.submit(tenant: tenant, work)
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
