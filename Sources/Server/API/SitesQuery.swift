import Core
import Query

/// The filters and order of a `GET …/sites` request, validated and typed, for `SitesIndex`.
/// (The same request as SQL over the `sites` table is the reference the index is tested
/// against: `Tests/ServerTests/SitesQuery+SQL.swift`.)
struct SitesQuery: Sendable {
    /// `status`: one of `APIRoutes.siteStatuses`.
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
            statusFilter = status
        }
        if let q = parameters["q"], !q.isEmpty {
            substring = q.lowercased()
        }
        if let sort = parameters["sort"], !sort.isEmpty {
            let descending = sort.hasPrefix("-")
            let name = descending ? String(sort.dropFirst()) : sort
            let column = try APIRoutes.column(name, of: .sites, parameter: "sort")
            sortColumn = column.name
            sortDescending = descending
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
        // An empty value matches NULL, since the warehouse stores empty strings as NULL.
        for (column, values) in valuesByColumn {
            equalities.append((column, try values.filter { !$0.isEmpty }.map { try Self.typedValue($0, column.kind, parameter: column.name) },
                               values.contains("")))
        }
    }

    /// A parameter value as the column's type; 400 naming the parameter when it is not one.
    static func typedValue(_ text: String, _ kind: ColumnKind, parameter: String) throws -> Value {
        switch kind {
        case .string:
            return .string(text)
        case .int64:
            guard let n = Int64(text) else { throw APIParameters.invalid(parameter, "\"\(text)\" is not an integer") }
            return .int64(n)
        case .double:
            guard let d = Double(text), d.isFinite else { throw APIParameters.invalid(parameter, "\"\(text)\" is not a number") }
            return .double(d)
        case .bool:
            switch text.lowercased() {
            case "true", "1": return .bool(true)
            case "false", "0": return .bool(false)
            default: throw APIParameters.invalid(parameter, "\"\(text)\" is not true or false")
            }
        case .timestamp:
            guard let micros = UTCTime.parseISO(text) else {
                throw APIParameters.invalid(parameter, "\"\(text)\" is not an ISO-8601 time")
            }
            return .timestamp(micros)
        }
    }
}
