/// The Parquet schemas of warehouse files: the table's columns minus the partition key
/// `project_id`, which lives only in the folder name.
public enum WarehouseSchema {
    /// Position of `project_id` in `EventSchema.events` (and `sites`).
    public static let projectIDColumn = 2

    static let eventKinds: [EventColumnKind] = EventSchema.events.map(\.kind)

    /// `EventSchema.events` indices stored in an events file, in file order.
    public static let eventsFileColumns: [Int] = Array(0..<EventSchema.events.count).filter { $0 != projectIDColumn }
    /// `EventSchema.sites` indices stored in a sites file, in file order.
    public static let sitesFileColumns: [Int] = Array(0..<EventSchema.sites.count).filter { $0 != projectIDColumn }

    public static let eventsFile = ParquetSchema(eventsFileColumns.map {
        ParquetColumn(name: EventSchema.events[$0].name, kind: EventSchema.events[$0].kind.columnKind, isOptional: true)
    })
    public static let sitesFile = ParquetSchema(sitesFileColumns.map {
        ParquetColumn(name: EventSchema.sites[$0].name, kind: EventSchema.sites[$0].kind.columnKind, isOptional: true)
    })

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
    /// Appends the given `EventSchema.events` columns of this row, `appenders[i]` taking
    /// `columns[i]`.
    func append(to appenders: inout [ColumnAppender], columns: [Int]) {
        let kinds = WarehouseSchema.eventKinds
        for (position, column) in columns.enumerated() {
            switch kinds[column] {
            case .string: appenders[position].append(string(at: column))
            case .timestamp, .int64: appenders[position].append(int64(at: column))
            case .bool: appenders[position].append(bool(at: column))
            }
        }
    }
}
