import Dispatch
import Metrics
import Synchronization

/// What every statement the engine runs adds to the metrics (the server's `/metrics`; a no-op
/// in the CLI, which bootstraps no backend): a count, the duration, the rows read from the
/// warehouse, and failures by their stable code.
final class QueryMetrics: Sendable {
    static let shared = QueryMetrics()

    let queries = Counter(label: "trackhouse_queries_total")
    let duration = Metrics.Timer(label: "trackhouse_query_duration_seconds")
    let rowsScanned = Counter(label: "trackhouse_query_rows_scanned_total")
    /// One counter per error code, made at its first failure (the codes are a short fixed list).
    private let errors = Mutex<[String: Counter]>([:])

    func measure(_ work: () throws -> QueryResult) throws -> QueryResult {
        let started = DispatchTime.now().uptimeNanoseconds
        defer {
            queries.increment()
            duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
        }
        do {
            let result = try work()
            rowsScanned.increment(by: result.stats.rowsScanned)
            return result
        } catch {
            let code = (error as? QueryError)?.code.identifier ?? "internal"
            errors.withLock { counters in
                if counters[code] == nil {
                    counters[code] = Counter(label: "trackhouse_query_errors_total", dimensions: [("code", code)])
                }
                return counters[code]!
            }.increment()
            throw error
        }
    }
}
