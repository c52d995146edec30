@testable import Query
@testable import Server

/// The reference for `SitesIndex`: a `GET …/sites` request as SQL over the `sites` table,
/// run by the engine under the project's scope (`SitesIndexTests` holds the two equal).
extension SitesQuery {
    /// SQL conditions ANDed together (the project scope is added by the engine).
    var conditions: [String] {
        var conditions: [String] = []
        if let statusFilter { conditions.append("status = \(SQLText.string(statusFilter))") }
        if let substring {
            let pattern = SQLText.string("%" + substring + "%")
            conditions.append("(lower(site_key) LIKE \(pattern) OR lower(site_name) LIKE \(pattern) OR lower(admin_email) LIKE \(pattern))")
        }
        for (column, values, matchesNull) in equalities {
            let name = SQLText.identifier(column.name)
            let literals = values.map(Self.literal)
            var alternatives: [String] = []
            if literals.count == 1 { alternatives.append("\(name) = \(literals[0])") }
            if literals.count > 1 { alternatives.append("\(name) IN (\(literals.joined(separator: ", ")))") }
            if matchesNull { alternatives.append("\(name) IS NULL") }
            conditions.append("(" + alternatives.joined(separator: " OR ") + ")")
        }
        return conditions
    }

    /// `ORDER BY` text: the sort column, then site_key for ties.
    var orderBy: String {
        let first = "\(SQLText.identifier(sortColumn)) \(sortDescending ? "DESC" : "ASC")"
        return sortColumn == "site_key" ? first : first + ", \"site_key\" ASC"
    }

    /// `q` when it holds a LIKE wildcard (`%` or `_`) and so must be matched in Swift: the
    /// engine's LIKE has no ESCAPE clause.
    var literalSubstring: String? {
        substring.flatMap { $0.contains("%") || $0.contains("_") ? $0 : nil }
    }

    static func literal(_ value: Value) -> String {
        switch value {
        case .string(let text): return SQLText.string(text)
        case .int64(let n): return String(n)
        case .double(let d): return "CAST(\(SQLText.string(String(d))) AS DOUBLE)"
        case .bool(let b): return b ? "true" : "false"
        case .timestamp(let micros): return SQLText.timestamp(micros)
        default: return "NULL"
        }
    }

    private var whereClause: String {
        conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
    }

    func count(engine: QueryEngine, projectID: String) throws -> Int64 {
        if literalSubstring != nil {
            return Int64(try rows(engine: engine, projectID: projectID, limit: nil, offset: 0).rowCount)
        }
        let result = try engine.execute(sql: "SELECT count(*) FROM sites" + whereClause, scope: .project(projectID))
        if case .int64(let n)? = result.rows.first?.first { return n }
        return 0
    }

    /// The matching sites in order, one page of them when `limit` is given.
    func rows(engine: QueryEngine, projectID: String, limit: Int?, offset: Int) throws -> QueryResult {
        let sql = "SELECT * FROM sites" + whereClause + " ORDER BY " + orderBy
        guard let literalSubstring else {
            let page = limit.map { " LIMIT \($0) OFFSET \(offset)" } ?? ""
            return try engine.execute(sql: sql + page, scope: .project(projectID))
        }
        // LIKE found a superset (its wildcards matched more than themselves): keep the rows
        // that really contain q, then cut the page here.
        let all = try engine.execute(sql: sql, scope: .project(projectID))
        let searched = ["site_key", "site_name", "admin_email"].compactMap { name in all.columns.firstIndex { $0.name == name } }
        let matching = all.rows.filter { row in
            searched.contains { index in
                if case .string(let text) = row[index] { return text.lowercased().contains(literalSubstring) }
                return false
            }
        }
        let page = limit.map { Array(matching.dropFirst(offset).prefix($0)) } ?? matching
        return QueryResult(columns: all.columns, rows: page, stats: all.stats)
    }
}
