/// The Parquet schemas of warehouse files: the table's columns minus the partition key
/// `project_id`, which lives only in the folder name.
public enum WarehouseSchema {
    /// Position of `project_id` in `EventSchema.events` (and `sites`).
    public static let projectIDColumn = 2

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

extension ColumnAppender {
    /// Appends column `column` (an `EventSchema.events` index) of `row`.
    mutating func append(row: borrowing EventRow, column: Int) {
        switch EventSchema.events[column].kind {
        case .string: append(row.string(at: column))
        case .timestamp, .int64: append(row.int64(at: column))
        case .bool: append(row.bool(at: column))
        }
    }
}
