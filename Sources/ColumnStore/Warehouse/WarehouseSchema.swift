import Core

/// The Parquet schemas of warehouse files: the table's columns minus the partition key
/// `project_id`, which lives only in the folder name.
public enum WarehouseSchema {
    /// Position of `project_id` in `TableSchema.events` (and `sites`).
    public static let projectIDColumn = 2

    static let eventKinds: [ColumnKind] = TableSchema.events.columns.map(\.kind)

    /// `TableSchema.events` indices compaction holds per row in memory (`EventColumns`): every
    /// column but `project_id`, which is one value per file and is added when a file is written.
    public static let eventsBatchColumns: [Int] = Array(0..<TableSchema.events.columns.count).filter { $0 != projectIDColumn }
    /// `TableSchema.sites` indices held per row while a snapshot is written, as above.
    public static let sitesBatchColumns: [Int] = Array(0..<TableSchema.sites.columns.count).filter { $0 != projectIDColumn }

    /// Files hold every column in CONTRACT order, `project_id` included.
    public static let eventsFile = ParquetSchema(TableSchema.events.columns.map {
        ParquetColumn(name: $0.name, kind: $0.kind, isOptional: true)
    })
    public static let sitesFile = ParquetSchema(TableSchema.sites.columns.map {
        ParquetColumn(name: $0.name, kind: $0.kind, isOptional: true)
    })

    /// A file row group from batch columns (`eventsBatchColumns` or `sitesBatchColumns`
    /// order): `project_id` inserted at its place, one dictionary entry for every row.
    static func fileRowGroup(_ batch: [ColumnData], projectID: String) -> [ColumnData] {
        let rows = batch.first?.count ?? 0
        var dictionary = StringColumn()
        dictionary.append(projectID)
        let project = ColumnData(kind: .string, count: rows, validity: nil,
                                 storage: .dictionary(dictionary: dictionary, codes: [UInt32](repeating: 0, count: rows)))
        var columns = batch
        columns.insert(project, at: projectIDColumn)
        return columns
    }

    /// `status` of a site from the event name of its latest event (CONTRACT §5). A latest
    /// `skip` (only possible when a skip payload carries a url) is `skipped`.
    public static func status(event: String) -> String {
        switch event {
        case "track": return "active"
        case "deactivate": return "deactivated"
        default: return "skipped"
        }
    }
}

extension EventRow {
    /// Appends the given `TableSchema.events` columns of this row, `appenders[i]` taking
    /// `columns[i]`.
    func append(to appenders: inout [ColumnAppender], columns: [Int]) {
        let kinds = WarehouseSchema.eventKinds
        for (position, column) in columns.enumerated() {
            switch kinds[column] {
            case .string: appenders[position].append(string(at: column))
            case .timestamp, .int64: appenders[position].append(int64(at: column))
            case .bool: appenders[position].append(bool(at: column))
            case .double: preconditionFailure("events has no double column")
            }
        }
    }
}
