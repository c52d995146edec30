import Core
import Query

/// The filters and order of a `GET …/sites` request, as SQL over the `sites` table.
struct SitesQuery: Sendable {
    /// SQL conditions ANDed together (the project scope is added by the engine).
    var conditions: [String] = []
    /// `ORDER BY` text: the sort column, then site_key for ties.
    var orderBy = "\"last_seen\" DESC, \"site_key\" ASC"
    /// The lowercased `q`, when it holds a LIKE wildcard (`%` or `_`) and so must be matched
    /// in Swift: the engine's LIKE has no ESCAPE clause.
    var literalSubstring: String?

    /// The same request in typed form, for `SitesIndex` (the in-memory path).
    var statusFilter: String?
    /// `q`, lowercased.
    var substring: String?
    /// `<column>=<value>…`: the column, its typed values, and whether an empty value asked for NULL.
    var equalities: [(column: TableSchema.Column, values: [Value], matchesNull: Bool)] = []
    var sortColumn = "last_seen"
    var sortDescending = true

    init(_ parameters: APIParameters) throws {
        if let status = parameters["status"], !status.isEmpty {
            guard APIRoutes.siteStatuses.contains(status) else {
                throw APIParameters.invalid("status", "unknown status \"\(status)\"; expected one of \(APIRoutes.siteStatuses.joined(separator: ", "))")
            }
            conditions.append("status = \(SQLText.string(status))")
            statusFilter = status
        }
        if let q = parameters["q"], !q.isEmpty {
            let lowered = q.lowercased()
            substring = lowered
            let pattern = SQLText.string("%" + lowered + "%")
            conditions.append("(lower(site_key) LIKE \(pattern) OR lower(site_name) LIKE \(pattern) OR lower(admin_email) LIKE \(pattern))")
            if lowered.contains("%") || lowered.contains("_") { literalSubstring = lowered }
        }
        if let sort = parameters["sort"], !sort.isEmpty {
            let descending = sort.hasPrefix("-")
            let name = descending ? String(sort.dropFirst()) : sort
            let column = try APIRoutes.column(name, of: .sites, parameter: "sort")
            orderBy = "\(SQLText.identifier(column.name)) \(descending ? "DESC" : "ASC")"
            sortColumn = column.name
            sortDescending = descending
            if column.name != "site_key" { orderBy += ", \"site_key\" ASC" }
        }
        // Every other parameter is `<column>=<value>`; a repeated column means any of the values.
        var valuesByColumn: [(TableSchema.Column, [String])] = []
        for (name, value) in parameters.pairs where !APIRoutes.sitesReservedParameters.contains(name) {
            let column = try APIRoutes.column(name, of: .sites, parameter: name)
            if let index = valuesByColumn.firstIndex(where: { $0.0 == column }) {
                valuesByColumn[index].1.append(value)
            } else {
                valuesByColumn.append((column, [value]))
            }
        }
        for (column, values) in valuesByColumn {
            conditions.append(try Self.equality(column, values, parameter: column.name))
            equalities.append((column, try values.filter { !$0.isEmpty }.map { try Self.typedValue($0, column.kind, parameter: column.name) },
                               values.contains("")))
        }
    }

    /// `column = literal` (or `IN (…)`), the value typed by the column; an empty value
    /// matches NULL, since the warehouse stores empty strings as NULL.
    static func equality(_ column: TableSchema.Column, _ values: [String], parameter: String) throws -> String {
        let name = SQLText.identifier(column.name)
        var literals: [String] = []
        var matchesNull = false
        for value in values {
            if value.isEmpty { matchesNull = true; continue }
            literals.append(try literal(value, column.kind, parameter: parameter))
        }
        var alternatives: [String] = []
        if literals.count == 1 { alternatives.append("\(name) = \(literals[0])") }
        if literals.count > 1 { alternatives.append("\(name) IN (\(literals.joined(separator: ", ")))") }
        if matchesNull { alternatives.append("\(name) IS NULL") }
        return "(" + alternatives.joined(separator: " OR ") + ")"
    }

    /// A parameter value as the column's type (validated exactly like `literal`).
    static func typedValue(_ text: String, _ kind: ColumnKind, parameter: String) throws -> Value {
        _ = try literal(text, kind, parameter: parameter)
        switch kind {
        case .string: return .string(text)
        case .int64: return .int64(Int64(text)!)
        case .double: return .double(Double(text)!)
        case .bool: return .bool(text.lowercased() == "true" || text == "1")
        case .timestamp: return .timestamp(UTCTime.parseISO(text)!)
        }
    }

    static func literal(_ text: String, _ kind: ColumnKind, parameter: String) throws -> String {
        switch kind {
        case .string:
            return SQLText.string(text)
        case .int64:
            guard let n = Int64(text) else { throw APIParameters.invalid(parameter, "\"\(text)\" is not an integer") }
            return String(n)
        case .double:
            guard let d = Double(text), d.isFinite else { throw APIParameters.invalid(parameter, "\"\(text)\" is not a number") }
            return "CAST(\(SQLText.string(String(d))) AS DOUBLE)"
        case .bool:
            switch text.lowercased() {
            case "true", "1": return "true"
            case "false", "0": return "false"
            default: throw APIParameters.invalid(parameter, "\"\(text)\" is not true or false")
            }
        case .timestamp:
            guard let micros = UTCTime.parseISO(text) else {
                throw APIParameters.invalid(parameter, "\"\(text)\" is not an ISO-8601 time")
            }
            return SQLText.timestamp(micros)
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
