import ColumnStore
import Core
import Foundation
import Synchronization

/// The committed warehouse as the engine's catalog: `events` and `sites` are the live files of
/// the newest commit when a query lists its units (files written but not committed are never
/// read), through ColumnStore's `WarehouseReader`. One scan unit per Parquet row group.
public final class WarehouseCatalog: Catalog, Sendable {
    public let warehouse: WarehouseReader

    public init(warehouse: WarehouseReader) {
        self.warehouse = warehouse
    }

    public convenience init(dataDirectory: String) {
        self.init(warehouse: WarehouseReader(dataDirectory: dataDirectory))
    }

    public var tableNames: [String] { ["events", "sites"] }

    public func table(named name: String) throws -> (any ScanSource)? {
        switch name {
        case "events": return WarehouseTable(catalog: self, table: .events, schema: TableSchema.events)
        case "sites": return WarehouseTable(catalog: self, table: .sites, schema: TableSchema.sites)
        default: return nil
        }
    }

    func snapshot() throws -> WarehouseSnapshot {
        do {
            return try warehouse.snapshot()
        } catch {
            throw QueryError(.io, "cannot read the warehouse commit log: \(warehouse.describe(error))")
        }
    }

    func open(_ snapshot: WarehouseSnapshot, _ file: SegmentEntry) throws -> ParquetFileReader {
        do {
            return try snapshot.open(file)
        } catch {
            throw damaged(file.path, error)
        }
    }

    /// The readers of `files`, in order. Footers not yet cached are read and decoded on up to
    /// `threadsMax` threads (a small query over a cold process is mostly this); the first
    /// failure in file order is thrown.
    func open(_ snapshot: WarehouseSnapshot, _ files: [SegmentEntry], threadsMax: Int = ProcessInfo.processInfo.activeProcessorCount) throws
        -> [ParquetFileReader] {
        let unopened = files.count(where: { !snapshot.isOpen($0) })
        guard unopened >= 4, threadsMax > 1 else { return try files.map { try open(snapshot, $0) } }
        let opened = Mutex([Result<ParquetFileReader, any Error>?](repeating: nil, count: files.count))
        ParallelFor.forEach(count: files.count, workersMax: threadsMax) { index in
            let result = Result { try self.open(snapshot, files[index]) }
            opened.withLock { $0[index] = result }
        }
        return try opened.withLock { results in try results.map { try $0!.get() } }
    }

    /// Notes the damage for `/healthz` and says which file, relative to the warehouse.
    func damaged(_ path: String, _ error: any Error) -> QueryError {
        warehouse.noteReadFailure(path, error)
        return QueryError(.io, "damaged segment \(path): \(warehouse.describe(error)); restore the file from a backup or re-compact it from raw")
    }
}

struct WarehouseTable: ScanSource {
    let catalog: WarehouseCatalog
    let table: SegmentEntry.Table
    let schema: TableSchema

    func scanUnits() throws -> [any ScanUnit] {
        try scanUnits(projectID: nil)
    }

    /// `events` files as the log records them: one unit per file, its rows, project and month;
    /// no footer is read (each file's size and last four bytes are checked). Rows of `events` files are final once committed (a rewrite, such as
    /// an erase, commits a new file with its own count).
    func rowCountUnits(projectID: String?) throws -> [any ScanUnit]? {
        guard table == .events else { return nil }
        let snapshot = try catalog.snapshot()
        return try snapshot.files(table, projectID: projectID).map { segment in
            do { try snapshot.checkSizeAndTail(segment) } catch { throw catalog.damaged(segment.path, error) }
            var partition = ["project_id": segment.projectID]
            if let month = segment.month { partition["month"] = month }
            return InMemoryScanUnit(name: segment.path + "#rows-from-log", rowCount: segment.rows, partitionValues: partition, columns: [:], computeStatistics: false)
        }
    }

    /// Opens only the files of `projectID` (the log names each file's project).
    func scanUnits(projectID: String?) throws -> [any ScanUnit] {
        var units: [any ScanUnit] = []
        let snapshot = try catalog.snapshot()
        if table == .sites { return try sitesUnits(snapshot, projectID: projectID) }
        let segments = snapshot.files(table, projectID: projectID)
        let readers = try catalog.open(snapshot, segments)
        for (segment, reader) in zip(segments, readers) {
            var partition = ["project_id": segment.projectID]
            if let month = segment.month { partition["month"] = month }
            for group in 0..<reader.rowGroups.count {
                units.append(ParquetRowGroupUnit(catalog: catalog, reader: reader, rowGroup: group, path: segment.path, partitionValues: partition))
            }
        }
        return units
    }
}

extension WarehouseTable {
    /// `sites` is each project's base overlaid by its deltas (ColumnStore `SitesLayers`): one
    /// unit per row group of each layer, hiding the rows a newer layer replaced.
    func sitesUnits(_ snapshot: WarehouseSnapshot, projectID: String?) throws -> [any ScanUnit] {
        let projects = projectID.map { [$0] } ?? snapshot.projectIDs.sorted()
        var units: [any ScanUnit] = []
        for project in projects {
            let selections: [SitesRowGroupSelection]
            do {
                selections = try snapshot.sitesRowGroups(projectID: project)
            } catch {
                throw catalog.damaged(snapshot.sitesLayers(projectID: project).first?.path ?? "sites/project=\(project)", error)
            }
            for selection in selections where selection.rowCount > 0 {
                let reader = try catalog.open(snapshot, selection.file)
                let unit = ParquetRowGroupUnit(catalog: catalog, reader: reader, rowGroup: selection.rowGroup, path: selection.file.path,
                                               partitionValues: ["project_id": selection.file.projectID])
                if let rows = selection.rows {
                    units.append(SelectedRowsUnit(unit: unit, rows: rows))
                } else {
                    units.append(unit)
                }
            }
        }
        return units
    }
}

/// The rows `rows` (ascending) of a row group: a base's rows that no newer delta replaced.
/// Statistics are the whole group's, which still bound the rows kept.
struct SelectedRowsUnit: ScanUnit {
    let unit: ParquetRowGroupUnit
    let rows: [Int32]

    var name: String { unit.name + "(\(rows.count) rows)" }
    var rowCount: Int { rows.count }
    var partitionValues: [String: String] { unit.partitionValues }

    func statistics(column: String) -> ColumnStatistics? {
        guard var stats = unit.statistics(column: column) else { return nil }
        // The null count of the whole group only bounds this subset's.
        if let nulls = stats.nullCount, nulls > 0 { stats.nullCount = nil }
        return stats
    }

    func readColumn(name: String) throws -> ColumnData? {
        try unit.readColumn(name: name)?.gather(rows)
    }

    func readColumn(name: String, rows range: Range<Int>) throws -> ColumnData? {
        guard !range.isEmpty else { return try unit.readColumn(name: name, rows: 0..<0) }
        let first = Int(rows[range.lowerBound]), last = Int(rows[range.upperBound - 1])
        guard let span = try unit.readColumn(name: name, rows: first..<(last + 1)) else { return nil }
        return span.gather(rows[range].map { $0 - Int32(first) })
    }
}

struct ParquetRowGroupUnit: ScanUnit {
    let catalog: WarehouseCatalog
    let reader: ParquetFileReader
    let rowGroup: Int
    let path: String
    let partitionValues: [String: String]

    var name: String { "\(path)#rg\(rowGroup)" }
    var rowCount: Int { reader.rowGroups[rowGroup].rowCount }

    func statistics(column: String) -> ColumnStatistics? {
        if let value = partitionValues[column], column != "month" {
            return ColumnStatistics(min: .string(value), max: .string(value), nullCount: 0)
        }
        guard let index = reader.schema.index(of: column) else {
            return ColumnStatistics(min: nil, max: nil, nullCount: rowCount)
        }
        let info = reader.rowGroups[rowGroup].columns[index]
        let kind = reader.schema.columns[index].kind
        return ColumnStatistics(min: info.min.flatMap { Self.value($0, kind) }, max: info.max.flatMap { Self.value($0, kind) },
                                nullCount: info.nullCount)
    }

    static func value(_ value: ParquetValue, _ kind: ColumnKind) -> Value? {
        switch (value, kind) {
        case (.int64(let v), .timestamp): return .timestamp(v)
        case (.int64(let v), .int64): return .int64(v)
        case (.double(let v), .double): return .double(v)
        case (.bool(let v), .bool): return .bool(v)
        case (.bytes, .string): return value.string.map { .string($0) }
        default: return nil
        }
    }

    func readColumn(name: String) throws -> ColumnData? {
        if let value = partitionValues[name], name != "month" {
            // A partition key lives in the folder name: a constant, dictionary-encoded column.
            return ColumnData(kind: .string, count: rowCount, validity: nil,
                              storage: .dictionary(dictionary: StringColumn([value]), codes: [UInt32](repeating: 0, count: rowCount)))
        }
        guard let index = reader.schema.index(of: name) else { return nil }
        do {
            return try reader.readColumn(rowGroup: rowGroup, column: index)
        } catch {
            throw damage(error)
        }
    }

    /// Decodes only the pages that overlap `rows` (top-N late materialisation).
    func readColumn(name: String, rows: Range<Int>) throws -> ColumnData? {
        if partitionValues[name] != nil && name != "month" { return try readColumn(name: name)?.slice(rows) }
        guard let index = reader.schema.index(of: name) else { return nil }
        do {
            return try reader.readColumn(rowGroup: rowGroup, column: index, rows: rows)
        } catch {
            throw damage(error)
        }
    }

    func countEntries(column name: String) throws -> ParquetEntryCounts? {
        guard partitionValues[name] == nil, let index = reader.schema.index(of: name) else { return nil }
        do {
            return try reader.countEntries(rowGroup: rowGroup, column: index)
        } catch {
            throw damage(error)
        }
    }

    private func damage(_ error: any Error) -> QueryError {
        catalog.damaged(path, error)
    }
}
