import ColumnStore
import Core
import Foundation
import Synchronization

/// The committed warehouse as the engine's catalog: `events` and `sites` are the live files of
/// the commit log at the moment a query lists its units (files written but not committed are
/// never read). One scan unit per Parquet row group.
///
/// Footers are parsed once per file and cached: segment files are immutable, a new commit
/// brings new names.
public final class WarehouseCatalog: Catalog, Sendable {
    public let dataDirectory: String
    let layout: WarehouseLayout
    private struct State {
        var readers: [String: ParquetFileReader] = [:]
        /// The replayed log and the name of its newest commit: commits are immutable, so while
        /// the newest name is unchanged the state is too (saves replaying the log per query).
        var cachedState: (newest: Int, state: WarehouseState)?
        /// Live files that failed to read (relative path → what failed), for `/healthz`. A file
        /// leaves the list when a commit replaces it.
        var damaged: [String: String] = [:]
    }
    private let state = Mutex(State())

    /// Files of the current warehouse that could not be read, sorted by path.
    public var damagedFiles: [(path: String, error: String)] {
        state.withLock { state in
            state.damaged.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
    }

    /// Notes a read failure of `relative` unless the file is gone (a merge replaced it: not
    /// damage, and the query's retry lists the new files).
    func noteReadFailure(_ relative: String, _ error: any Error) {
        guard FileIO.exists(layout.absolute(relative)) else { return }
        let text = "\(error)".replacingOccurrences(of: layout.root + "/", with: "")
        state.withLock { $0.damaged[relative] = text }
    }

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
        self.layout = WarehouseLayout(dataDirectory: dataDirectory)
    }

    public var tableNames: [String] { ["events", "sites"] }

    public func table(named name: String) throws -> (any ScanSource)? {
        switch name {
        case "events": return WarehouseTable(catalog: self, table: .events, schema: TableSchema.events)
        case "sites": return WarehouseTable(catalog: self, table: .sites, schema: TableSchema.sites)
        default: return nil
        }
    }

    func reader(_ relative: String) throws -> ParquetFileReader {
        if let cached = state.withLock({ $0.readers[relative] }) { return cached }
        let reader: ParquetFileReader
        do {
            reader = try ParquetFileReader(path: layout.absolute(relative))
        } catch {
            noteReadFailure(relative, error)
            throw QueryError(.io, "damaged segment \(relative): \(Self.withoutRoot(error, layout)); restore the file from a backup or re-compact it from raw")
        }
        state.withLock { $0.readers[relative] = reader }
        return reader
    }

    func currentState() throws -> WarehouseState {
        let newest = WarehouseLog.newestVersion(layout: layout)
        let cached = state.withLock { state -> WarehouseState? in
            guard let cachedState = state.cachedState, cachedState.newest == newest else { return nil }
            return cachedState.state
        }
        if let cached { return cached }
        let loaded: WarehouseState
        do {
            loaded = try WarehouseLog.load(layout: layout)
        } catch {
            throw QueryError(.io, "cannot read the warehouse commit log: \(Self.withoutRoot(error, layout))")
        }
        state.withLock { $0.cachedState = (newest, loaded) }
        return loaded
    }

    /// The live files of one table at the newest commit (the sites endpoint's index finds
    /// each project's snapshot here).
    public func liveSegmentEntries(_ table: SegmentEntry.Table) throws -> [SegmentEntry] {
        try currentState().segments(table: table)
    }

    /// An error's text with the warehouse folder cut from any path in it: messages reach API
    /// callers, who learn nothing of the server's folders.
    static func withoutRoot(_ error: any Error, _ layout: WarehouseLayout) -> String {
        "\(error)".replacingOccurrences(of: layout.root + "/", with: "")
    }

    func liveSegments(_ table: SegmentEntry.Table) throws -> [SegmentEntry] {
        let segments = try currentState().segments(table: table)
        // Forget readers of files a merge replaced, so a long-running server does not hold
        // every file it ever read.
        let live = Set(segments.map(\.path))
        let prefix = table.rawValue + "/"
        state.withLock { state in
            state.readers = state.readers.filter { path, _ in !path.hasPrefix(prefix) || live.contains(path) }
            state.damaged = state.damaged.filter { path, _ in !path.hasPrefix(prefix) || live.contains(path) }
        }
        return segments
    }
}

struct WarehouseTable: ScanSource {
    let catalog: WarehouseCatalog
    let table: SegmentEntry.Table
    let schema: TableSchema

    func scanUnits() throws -> [any ScanUnit] {
        try scanUnits(projectID: nil)
    }

    /// Opens only the files of `projectID` (the log names each file's project).
    func scanUnits(projectID: String?) throws -> [any ScanUnit] {
        var units: [any ScanUnit] = []
        for segment in try catalog.liveSegments(table) where projectID == nil || segment.projectID == projectID {
            let reader = try catalog.reader(segment.path)
            var partition = ["project_id": segment.projectID]
            if let month = segment.month { partition["month"] = month }
            for group in 0..<reader.rowGroups.count {
                units.append(ParquetRowGroupUnit(catalog: catalog, reader: reader, rowGroup: group, path: segment.path, partitionValues: partition))
            }
        }
        return units
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

    /// Notes the damage for `/healthz` and says which file, relative to the warehouse.
    private func damage(_ error: any Error) -> QueryError {
        catalog.noteReadFailure(path, error)
        return QueryError(.io, "damaged segment \(path): \(WarehouseCatalog.withoutRoot(error, catalog.layout)); restore the file from a backup or re-compact it from raw")
    }
}
