import Core
import Foundation

/// The latest-sites index: per project a base snapshot plus deltas (`SitesLayers` has the
/// layout and how readers merge them), all sorted by site_key (unsigned bytes).
///
/// A commit (step 5 of `Compactor`) writes, per project its events touched:
/// 1. Sort the new rows with a site_key by (site_key, received_at, event_id); per site keep
///    the count, the first received_at and the last row (the site's newest new event).
/// 2. Decide: with no file yet, write a base (step 4), else a delta (step 3). A commit never
///    folds: a fold reads one row group of every layer, and inside a commit it would add that
///    to the chunk's rows and segments being encoded (+220 MB at 33 layers on the 30M-event
///    backlog, whose peak it was). Step 5 folds right after the commit instead.
/// 3. Delta: the previous state of only the touched sites, looked up newest layer first: a
///    row group is read only when its site_key min/max holds one of the keys still missing,
///    and then only its site_key column (binary search: the file is sorted) and the int64
///    summary columns; the full old row only of the rare site whose stored latest event is
///    newer than the new one (an import of old data). Each touched site's row = its merged
///    state (first_seen = min, last_seen = max, event_count = sum, the newer latest event).
///    The delta is `sites-delta/project=<id>/delta-<version>.parquet`: the cost is the
///    touched sites, not the project's million.
/// 4. Base: a streaming merge of every layer (`SitesLayerMerger`, newest wins) with the new
///    sites, flushed every row group, so memory is one row group per layer plus one output
///    row group. The commit removes every layer it replaces.
/// 5. Fold (`foldSitesDeltas`, after each chunk's commit, once the chunk is freed, and after
///    the chunks): a project's deltas that pass the fold policy (`SitesFoldPolicy`: their rows
///    over `deltaRowsRatioMax` of the base's, more than `deltasMax` deltas, or the oldest
///    older than `deltaAgeSecondsMax`; or any, with `foldAtEnd` after the chunks: the one-shot
///    CLI) are merged with the base into a new base in one `merge` commit (the same rows). So a fully merged snapshot
///    exists after every `trackhouse compact`, and in `serve` at least every
///    `deltaAgeSecondsMax` (+ one compaction interval).
/// The erase and retention rewrite a project's sites through the same `writeSitesBase`.
public struct SitesFoldPolicy: Sendable {
    /// Fold when the deltas' rows pass this share of the base's rows.
    public var deltaRowsRatioMax = 0.25
    /// The one-shot `trackhouse compact` (see `CompactCommand`): no fold by rows, since it
    /// folds at its end anyway — a backlog's chunks each touch a large share of the sites, so
    /// folding by rows rewrote the whole base every other chunk (9 bases for 24 chunks at 1M
    /// sites); its deltas are folded by count only (`batchDeltasMax`).
    public static let batchDeltaRowsRatioMax = Double.infinity
    /// `deltasMax` of the one-shot `trackhouse compact`: bounds a delta's lookups (each reads
    /// every layer's keys) and a fold's memory (one row group per layer).
    public static let batchDeltasMax = 32
    /// Fold when a project has more deltas than this.
    public var deltasMax = 64
    /// Rows per row group of a delta: a fold holds one decoded row group of every layer, so
    /// deltas' are small (a base's are `rowGroupRowsMax`).
    public var deltaRowGroupRowsMax = 2_048
    /// Fold a project whose oldest delta is older than this (seconds).
    public var deltaAgeSecondsMax: Int64 = 600
    /// Fold every delta at the end of a run (`trackhouse compact`: engines reading only
    /// `sites/` see the whole table); `serve` turns it off and folds by the limits above.
    public var foldAtEnd = true
    /// Rows per row group of sites files: a fold holds one row group of each layer.
    public var rowGroupRowsMax = 32_768
    public init() {}

    func isDue(baseRows: Int, deltaRows: Int, deltaCount: Int) -> Bool {
        deltaCount > deltasMax || Double(deltaRows) > deltaRowsRatioMax * Double(baseRows)
    }
}

extension Compactor {
    struct NewSite {
        var key: [UInt8]
        var latest: Int
        var firstSeen: Int64
        var lastSeen: Int64
        var count: Int64
    }

    var sitesRowGroupRows: Int { max(1, min(options.rowGroupRows, options.sitesFold.rowGroupRowsMax)) }

    /// Steps 1–4 for one project: `rows[positions]` are its new rows. Returns the file written
    /// and the layers it replaces. Runs concurrently with the chunk's segment writes: it must
    /// not touch `report` or `state` (it only reads `state`).
    func writeSites(projectID: String, rows newRows: EventColumns, positions: [Int32], version: Int) throws -> (SegmentEntry, [String])? {
        var newSites = collectNewSites(newRows, positions: positions)
        guard !newSites.isEmpty else { return nil }
        // The latest rows are copied out of the chunk only when they are a small part of the
        // project's rows (many events per site): the copy is then small and saves a cache miss
        // per value. When most rows are some site's latest (a million weekly sites), the copy
        // would be nearly the chunk again — 182 of 775 MB of a 250k-site backlog's peak heap —
        // and the output reads the chunk itself.
        let latestRows = newSites.count * Self.latestRowsCopyRatioMin <= positions.count
            ? Self.gatherLatestRows(&newSites, from: newRows, projectID: projectID) : newRows
        let layers = state.sitesLayers(projectID: projectID)
        if layers.isEmpty {
            guard let entry = try writeSitesBase(projectID: projectID, layers: [], version: version, newSites: (newSites, latestRows)) else { return nil }
            return (entry, [])
        }
        return (try writeSitesDelta(projectID: projectID, newSites: newSites, rows: latestRows, layers: layers, version: version), [])
    }

    // MARK: - Step 3: delta

    /// What a touched site had before this commit.
    struct PreviousSite {
        var firstSeen: Int64
        var lastSeen: Int64
        var count: Int64
        /// Row in the gathered old rows when the stored latest event stays the latest.
        var oldRow: Int?
    }

    func writeSitesDelta(projectID: String, newSites: [NewSite], rows: EventColumns, layers: [SegmentEntry], version: Int) throws -> SegmentEntry {
        let (previous, oldRows, baseRows) = try previousSites(newSites, rows: rows, layers: layers)
        let relative = WarehouseLayout.sitesDeltaPartition(projectID: projectID) + "/delta-\(Self.versionTag(version)).parquet"
        let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
        try FileIO.makeDirectories(FileIO.parentDirectory(hidden))
        var parquet = sitesParquetOptions()
        let groupRows = min(sitesRowGroupRows, max(1, options.sitesFold.deltaRowGroupRowsMax))
        parquet.rowGroupRowsMax = groupRows
        // A delta lives until the next fold (the end of a one-shot `compact`, minutes in
        // `serve`), which rewrites its rows into a base at the warehouse's levels: the slower,
        // tighter level of long strings would be paid on every touched site of every commit
        // for bytes that are soon deleted.
        parquet.zstdLevelLongStrings = nil
        if let base = layers.first, base.table == .sites, let baseRows {
            parquet.keyValueMetadata = SitesDeltaReplacedRows.metadata(basePath: base.path, rows: baseRows)
        }
        var output = SitesOutput(writer: try ParquetWriter(path: hidden, schema: WarehouseSchema.sitesFile, options: parquet),
                                 projectID: projectID, rowGroupRows: groupRows)
        for (index, site) in newSites.enumerated() {
            if let before = previous[index] {
                try output.emitCombined(site, rows: rows, previous: before, oldRows: oldRows)
            } else {
                try output.emitNew(site, rows: rows)
            }
        }
        let (count, low, high) = try output.finish()
        return SegmentEntry(path: relative, table: .sitesDelta, projectID: projectID, month: nil, rows: count,
                            bytes: FileIO.fileSize(hidden) ?? 0, receivedAtMin: low, receivedAtMax: high)
    }

    /// Step 3's lookup: per new site (sorted by key) its previous state, the gathered old
    /// rows (`sitesBatchColumns` order) of the sites whose stored latest event stays, and the
    /// file-wide rows of the base (the oldest layer) holding a site no newer layer held,
    /// ascending (`SitesLayers` step 4; nil when a base row group had no key statistics, so
    /// the search could not be complete, or when they pass `SitesDeltaReplacedRows.rowsMax`:
    /// a backlog's delta touching most sites, which no footer names).
    func previousSites(_ newSites: [NewSite], rows: EventColumns, layers: [SegmentEntry]) throws -> ([PreviousSite?], [ColumnData], [Int64]?) {
        var previous = [PreviousSite?](repeating: nil, count: newSites.count)
        var missing = Array(newSites.indices)
        var oldAppenders = WarehouseSchema.sitesBatchColumns.map { ColumnAppender(kind: TableSchema.sites.columns[$0].kind) }
        var oldCount = 0
        var baseRows: [Int64]? = []
        for (layerPosition, layer) in layers.enumerated().reversed() where !missing.isEmpty {
            let reader = try ParquetFileReader(path: layout.committedPath(layer.path))
            let map = try OldSnapshotColumns(reader: reader)
            var found = Set<Int>()
            let isBase = layerPosition == 0
            var groupStart: Int64 = 0
            for group in 0..<reader.rowGroups.count {
                let stats = reader.rowGroups[group].columns[map.siteKey]
                defer { groupStart += Int64(reader.rowGroups[group].rowCount) }
                guard case .bytes(let low)? = stats.min, case .bytes(let high)? = stats.max else {
                    if isBase && reader.rowGroups[group].rowCount > 0 { baseRows = nil }
                    continue
                }
                // `missing` is in key order: the keys within [low, high] are one run of it.
                var first = 0, last = missing.count
                while first < last { let middle = (first + last) >> 1; if newSites[missing[middle]].key.lexicographicallyPrecedes(low) { first = middle + 1 } else { last = middle } }
                var end = first
                while end < missing.count && !high.lexicographicallyPrecedes(newSites[missing[end]].key) { end += 1 }
                guard end > first else { continue }
                let keys = try reader.readColumn(rowGroup: group, column: map.siteKey)
                let rowCount = reader.rowGroups[group].rowCount
                var matches: [(site: Int, row: Int)] = []
                StringRows.with(keys.storage) { values in
                    for position in first..<end {
                        let site = missing[position]
                        newSites[site].key.withUnsafeBytes { key in
                            var low = 0, high = rowCount
                            while low < high {
                                let middle = (low + high) >> 1
                                if ParquetWriter.compareBytes(values.value(middle), key) < 0 { low = middle + 1 } else { high = middle }
                            }
                            if low < rowCount && ParquetWriter.compareBytes(values.value(low), key) == 0 { matches.append((site, low)) }
                        }
                    }
                }
                guard !matches.isEmpty else { continue }
                if isBase, baseRows != nil {
                    baseRows!.append(contentsOf: matches.map { groupStart + Int64($0.row) })
                    if baseRows!.count > SitesDeltaReplacedRows.rowsMax { baseRows = nil }
                }
                let times = try reader.readColumn(rowGroup: group, column: map.receivedAt)
                let firstSeen = try reader.readColumn(rowGroup: group, column: map.firstSeen)
                let lastSeen = try reader.readColumn(rowGroup: group, column: map.lastSeen)
                let counts = try reader.readColumn(rowGroup: group, column: map.eventCount)
                var oldWins: [(site: Int, row: Int)] = []
                for (site, row) in matches {
                    let newTime = rows.receivedAtMicros[newSites[site].latest]
                    let oldTime = times.int64(at: row) ?? Int64.min
                    var keepsOld = oldTime > newTime
                    if oldTime == newTime {
                        // Ids compare as `String`s, as everywhere in compaction (a tie on time is rare).
                        let oldID = try reader.readColumn(rowGroup: group, column: map.eventID, rows: row..<(row + 1)).string(at: 0) ?? ""
                        keepsOld = !(rows.columns[EventColumns.eventIDPosition].string(at: newSites[site].latest)! > oldID)
                    }
                    previous[site] = PreviousSite(firstSeen: firstSeen.int64(at: row) ?? newSites[site].firstSeen,
                                                  lastSeen: lastSeen.int64(at: row) ?? newSites[site].lastSeen,
                                                  count: counts.int64(at: row) ?? 0, oldRow: nil)
                    if keepsOld { oldWins.append((site, row)) }
                    found.insert(site)
                }
                if !oldWins.isEmpty {
                    // Rare (old data imported late): the whole row group once.
                    let columns = try reader.readRowGroup(group)
                    for (site, row) in oldWins {
                        for (position, filePosition) in map.filePositions.enumerated() {
                            if let filePosition { oldAppenders[position].append(from: columns[filePosition], row: row) } else { oldAppenders[position].appendNull() }
                        }
                        previous[site]!.oldRow = oldCount
                        oldCount += 1
                    }
                }
            }
            missing.removeAll { found.contains($0) }
        }
        return (previous, oldAppenders.indices.map { oldAppenders[$0].finish() }, baseRows)
    }

    // MARK: - Step 4: base

    /// Writes `sites/project=<id>/snapshot-<version>.parquet`: the merged rows of `layers`
    /// (newest wins) merged with `newSites` when given. `row` decides what becomes of each
    /// stored row no new site touches (nil: kept as it is; the erase recomputes or drops
    /// some, retention drops the stale). Returns nil when no row is left (no file written).
    /// `encodeThreads`: nil for `parquetOptions()`'s (the compaction's threads).
    func writeSitesBase(projectID: String, layers: [SegmentEntry], version: Int, newSites: ([NewSite], EventColumns)? = nil,
                        encodeThreads: Int? = nil,
                        row: ((inout SitesOutput, [ColumnData], Int, OldSnapshotColumns) throws -> Void)? = nil) throws -> SegmentEntry? {
        let relative = WarehouseLayout.sitesPartition(projectID: projectID) + "/snapshot-\(Self.versionTag(version)).parquet"
        let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
        try FileIO.makeDirectories(FileIO.parentDirectory(hidden))
        var parquet = sitesParquetOptions()
        if let encodeThreads { parquet.encodeThreads = encodeThreads }
        var output = SitesOutput(writer: try ParquetWriter(path: hidden, schema: WarehouseSchema.sitesFile, options: parquet),
                                 projectID: projectID, rowGroupRows: sitesRowGroupRows)
        let readers = try layers.map { try ParquetFileReader(path: layout.committedPath($0.path)) }
        let sites = newSites?.0 ?? []
        var next = 0
        do {
            try SitesLayerMerger.forEachRow(readers) { columns, stored, map in
                let oldKey = map.siteKey(columns, stored)
                if let newSites {
                    while next < sites.count && sites[next].key.lexicographicallyPrecedes(oldKey) {
                        try output.emitNew(sites[next], rows: newSites.1)
                        next += 1
                    }
                    if next < sites.count && sites[next].key == oldKey {
                        try output.emitMerged(old: columns, row: stored, map: map, new: sites[next], rows: newSites.1)
                        next += 1
                        return
                    }
                }
                if let row { try row(&output, columns, stored, map) } else { try output.emitOld(columns, row: stored, map: map) }
            }
            if let newSites {
                while next < sites.count {
                    try output.emitNew(sites[next], rows: newSites.1)
                    next += 1
                }
            }
        } catch {
            output.abandon()
            unlink(hidden)
            throw error
        }
        if output.rows == 0 {
            output.abandon()
            unlink(hidden)
            return nil
        }
        let (count, low, high) = try output.finish()
        return SegmentEntry(path: relative, table: .sites, projectID: projectID, month: nil, rows: count,
                            bytes: FileIO.fileSize(hidden) ?? 0, receivedAtMin: low, receivedAtMax: high)
    }

    func sitesParquetOptions() -> ParquetWriter.Options {
        var parquet = parquetOptions()
        parquet.rowGroupRowsMax = sitesRowGroupRows
        // Small pages: the sites index reads a listing page's rows by page
        // (`readColumn(rowGroup:column:rows:)`), so this bounds what one row costs to decode.
        parquet.pageRowsMax = min(parquet.pageRowsMax, 1_024)
        // …and small in bytes: a listing row's `plugins` (~260 B a site) sat in a 1-MB page,
        // ~60 MB decompressed for one page of 50 sites at a million. At 64 KB the long JSON
        // columns compress 8–30 % worse (under 1 % of the warehouse; BENCHMARKS.md "Scale").
        parquet.pageBytesMax = min(parquet.pageBytesMax, 64 << 10)
        // One row per site: a site key, hash, URL or email column is unique in the file, and
        // its dictionary would be decoded whole to read one listing row.
        parquet.plainWhenNearlyUnique = true
        return parquet
    }

    // MARK: - Step 5: fold

    /// Folds the deltas of every project that is due (all with `foldAtEnd` when `atEnd`) in
    /// one `merge` commit; returns the number of projects folded.
    @discardableResult
    func foldSitesDeltas(atEnd: Bool) throws -> Int {
        let projects = Set(state.segments.values.filter { $0.table == .sitesDelta }.map(\.projectID)).sorted()
        guard !projects.isEmpty else { return 0 }
        let nowMicros = UTCTime.nowMicros()
        let version = state.version + 1
        var commit = WarehouseCommit(version: version, timestampMicros: nowMicros, operation: .merge)
        for projectID in projects {
            let layers = state.sitesLayers(projectID: projectID)
            let deltas = layers.filter { $0.table == .sitesDelta }
            let baseRows = layers.filter { $0.table == .sites }.reduce(0) { $0 + $1.rows }
            var due = (atEnd && options.sitesFold.foldAtEnd)
                || options.sitesFold.isDue(baseRows: baseRows, deltaRows: deltas.reduce(0) { $0 + $1.rows }, deltaCount: deltas.count)
            if !due, let oldest = deltas.compactMap({ Self.modificationMicros(layout.committedPath($0.path)) }).min() {
                due = oldest < nowMicros - options.sitesFold.deltaAgeSecondsMax * 1_000_000
            }
            guard due else { continue }
            if let entry = try foldSitesLayers(projectID: projectID, layers: layers, version: version, parts: max(1, options.parseThreads)) {
                commit.add.append(entry)
                report.bytesOut += entry.bytes
                report.sitesSnapshots += 1
            }
            commit.remove.append(contentsOf: layers.map(\.path))
            report.sitesFolds += 1
        }
        guard !commit.remove.isEmpty else { return 0 }
        sitesFoldCrashPoint(1)
        try WarehouseLog.append(commit, layout: layout)
        state.apply(commit)
        report.commits += 1
        sitesFoldCrashPoint(2)
        for entry in commit.add { try publish(entry.path) }
        sitesFoldCrashPoint(3)
        for path in commit.remove { retire(path) }
        return commit.remove.count
    }

    /// Test hook: SIGKILL after point K of a fold (1 base written, 2 committed, 3 published).
    func sitesFoldCrashPoint(_ step: Int) {
        if options.sitesFoldCrashAfterStep == step { kill(getpid(), SIGKILL) }
    }

    static func modificationMicros(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_mtim.tv_sec) * 1_000_000 + Int64(info.st_mtim.tv_nsec) / 1_000
    }

    /// The sites' latest rows copied out of the chunk into small columns, in chunk order (a
    /// forward pass per column); `NewSite.latest` is re-pointed to positions in them. The merge
    /// then reads its new rows from ~1 MB columns instead of jumping around the chunk's
    /// hundreds of MB (a cache and TLB miss per value, most of the snapshot's cost).
    static let latestRowsCopyRatioMin = 4

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
        try self.init(schema: reader.schema, path: reader.path)
    }

    init(schema: ParquetSchema, path: String?) throws {
        func find(_ name: String) throws -> Int {
            guard let index = schema.index(of: name) else {
                throw ParquetError(.invalidInput, "sites snapshot has no \(name) column", path: path)
            }
            return index
        }
        siteKey = try find("site_key")
        receivedAt = try find("received_at")
        eventID = try find("event_id")
        firstSeen = try find("first_seen")
        lastSeen = try find("last_seen")
        eventCount = try find("event_count")
        filePositions = WarehouseSchema.sitesBatchColumns.map { schema.index(of: TableSchema.sites.columns[$0].name) }
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
///
/// A row's event columns (all but the 4 summary columns) are not copied value by value as it
/// is emitted: each emit names its source — the chunk's new rows, the old rows a delta's
/// lookup gathered, or one row group of an old layer — and its row there, and consecutive
/// rows of one source form a run, copied column by column with one gather each
/// (`ColumnAppender.append(from:rows:)`) when the source changes or the row group is flushed.
/// Copying value by value cost a fifth of a compaction's CPU at 250k sites (an enum switch,
/// retains and a uniqueness check per value). The summary columns are appended per row.
/// Invariant (checked at every flush): every column holds the same number of rows.
struct SitesOutput {
    let writer: ParquetWriter
    let projectID: String
    let rowGroupRows: Int
    var appenders: [ColumnAppender]
    var rows = 0
    var pending = 0
    var lastSeenMin = Int64.max
    var lastSeenMax = Int64.min
    /// Event columns: the first `eventColumnCount` of `sitesBatchColumns`, in the events
    /// file's order.
    let eventColumnCount: Int
    /// Position of each event column in a source laid out like `sitesBatchColumns` (the
    /// chunk's rows, the gathered old rows): itself.
    let identityPositions: [Int?]
    /// The current run: its source columns, where each event column is in them (nil: the
    /// source lacks it, NULL), and its rows.
    private var runColumns: [ColumnData] = []
    private var runPositions: [Int?] = []
    private var runRows: [Int32] = []

    init(writer: ParquetWriter, projectID: String, rowGroupRows: Int) {
        self.writer = writer
        self.projectID = projectID
        self.rowGroupRows = rowGroupRows
        appenders = WarehouseSchema.sitesBatchColumns.map { ColumnAppender(kind: TableSchema.sites.columns[$0].kind) }
        eventColumnCount = WarehouseSchema.sitesBatchColumns.prefix { $0 < TableSchema.events.columns.count }.count
        identityPositions = (0..<eventColumnCount).map { Optional($0) }
        runRows.reserveCapacity(rowGroupRows)
    }

    mutating func noteLastSeen(_ value: Int64) {
        lastSeenMin = min(lastSeenMin, value)
        lastSeenMax = max(lastSeenMax, value)
    }

    /// Adds `row` of `columns` to the run of event columns, ending the run first when it is
    /// of another source. Sources are told apart by their arrays' storage: the run holds its
    /// source's arrays, so a different source cannot reuse that storage while it lasts.
    mutating func emitEventColumns(_ columns: [ColumnData], positions: [Int?], row: Int) {
        if !runRows.isEmpty && !(Self.sameStorage(columns, runColumns) && Self.sameStorage(positions, runPositions)) {
            flushRun()
        }
        if runRows.isEmpty {
            runColumns = columns
            runPositions = positions
        }
        runRows.append(Int32(row))
    }

    private static func sameStorage<Element>(_ a: [Element], _ b: [Element]) -> Bool {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress && a.count == b.count } }
    }

    private mutating func flushRun() {
        guard !runRows.isEmpty else { return }
        runRows.withUnsafeBufferPointer { rows in
            for position in 0..<eventColumnCount {
                if let source = runPositions[position] {
                    appenders[position].append(from: runColumns[source], rows: rows)
                } else {
                    appenders[position].appendNulls(rows.count)
                }
            }
        }
        runRows.removeAll(keepingCapacity: true)
        runColumns = []
        runPositions = []
    }

    mutating func emitOld(_ columns: [ColumnData], row: Int, map: OldSnapshotColumns) throws {
        emitEventColumns(columns, positions: map.filePositions, row: row)
        for position in eventColumnCount..<appenders.count {
            if let filePosition = map.filePositions[position] { appenders[position].append(from: columns[filePosition], row: row) } else { appenders[position].appendNull() }
        }
        noteLastSeen(columns[map.lastSeen].int64(at: row) ?? 0)
        try rowDone()
    }

    mutating func emitNew(_ site: Compactor.NewSite, rows: EventColumns) throws {
        emitEventColumns(rows.columns, positions: identityPositions, row: site.latest)
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
            emitEventColumns(rows.columns, positions: identityPositions, row: site.latest)
            appendSummary(firstSeen: firstSeen, lastSeen: lastSeen, count: count,
                          event: rows.columns[EventColumns.eventPosition].string(at: site.latest))
        } else {
            // Old latest event stays: its event columns, then the new summary.
            emitEventColumns(columns, positions: map.filePositions, row: row)
            let statusPosition = map.filePositions.count - 1
            appendSummary(firstSeen: firstSeen, lastSeen: lastSeen, count: count,
                          event: nil, status: columns[map.filePositions[statusPosition]!].string(at: row))
        }
        try rowDone()
    }

    /// A touched site's merged row for a delta: its previous summary combined with the new
    /// one; the latest event is the new one unless `previous.oldRow` says the stored one stays
    /// (`oldRows` in `sitesBatchColumns` order).
    mutating func emitCombined(_ site: Compactor.NewSite, rows: EventColumns, previous: Compactor.PreviousSite, oldRows: [ColumnData]) throws {
        let firstSeen = min(previous.firstSeen, site.firstSeen)
        let lastSeen = max(previous.lastSeen, site.lastSeen)
        let count = previous.count + site.count
        if let old = previous.oldRow {
            emitEventColumns(oldRows, positions: identityPositions, row: old)
            appendSummary(firstSeen: firstSeen, lastSeen: lastSeen, count: count, event: nil, status: oldRows[appenders.count - 1].string(at: old))
        } else {
            emitEventColumns(rows.columns, positions: identityPositions, row: site.latest)
            appendSummary(firstSeen: firstSeen, lastSeen: lastSeen, count: count,
                          event: rows.columns[EventColumns.eventPosition].string(at: site.latest))
        }
        try rowDone()
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
        flushRun()
        guard pending > 0 else { return }
        var columns: [ColumnData] = []
        for index in appenders.indices { columns.append(appenders[index].finish()) }
        // Invariant: the runs and the per-row summary appends added the same rows.
        for column in columns where column.count != pending {
            throw ParquetError(.invalidInput, "sites row group of \(pending) rows has a column of \(column.count) (an internal error; nothing was committed)", path: nil)
        }
        try writer.write(rowGroup: WarehouseSchema.fileRowGroup(columns, projectID: projectID))
        pending = 0
    }

    /// Drops what was buffered (the caller removes the file).
    func abandon() {
        _ = try? writer.close()
    }

    mutating func finish() throws -> (rows: Int, lastSeenMin: Int64, lastSeenMax: Int64) {
        try flush()
        try writer.close()
        return (rows, lastSeenMin, lastSeenMax)
    }
}
