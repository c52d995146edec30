#if canImport(Glibc)
import Core
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Normalized events held as columns in the events-file layout (`WarehouseSchema.eventsBatchColumns`),
/// plus each row's project id (a folder name, not a file column).
///
/// Compaction keeps a chunk's rows this way from the parse workers to the files: a row is
/// ~1 KB of column bytes instead of an `EventRow` with ~15 heap strings, moving a file's rows
/// into the chunk is a bulk copy (no retain per string), and segments and snapshots gather
/// rows column by column.
struct EventColumns: Sendable {
    var columns: [ColumnData]
    var projectIDs: [String]
    var count: Int { projectIDs.count }

    /// Positions of single columns in `columns`.
    static let eventIDPosition = WarehouseSchema.eventsBatchColumns.firstIndex(of: 0)!
    static let receivedAtPosition = WarehouseSchema.eventsBatchColumns.firstIndex(of: 1)!
    static let eventPosition = WarehouseSchema.eventsBatchColumns.firstIndex(of: 3)!
    static let siteKeyPosition = WarehouseSchema.eventsBatchColumns.firstIndex(of: 4)!

    /// received_at per row (never null).
    var receivedAtMicros: [Int64] {
        guard case .int64(let values) = columns[Self.receivedAtPosition].storage else { preconditionFailure("received_at is int64") }
        return values
    }

    /// A never-null string column (event_id, event).
    func strings(at position: Int) -> StringColumn {
        guard case .strings(let values) = columns[position].storage else { preconditionFailure("a batch string column is .strings") }
        return values
    }

    /// Event ids order and compare as Swift `String`s (as compaction always did: `<` and `==`
    /// are Unicode canonical order and equivalence); for ASCII ids, the normal case, that is
    /// their byte order, compared without making `String`s.
    static func compareEventIDs(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        if isASCII(a) && isASCII(b) { return ParquetWriter.compareBytes(a, b) }
        let x = String(decoding: a, as: UTF8.self), y = String(decoding: b, as: UTF8.self)
        return x < y ? -1 : (x == y ? 0 : 1)
    }

    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var high: UInt8 = 0
        for byte in bytes { high |= byte }
        return high & 0x80 == 0
    }
}

/// Builds `EventColumns` row by row (parse workers) or batch by batch (the chunk).
struct EventColumnsBuilder {
    private var appenders: [ColumnAppender]
    private var projectIDs: [String] = []

    init(capacity: Int = 0) {
        appenders = WarehouseSchema.eventsBatchColumns.map {
            ColumnAppender(kind: TableSchema.events.columns[$0].kind, capacity: capacity)
        }
        projectIDs.reserveCapacity(capacity)
    }

    var count: Int { projectIDs.count }

    mutating func append(_ row: EventRow) {
        row.append(to: &appenders, columns: WarehouseSchema.eventsBatchColumns)
        projectIDs.append(row.projectID)
    }

    mutating func append(contentsOf batch: EventColumns) {
        for position in appenders.indices { appenders[position].append(contentsOf: batch.columns[position]) }
        projectIDs.append(contentsOf: batch.projectIDs)
    }

    /// The rows so far; the builder is left empty.
    mutating func finish() -> EventColumns {
        let columns = appenders.indices.map { appenders[$0].finish() }
        defer { projectIDs = [] }
        return EventColumns(columns: columns, projectIDs: projectIDs)
    }
}
