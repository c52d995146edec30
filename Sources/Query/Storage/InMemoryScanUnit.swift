import ColumnStore

/// A scan unit over columns held in memory: the planner's one-row unit for `SELECT` without
/// `FROM`, and callers that already have decoded columns (the tests' `InMemoryCatalog`);
/// statistics are computed from the data unless given.
public struct InMemoryScanUnit: ScanUnit {
    public var name: String
    public var rowCount: Int
    public var partitionValues: [String: String]
    public var columns: [String: ColumnData]
    public var columnStatistics: [String: ColumnStatistics]

    /// - Parameters:
    ///   - columns: column name to data; a schema column absent here reads as all NULL.
    ///   - computeStatistics: derive min/max/nullCount from the data for columns that
    ///     have none in `statistics`.
    public init(name: String, rowCount: Int, partitionValues: [String: String] = [:],
                columns: [String: ColumnData], statistics: [String: ColumnStatistics] = [:],
                computeStatistics: Bool = true) {
        self.name = name
        self.rowCount = rowCount
        self.partitionValues = partitionValues
        self.columns = columns
        var stats = statistics
        if computeStatistics {
            for (columnName, data) in columns where stats[columnName] == nil {
                stats[columnName] = ColumnStatistics.computed(from: data)
            }
        }
        self.columnStatistics = stats
    }

    public func statistics(column: String) -> ColumnStatistics? { columnStatistics[column] }

    public func readColumn(name: String) throws -> ColumnData? { columns[name] }
}

extension ColumnStatistics {
    /// Exact min/max/nullCount of a decoded column.
    public static func computed(from data: ColumnData) -> ColumnStatistics {
        var minValue: Value?
        var maxValue: Value?
        var nullCount = 0
        func isValid(_ row: Int) -> Bool {
            guard let validity = data.validity else { return true }
            return validity[row >> 3] & (1 << UInt8(row & 7)) != 0
        }
        func consider(_ value: Value) {
            if let current = minValue, let order = value.compare(to: current), order >= 0 {} else { minValue = value }
            if let current = maxValue, let order = value.compare(to: current), order <= 0 {} else { maxValue = value }
        }
        for row in 0..<data.count {
            guard isValid(row) else { nullCount += 1; continue }
            switch data.storage {
            case .int64(let values): consider(data.kind == .timestamp ? .timestamp(values[row]) : .int64(values[row]))
            case .double(let values): consider(.double(values[row]))
            case .bool(let values): consider(.bool(values[row] != 0))
            case .strings(let strings): consider(.string(strings.string(at: row)))
            case .dictionary(let dictionary, let codes): consider(.string(dictionary.string(at: Int(codes[row]))))
            }
        }
        return ColumnStatistics(min: minValue, max: maxValue, nullCount: nullCount)
    }
}
