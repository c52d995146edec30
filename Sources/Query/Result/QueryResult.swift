/// A column of a result: its name and DuckDB type name.
public struct ResultColumn: Sendable, Hashable {
    public var name: String
    public var type: LogicalType

    public init(name: String, type: LogicalType) {
        self.name = name
        self.type = type
    }
}

/// Counters about how a query ran, reported in the JSON `stats` object.
public struct QueryStats: Sendable {
    public var elapsedMs: Double = 0
    public var unitsTotal = 0
    public var unitsPruned = 0
    public var unitsScanned = 0
    /// Units a top-N query skipped at run time because their statistics could not win.
    public var unitsSkipped = 0
    public var rowsScanned = 0
    public var columnsRead = 0
    /// Units whose rows storage counted per dictionary entry (`ScanUnit.countEntries`).
    public var unitsCountedByEntry = 0

    public init() {}
}

/// The result of a query: column names and types, rows in batches of up to `vectorSize`.
public struct QueryResult: Sendable {
    public var columns: [ResultColumn]
    /// Row-major batches; every row has `columns.count` values.
    public var batches: [[[Value]]]
    public var stats: QueryStats

    public init(columns: [ResultColumn], rows: [[Value]], stats: QueryStats = QueryStats()) {
        self.columns = columns
        self.stats = stats
        var batches: [[[Value]]] = []
        var start = 0
        while start < rows.count {
            let end = min(start + vectorSize, rows.count)
            batches.append(Array(rows[start..<end]))
            start = end
        }
        self.batches = batches
    }

    public var rowCount: Int { batches.reduce(0) { $0 + $1.count } }

    /// All rows, concatenated.
    public var rows: [[Value]] { batches.flatMap { $0 } }
}
