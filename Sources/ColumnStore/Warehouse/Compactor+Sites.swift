import Core
import Foundation

/// The latest-sites index: one snapshot file per project, sorted by site_key (unsigned bytes).
///
/// Incremental update = a sorted merge of the previous snapshot with the chunk's new rows:
/// 1. Sort the new rows with a site_key by (site_key, received_at, event_id); per site keep
///    the count, the first received_at and the last row (the site's newest new event).
/// 2. Stream the old snapshot row group by row group; merge the two sorted site lists.
///    A site in both keeps the newer latest event (greater received_at, then event_id),
///    first_seen = min, last_seen = max, event_count = sum; status follows the latest event.
/// 3. Output is flushed every `rowGroupRows` rows, so memory is one old row group plus one
///    output row group, whatever the number of sites.
extension Compactor {
    struct NewSite {
        var key: [UInt8]
        var latest: Int
        var firstSeen: Int64
        var lastSeen: Int64
        var count: Int64
    }

    /// `rows[positions]` are the project's new rows (`NewSite.latest` is a position in `rows`).
    /// Runs concurrently with the chunk's segment writes: it must not touch `report` or `state`.
    func writeSitesSnapshot(projectID: String, rows newRows: EventColumns, positions: [Int32], version: Int) throws -> (SegmentEntry, [String])? {
        var newSites = collectNewSites(newRows, positions: positions)
        guard !newSites.isEmpty else { return nil }
        let latestRows = Self.gatherLatestRows(&newSites, from: newRows, projectID: projectID)
        let previous = state.segments(table: .sites, projectID: projectID)
        let relative = WarehouseLayout.sitesPartition(projectID: projectID) + "/snapshot-\(Self.versionTag(version)).parquet"
        let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
        try FileIO.makeDirectories(FileIO.parentDirectory(hidden))
        var output = SitesOutput(writer: try ParquetWriter(path: hidden, schema: WarehouseSchema.sitesFile, options: parquetOptions()),
                                 projectID: projectID, rowGroupRows: options.rowGroupRows)
        var next = 0
        for segment in previous {
            let reader = try ParquetFileReader(path: layout.absolute(segment.path))
            let map = try OldSnapshotColumns(reader: reader)
            for group in 0..<reader.rowGroups.count {
                let columns = try reader.readRowGroup(group)
                for row in 0..<reader.rowGroups[group].rowCount {
                    let oldKey = map.siteKey(columns, row)
                    while next < newSites.count && newSites[next].key.lexicographicallyPrecedes(oldKey) {
                        try output.emitNew(newSites[next], rows: latestRows)
                        next += 1
                    }
                    if next < newSites.count && newSites[next].key == oldKey {
                        try output.emitMerged(old: columns, row: row, map: map, new: newSites[next], rows: latestRows)
                        next += 1
                    } else {
                        try output.emitOld(columns, row: row, map: map)
                    }
                }
            }
        }
        while next < newSites.count {
            try output.emitNew(newSites[next], rows: latestRows)
            next += 1
        }
        let (rows, low, high) = try output.finish()
        let size = FileIO.fileSize(hidden) ?? 0
        let entry = SegmentEntry(path: relative, table: .sites, projectID: projectID, month: nil, rows: rows, bytes: size,
                                 receivedAtMin: low, receivedAtMax: high)
        return (entry, previous.map(\.path))
    }

    /// The sites' latest rows copied out of the chunk into small columns, in chunk order (a
    /// forward pass per column); `NewSite.latest` is re-pointed to positions in them. The merge
    /// then reads its new rows from ~1 MB columns instead of jumping around the chunk's
    /// hundreds of MB (a cache and TLB miss per value, most of the snapshot's cost).
    static func gatherLatestRows(_ sites: inout [NewSite], from rows: EventColumns, projectID: String) -> EventColumns {
        let byPosition = sites.indices.sorted { sites[$0].latest < sites[$1].latest }
        let positions = byPosition.map { Int32(sites[$0].latest) }
        for (compact, site) in byPosition.enumerated() { sites[site].latest = compact }
        let columns = positions.withUnsafeBufferPointer { positions in
            rows.columns.map { source in
                var appender = ColumnAppender(kind: source.kind, capacity: positions.count)
                appender.append(from: source, rows: positions)
                return appender.finish()
            }
        }
        return EventColumns(columns: columns, projectIDs: Array(repeating: projectID, count: positions.count))
    }

    func collectNewSites(_ rows: EventColumns, positions: [Int32]) -> [NewSite] {
        let siteKeys = rows.columns[EventColumns.siteKeyPosition]
        let times = rows.receivedAtMicros
        let ids = rows.strings(at: EventColumns.eventIDPosition)
        // Positions with a site_key, sorted by (site_key bytes, received_at, event_id).
        var keyed = positions.filter { siteKeys.isValid(Int($0)) }
        var sites: [NewSite] = []
        times.withUnsafeBufferPointer { times in
            StringRows.with(siteKeys.storage) { keys in
                StringRows.with(.strings(ids)) { ids in
                    keyed.sort { a, b in
                        let order = ParquetWriter.compareBytes(keys.value(Int(a)), keys.value(Int(b)))
                        if order != 0 { return order < 0 }
                        let timeA = times[Int(a)], timeB = times[Int(b)]
                        if timeA != timeB { return timeA < timeB }
                        return EventColumns.compareEventIDs(ids.value(Int(a)), ids.value(Int(b))) < 0
                    }
                }
                var groupStart = 0
                while groupStart < keyed.count {
                    let key = keys.value(Int(keyed[groupStart]))
                    var groupEnd = groupStart + 1
                    while groupEnd < keyed.count && ParquetWriter.compareBytes(keys.value(Int(keyed[groupEnd])), key) == 0 { groupEnd += 1 }
                    let latest = Int(keyed[groupEnd - 1])
                    sites.append(NewSite(key: Array(key), latest: latest, firstSeen: times[Int(keyed[groupStart])],
                                         lastSeen: times[latest], count: Int64(groupEnd - groupStart)))
                    groupStart = groupEnd
                }
            }
        }
        return sites
    }
}

/// Positions of the columns the merge needs in an old snapshot file.
struct OldSnapshotColumns {
    let siteKey: Int
    let receivedAt: Int
    let eventID: Int
    let firstSeen: Int
    let lastSeen: Int
    let eventCount: Int
    /// For each sites-file column (in `WarehouseSchema.sitesBatchColumns` order), its position
    /// in the old file, or nil when an older file lacks it (reads as NULL).
    let filePositions: [Int?]

    init(reader: ParquetFileReader) throws {
        func find(_ name: String) throws -> Int {
            guard let index = reader.schema.index(of: name) else {
                throw ParquetError(.invalidInput, "sites snapshot has no \(name) column", path: reader.path)
            }
            return index
        }
        siteKey = try find("site_key")
        receivedAt = try find("received_at")
        eventID = try find("event_id")
        firstSeen = try find("first_seen")
        lastSeen = try find("last_seen")
        eventCount = try find("event_count")
        filePositions = WarehouseSchema.sitesBatchColumns.map { reader.schema.index(of: TableSchema.sites.columns[$0].name) }
    }

    func siteKey(_ columns: [ColumnData], _ row: Int) -> [UInt8] {
        columns[siteKey].bytes(at: row) ?? []
    }
}

extension ColumnData {
    /// The raw UTF-8 bytes of a string value (nil for NULL).
    func bytes(at row: Int) -> [UInt8]? {
        guard isValid(row) else { return nil }
        switch storage {
        case .strings(let column): return Array(column.bytes[column.range(at: row)])
        case .dictionary(let dictionary, let codes): return Array(dictionary.bytes[dictionary.range(at: Int(codes[row]))])
        default: return nil
        }
    }
}

/// Accumulates snapshot rows and flushes them to the writer in row groups.
struct SitesOutput {
    let writer: ParquetWriter
    let projectID: String
    let rowGroupRows: Int
    var appenders: [ColumnAppender]
    var rows = 0
    var pending = 0
    var lastSeenMin = Int64.max
    var lastSeenMax = Int64.min
    let summaryStart = TableSchema.events.columns.count

    init(writer: ParquetWriter, projectID: String, rowGroupRows: Int) {
        self.writer = writer
        self.projectID = projectID
        self.rowGroupRows = rowGroupRows
        appenders = WarehouseSchema.sitesBatchColumns.map { ColumnAppender(kind: TableSchema.sites.columns[$0].kind) }
    }

    mutating func noteLastSeen(_ value: Int64) {
        lastSeenMin = min(lastSeenMin, value)
        lastSeenMax = max(lastSeenMax, value)
    }

    mutating func emitOld(_ columns: [ColumnData], row: Int, map: OldSnapshotColumns) throws {
        for (position, filePosition) in map.filePositions.enumerated() {
            if let filePosition { appenders[position].append(from: columns[filePosition], row: row) } else { appenders[position].appendNull() }
        }
        noteLastSeen(columns[map.lastSeen].int64(at: row) ?? 0)
        try rowDone()
    }

    mutating func emitNew(_ site: Compactor.NewSite, rows: EventColumns) throws {
        appendEventColumns(rows, row: site.latest)
        appendSummary(firstSeen: site.firstSeen, lastSeen: site.lastSeen, count: site.count,
                      event: rows.columns[EventColumns.eventPosition].string(at: site.latest))
        try rowDone()
    }

    mutating func emitMerged(old columns: [ColumnData], row: Int, map: OldSnapshotColumns, new site: Compactor.NewSite,
                             rows: EventColumns) throws {
        let newTime = rows.receivedAtMicros[site.latest]
        let oldTime = columns[map.receivedAt].int64(at: row) ?? Int64.min
        let newWins: Bool
        if newTime != oldTime {
            newWins = newTime > oldTime
        } else {
            // Ids compare as `String`s, as everywhere in compaction (a tie on time is rare).
            newWins = rows.columns[EventColumns.eventIDPosition].string(at: site.latest)! > (columns[map.eventID].string(at: row) ?? "")
        }
        let firstSeen = min(columns[map.firstSeen].int64(at: row) ?? site.firstSeen, site.firstSeen)
        let lastSeen = max(columns[map.lastSeen].int64(at: row) ?? site.lastSeen, site.lastSeen)
        let count = (columns[map.eventCount].int64(at: row) ?? 0) + site.count
        if newWins {
            appendEventColumns(rows, row: site.latest)
            appendSummary(firstSeen: firstSeen, lastSeen: lastSeen, count: count,
                          event: rows.columns[EventColumns.eventPosition].string(at: site.latest))
        } else {
            // Old latest event stays: copy its event columns, then the new summary.
            for (position, filePosition) in map.filePositions.enumerated() where WarehouseSchema.sitesBatchColumns[position] < summaryStart {
                if let filePosition { appenders[position].append(from: columns[filePosition], row: row) } else { appenders[position].appendNull() }
            }
            let statusPosition = map.filePositions.count - 1
            appendSummary(firstSeen: firstSeen, lastSeen: lastSeen, count: count,
                          event: nil, status: columns[map.filePositions[statusPosition]!].string(at: row))
        }
        try rowDone()
    }

    private mutating func appendEventColumns(_ rows: EventColumns, row: Int) {
        // sitesBatchColumns starts with the events file columns, in the same order.
        for position in rows.columns.indices { appenders[position].append(from: rows.columns[position], row: row) }
    }

    mutating func appendSummary(firstSeen: Int64, lastSeen: Int64, count: Int64, event: String?, status: String? = nil) {
        let base = appenders.count - 4
        appenders[base].append(firstSeen)
        appenders[base + 1].append(lastSeen)
        appenders[base + 2].append(count)
        appenders[base + 3].append(status ?? event.map(WarehouseSchema.status(event:)))
        noteLastSeen(lastSeen)
    }

    mutating func rowDone() throws {
        rows += 1
        pending += 1
        if pending >= rowGroupRows { try flush() }
    }

    private mutating func flush() throws {
        guard pending > 0 else { return }
        var columns: [ColumnData] = []
        for index in appenders.indices { columns.append(appenders[index].finish()) }
        try writer.write(rowGroup: WarehouseSchema.fileRowGroup(columns, projectID: projectID))
        pending = 0
    }

    mutating func finish() throws -> (rows: Int, lastSeenMin: Int64, lastSeenMax: Int64) {
        try flush()
        try writer.close()
        return (rows, lastSeenMin, lastSeenMax)
    }
}
