import Query

/// Deactivations per reason_id over a range, most frequent first, then reason_id ascending,
/// NULL last: the rule `GET …/deactivations` and the digest mail share.
enum DeactivationReasons {
    /// From the rollup when it can answer, else counted with SQL.
    static func counted(charts: any ChartQueries, engine: QueryEngine, projectID: String, range: TimeRange) throws -> [(reason: Value, count: Int64)] {
        if let summary = charts.deactivationSummary(projectID: projectID, range: range, newest: 0) { return summary.reasons }
        return try scanned(engine: engine, projectID: projectID, range: range)
    }

    /// Counted with SQL under the project's scope.
    static func scanned(engine: QueryEngine, projectID: String, range: TimeRange) throws -> [(reason: Value, count: Int64)] {
        let result = try engine.execute(sql: """
            SELECT reason_id, count(*) AS n FROM events
            WHERE event = 'deactivate' AND \(SQLText.inRange("received_at", range))
            GROUP BY 1 ORDER BY 2 DESC, 1 ASC NULLS LAST
            """, scope: .project(projectID))
        return result.rows.map { row in
            if case .int64(let n) = row[1] { return (reason: row[0], count: n) }
            return (reason: row[0], count: 0)
        }
    }
}
