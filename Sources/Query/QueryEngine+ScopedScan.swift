import ColumnStore

/// The rows of one scan unit that an `AccessScope` may see: the requested columns (absent:
/// the file lacks the column, all NULL) and the visible rows in ascending order.
public struct ScopedRows {
    public let columns: [String: ColumnData]
    public let rows: RowSelection
}

/// Rows of a unit: all of them (no copy), or the ones a filter selected.
public enum RowSelection: RandomAccessCollection {
    case all(count: Int)
    case selected([Int])

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch self {
        case .all(let count): return count
        case .selected(let rows): return rows.count
        }
    }
    public subscript(position: Int) -> Int {
        switch self {
        case .all: return position
        case .selected(let rows): return rows[position]
        }
    }
}

extension QueryEngine {
    /// Scans `table` as `scope` sees it, unit by unit, for computations SQL cannot express
    /// (each site's latest event before a time). The scope applies exactly as in a query:
    /// only the scope's project's units are opened, and a row whose `project_id` is not the
    /// scope's is never handed out. `within`: units whose statistics of that timestamp column
    /// prove no row lies in `[from, to)` are skipped (rows are not filtered by it).
    public func scan(table name: String, columns: [String], scope: AccessScope,
                     within: (column: String, from: Int64, to: Int64)? = nil,
                     _ body: (ScopedRows) throws -> Void) throws {
        guard let table = try catalog.table(named: name) else {
            throw QueryError(.catalog, "the catalog has no \(name) table")
        }
        for unit in try table.scanUnits(projectID: scope.projectID) {
            if let within, let stats = unit.statistics(column: within.column) {
                if case .timestamp(let max)? = stats.max, max < within.from { continue }
                if case .timestamp(let min)? = stats.min, min >= within.to { continue }
            }
            var rows = RowSelection.all(count: unit.rowCount)
            if let projectID = scope.projectID, unit.partitionValues["project_id"] != projectID {
                let owners = try unit.readColumn(name: "project_id")
                rows = .selected((0..<unit.rowCount).filter { owners?.string(at: $0) == projectID })
            }
            if rows.isEmpty { continue }
            var read: [String: ColumnData] = [:]
            for column in columns {
                if let data = try unit.readColumn(name: column) { read[column] = data }
            }
            try body(ScopedRows(columns: read, rows: rows))
        }
    }
}
