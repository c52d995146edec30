import ColumnStore
import Core
import Foundation
import Query
import Synchronization

/// One project's sites (base and deltas merged, `WarehouseSnapshot.sitesRowGroups`) for
/// `GET …/sites`, paged from disk with bounded memory: the index holds the row groups' places
/// (file, group, the rows no newer delta replaced), per sort order a permutation of the rows
/// as `UInt32` (computed once per set of files and cached), the listings of recent filters,
/// and the last few columns a filter or sort read (`cachedColumnsMax`). A page reads its rows'
/// values from the files (`ParquetFileReader.readColumn(rowGroup:column:rows:)` decodes only
/// the pages holding them), so a page costs the same at page 1 and page 20,000 of a million
/// sites, and memory does not hold every column of every site. Filters are evaluated over
/// columns (string equality once per dictionary entry). `SitesQuery` over SQL stays the
/// reference (`SitesIndexTests` compares the two) and the path for anything this cannot do.
final class SitesIndex: Sendable {
    let projectID: String
    /// The sites files (relative to the warehouse root, one per line) this was loaded from.
    let path: String
    let rowCount: Int
    /// The merged table's row groups, in row order.
    let parts: [Part]
    /// First row of each part, plus `rowCount` at the end.
    private let groupStarts: [Int]
    struct Part: Sendable {
        let reader: ParquetFileReader
        let rowGroup: Int
        /// Rows of the group in the table (ascending); nil: every row.
        let rows: [Int32]?
        /// Per `TableSchema.sites` column, its index among the file's columns (nil: the
        /// partition key `project_id`, or a column an older file lacks, read as NULL).
        let fileColumn: [Int?]
    }
    private struct State {
        var orders: [String: [UInt32]] = [:]
        /// Listings kept, most recent last; a handful is what one dashboard's filters produce.
        var listings: [(key: String, rows: [UInt32])] = []
        /// Columns read for filters and sorts, most recent last (`cachedColumnsMax`).
        var columns: [(column: Int, groups: [ColumnData])] = []
        /// Each row's rank in site_key order: every sort's tie break (4 bytes a site).
        var siteKeyRanks: [UInt32]?
    }
    private let state = Mutex(State())
    /// Whether rows are in ascending byte order of site_key (a project without deltas: the
    /// base is written so): then "ties by site_key" is row order.
    let rowsInSiteKeyOrder: Bool

    /// Page tables and decoded dictionaries of the chunks pages were read from, shared by the
    /// project's successive indexes (a commit brings a new index, mostly over the same base).
    private let rowReadCache: ParquetRowReadCache

    static let searchedColumns = ["site_key", "site_name", "admin_email"]
    /// Decoded columns kept between requests (a sort or filter column of the dashboard).
    static let cachedColumnsMax = 3

    /// `path`: what identifies the files loaded (their paths); `parts`: the project's merged
    /// sites row groups (`WarehouseSnapshot.sitesRowGroups`) with their readers.
    init(projectID: String, path: String, parts: [(reader: ParquetFileReader, selection: SitesRowGroupSelection)],
         rowReadCache: ParquetRowReadCache = ParquetRowReadCache()) throws {
        self.projectID = projectID
        self.path = path
        self.rowReadCache = rowReadCache
        var kept: [Part] = []
        var starts = [0]
        for (reader, selection) in parts where selection.rowCount > 0 {
            let fileColumn = TableSchema.sites.columns.map { column in
                column.name == "project_id" ? nil : reader.schema.index(of: column.name)
            }
            kept.append(Part(reader: reader, rowGroup: selection.rowGroup, rows: selection.rows, fileColumn: fileColumn))
            starts.append(starts.last! + selection.rowCount)
        }
        self.parts = kept
        self.groupStarts = starts
        self.rowCount = starts.last!
        // One file (no delta) is sorted by site_key as compaction writes it; the check reads
        // only the row groups' site_key statistics.
        var ordered = Set(kept.map { ObjectIdentifier($0.reader) }).count <= 1 && kept.allSatisfy { $0.rows == nil }
        if ordered, let first = kept.first, let keyIndex = first.reader.schema.index(of: "site_key") {
            var previousMax: [UInt8]? = nil
            for part in kept {
                let stats = part.reader.rowGroups[part.rowGroup].columns[keyIndex]
                guard case .bytes(let low)? = stats.min, case .bytes(let high)? = stats.max, stats.nullCount == 0 else { ordered = false; break }
                if let previousMax, !previousMax.lexicographicallyPrecedes(low) { ordered = false; break }
                previousMax = high
            }
        } else {
            ordered = false
        }
        self.rowsInSiteKeyOrder = ordered
    }

    private static func nulls(kind: ColumnKind, count: Int) -> ColumnData {
        switch kind {
        case .string: return .strings([String?](repeating: nil, count: count))
        case .int64: return .int64([Int64?](repeating: nil, count: count))
        case .timestamp: return .timestamps([Int64?](repeating: nil, count: count))
        case .bool: return .bools([Bool?](repeating: nil, count: count))
        case .double: return .doubles([Double?](repeating: nil, count: count))
        }
    }

    @inline(__always)
    private static func locate(_ row: Int, _ starts: [Int]) -> (group: Int, local: Int) {
        var low = 0, high = starts.count - 1
        while high - low > 1 {
            let middle = (low + high) >> 1
            if starts[middle] <= row { low = middle } else { high = middle }
        }
        return (low, row - starts[low])
    }

    /// Schema column `column` of every part (the table's rows in order), from the cache or the
    /// files; a NULL column where a file lacks it.
    func columnGroups(_ column: Int, keep: Bool = true) throws -> [ColumnData] {
        if let cached = state.withLock({ $0.columns.first { $0.column == column }?.groups }) { return cached }
        let kind = TableSchema.sites.columns[column].kind
        var groups: [ColumnData] = []
        groups.reserveCapacity(parts.count)
        for part in parts {
            let count = part.rows?.count ?? part.reader.rowGroups[part.rowGroup].rowCount
            guard let file = part.fileColumn[column] else {
                groups.append(Self.nulls(kind: kind, count: count))
                continue
            }
            let data = try part.reader.readColumn(rowGroup: part.rowGroup, column: file)
            groups.append(part.rows.map { data.gather($0) } ?? data)
        }
        guard keep else { return groups }
        state.withLock { state in
            state.columns.removeAll { $0.column == column }
            state.columns.append((column, groups))
            if state.columns.count > Self.cachedColumnsMax { state.columns.removeFirst() }
        }
        return groups
    }

    /// The files this index reads (the keys of its entries in `rowReadCache`).
    var filePaths: Set<String> { Set(parts.compactMap(\.reader.path)) }

    /// Decoded columns held now (at most `cachedColumnsMax`): what bounds the index's memory
    /// beside the sort permutations and listings (4 bytes per listed row).
    var cachedColumnCount: Int { state.withLock { $0.columns.count } }

    /// Every value of schema column `column`, in row order (for a sort; not kept).
    func values(_ column: Int) throws -> [Value] {
        if TableSchema.sites.columns[column].name == "project_id" { return [Value](repeating: .string(projectID), count: rowCount) }
        var values: [Value] = []
        values.reserveCapacity(rowCount)
        for data in try columnGroups(column) {
            for row in 0..<data.count { values.append(LatestEventScan.value(data, row)) }
        }
        return values
    }

    /// Rows `rows` (table positions) of every column, read from the files: per part, the
    /// pages holding the part's rows only.
    private func rowValues(_ rows: [UInt32]) throws -> [[Value]] {
        let width = TableSchema.sites.columns.count
        var result = [[Value]](repeating: [], count: rows.count)
        var byPart: [Int: [(position: Int, local: Int)]] = [:]
        for (position, row) in rows.enumerated() {
            let (part, local) = Self.locate(Int(row), groupStarts)
            byPart[part, default: []].append((position, local))
        }
        for (index, wanted) in byPart {
            let part = parts[index]
            // Local rows → the file's rows (a delta-replaced base row is never asked for).
            let fileRows = wanted.map { item -> Int in
                guard let rows = part.rows else { return item.local }
                return Int(rows[item.local])
            }
            let ranges = Self.clusters(fileRows)
            var columns: [[ColumnData]?] = []
            for column in 0..<width {
                guard let file = part.fileColumn[column] else { columns.append(nil); continue }
                columns.append(try part.reader.readColumn(rowGroup: part.rowGroup, column: file, rowRanges: ranges,
                                                          cache: rowReadCache))
            }
            for (item, fileRow) in zip(wanted, fileRows) {
                let range = ranges.firstIndex { $0.contains(fileRow) }!
                result[item.position] = (0..<width).map { column -> Value in
                    guard let data = columns[column] else {
                        return TableSchema.sites.columns[column].name == "project_id" ? .string(projectID) : .null
                    }
                    return LatestEventScan.value(data[range], fileRow - ranges[range].lowerBound)
                }
            }
        }
        return result
    }

    /// Rows further apart than this in one row group are read as separate ranges: a page of
    /// the sites files (`Compactor.sitesParquetOptions`), so a range never decodes more than
    /// one page its rows do not need.
    static let rangeGapRowsMax = 1_024

    /// `rows` (in any order) as ascending ranges that hold every one of them, split where two
    /// neighbours are more than `rangeGapRowsMax` apart (a listing page in the default order
    /// has a row or two in each of the base's row groups, far apart).
    static func clusters(_ rows: [Int]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        for row in rows.sorted() {
            if let last = ranges.last, row - (last.upperBound - 1) <= rangeGapRowsMax {
                ranges[ranges.count - 1] = last.lowerBound..<(row + 1)
            } else {
                ranges.append(row..<(row + 1))
            }
        }
        return ranges
    }

    // MARK: Filtering

    /// Rows matching every condition of `query`, one flag per row (nil: every row).
    func matching(_ query: SitesQuery) throws -> [Bool]? {
        var keep: [Bool]? = nil
        let columns = TableSchema.sites.columns
        if let status = query.statusFilter, let index = columns.firstIndex(where: { $0.name == "status" }) {
            let wanted = Value.string(status)
            try narrow(&keep, column: index) { $0 == wanted }
        }
        for equality in query.equalities {
            guard let index = columns.firstIndex(where: { $0.name == equality.column.name }) else { continue }
            try narrow(&keep, column: index) { value in
                if value.isNull { return equality.matchesNull }
                return equality.values.contains { Self.equal($0, value) }
            }
        }
        if let substring = query.substring {
            // Last: the other filters have usually cut the rows to test by then.
            // Bytewise, like the engine's LIKE on `lower(…)`.
            var result = keep ?? [Bool](repeating: true, count: rowCount)
            let needle = Array(substring.utf8)
            if !needle.isEmpty {
                var matched = [Bool](repeating: false, count: rowCount)
                for name in Self.searchedColumns {
                    // One lowered column at a time, not kept: a new `q` reads them again.
                    let column = try loweredColumn(name)
                    needle.withUnsafeBytes { needle in
                        column.bytes.withUnsafeBytes { haystack in
                            for row in 0..<rowCount where result[row] && !matched[row] {
                                let range = column.range(at: row)
                                if range.count >= needle.count,
                                   Self.contains(UnsafeRawBufferPointer(rebasing: haystack[range]), needle) {
                                    matched[row] = true
                                }
                            }
                        }
                    }
                }
                result = matched.enumerated().map { $0.element && result[$0.offset] }
            }
            keep = result
        }
        return keep
    }

    /// SQL `=` between a parameter value and a stored value of the same column type.
    private static func equal(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
        default: return a == b
        }
    }

    /// Clears the flags of rows whose value of `column` fails `test`, calling `test` once
    /// per dictionary entry where the column is dictionary-encoded, once per row otherwise.
    private func narrow(_ keep: inout [Bool]?, column: Int, _ test: (Value) -> Bool) throws {
        var flags = keep ?? [Bool](repeating: true, count: rowCount)
        defer { keep = flags }
        if TableSchema.sites.columns[column].name == "project_id" {
            if !test(.string(projectID)) { flags = [Bool](repeating: false, count: rowCount) }
            return
        }
        let groups = try columnGroups(column)
        flags.withUnsafeMutableBufferPointer { flags in
            for (g, data) in groups.enumerated() {
                let start = groupStarts[g], count = groupStarts[g + 1] - start
                if case .dictionary(let dictionary, let codes) = data.storage {
                    let entryMatches = (0..<dictionary.count).map { test(.string(dictionary[$0])) }
                    let nullMatches = test(.null)
                    codes.withUnsafeBufferPointer { codes in
                        for local in 0..<count where flags[start + local] {
                            flags[start + local] = data.isValid(local) ? entryMatches[Int(codes[local])] : nullMatches
                        }
                    }
                } else {
                    for local in 0..<count where flags[start + local] {
                        flags[start + local] = test(LatestEventScan.value(data, local))
                    }
                }
            }
        }
    }

    /// Whether `needle` (not empty) occurs in `haystack`: memchr for its first byte, then memcmp.
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        guard needle.count <= haystack.count, let base = haystack.baseAddress else { return false }
        let first = Int32(needle[0])
        var start = 0
        let lastStart = haystack.count - needle.count
        while start <= lastStart {
            guard let hit = memchr(base + start, first, lastStart - start + 1) else { return false }
            let position = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + position, needle.baseAddress!, needle.count) == 0 { return true }
            start = position + 1
        }
        return false
    }

    /// `lower(column)` per row as bytes (NULL: empty, which no non-empty `q` matches).
    private func loweredColumn(_ name: String) throws -> StringColumn {
        var result = StringColumn()
        guard let index = TableSchema.sites.columns.firstIndex(where: { $0.name == name }) else {
            for _ in 0..<rowCount { result.appendEmpty() }
            return result
        }
        for data in try columnGroups(index, keep: false) {
            for row in 0..<data.count {
                if let text = data.string(at: row) { result.append(text.lowercased()) } else { result.appendEmpty() }
            }
        }
        return result
    }

    // MARK: Ordering

    /// Rows in `ORDER BY column [DESC] NULLS LAST, site_key`, computed once per snapshot
    /// (`SitesIndex+Order.swift`: integer sort keys, site_key ranks merged from the layers'
    /// sorted runs; the comparator sort beside it is the reference).
    func order(column name: String, descending: Bool) throws -> [UInt32] {
        let key = name + (descending ? " desc" : " asc")
        if let cached = state.withLock({ $0.orders[key] }) { return cached }
        let index = TableSchema.sites.columns.firstIndex { $0.name == name }!
        let values = try self.values(index)
        let ranks = try siteKeyRanksCached()
        let rows = Self.orderByKeys(values, siteKeyRanks: ranks, descending: descending)
            ?? Self.orderByComparator(values, siteKeyRanks: ranks, descending: descending)
        state.withLock { $0.orders[key] = rows }
        return rows
    }

    /// `siteKeyRanks()`, computed once per index: each sort order breaks ties with them.
    private func siteKeyRanksCached() throws -> [UInt32] {
        if let cached = state.withLock({ $0.siteKeyRanks }) { return cached }
        let ranks = try siteKeyRanks()
        state.withLock { $0.siteKeyRanks = ranks }
        return ranks
    }

    // MARK: Pages

    /// The number of matching sites and the rows of one page (`limit` nil: all of them).
    /// The matching rows in order are kept per (filters, sort) for the next pages: paging
    /// through a listing costs one slice per page.
    func page(_ query: SitesQuery, limit: Int?, offset: Int) throws -> (total: Int, rows: [[Value]]) {
        let listing = try matchingInOrder(query)
        let wanted = limit ?? Int.max
        guard offset < listing.count, wanted > 0 else { return (listing.count, []) }
        let selected = listing[offset..<(offset + min(wanted, listing.count - offset))]
        return (listing.count, try rowValues(Array(selected)))
    }

    /// Listings kept (`State.listings`), at most this many.
    static let listingsMax = 16

    private func matchingInOrder(_ query: SitesQuery) throws -> [UInt32] {
        let equalities = query.equalities.map { "\($0.column.name)=\($0.values.map { "\($0)" }.joined(separator: ","))|\($0.matchesNull)" }
        let key = [query.statusFilter ?? "", query.substring ?? "", equalities.joined(separator: "&"),
                   query.sortColumn, query.sortDescending ? "desc" : "asc"].joined(separator: "\u{1}")
        let cached = state.withLock { state -> [UInt32]? in
            guard let position = state.listings.lastIndex(where: { $0.key == key }) else { return nil }
            return state.listings[position].rows
        }
        if let cached { return cached }
        let order = try self.order(column: query.sortColumn, descending: query.sortDescending)
        let rows = try matching(query).map { keep in order.filter { keep[Int($0)] } } ?? order
        state.withLock { state in
            state.listings.append((key, rows))
            if state.listings.count > Self.listingsMax { state.listings.removeFirst() }
        }
        return rows
    }

    static var resultColumns: [ResultColumn] {
        TableSchema.sites.columns.map { ResultColumn(name: $0.name, type: $0.type) }
    }
}

/// The current `SitesIndex` of each project, reloaded when a commit brings a new snapshot.
final class SitesIndexStore: Sendable {
    let warehouse: WarehouseReader
    private let indexes = Mutex<[String: SitesIndex]>([:])
    /// The row-read cache every index shares (`SitesIndex.rowReadCache`): its keys are file
    /// paths, a project's own; a replaced index's files that the new one no longer reads are
    /// forgotten.
    let rowReadCache = ParquetRowReadCache(dictionaryBytesMax: 64 << 20)
    /// Serializes loads so concurrent first requests load a snapshot once.
    private let loadLock = Mutex(())

    init(warehouse: WarehouseReader) {
        self.warehouse = warehouse
    }

    /// The index of the project's merged sites (base and deltas) in `snapshot`; nil when it
    /// has none (no sites).
    func index(projectID: String, in snapshot: WarehouseSnapshot) throws -> SitesIndex? {
        let layers = snapshot.sitesLayers(projectID: projectID)
        guard !layers.isEmpty else { return nil }
        let key = layers.map(\.path).joined(separator: "\n")
        if let index = cachedIndex(projectID: projectID, path: key) { return index }
        return try loadLock.withLock { _ in
            if let index = cachedIndex(projectID: projectID, path: key) { return index }
            let selections = try snapshot.sitesRowGroups(projectID: projectID)
            var readers: [String: ParquetFileReader] = [:]
            for layer in layers { readers[layer.path] = try snapshot.open(layer) }
            let index = try SitesIndex(projectID: projectID, path: key, parts: selections.map { (readers[$0.file.path]!, $0) },
                                       rowReadCache: rowReadCache)
            let replaced = indexes.withLock { $0.updateValue(index, forKey: projectID) }
            if let replaced { rowReadCache.forget(paths: replaced.filePaths.subtracting(index.filePaths)) }
            return index
        }
    }

    private func cachedIndex(projectID: String, path: String) -> SitesIndex? {
        indexes.withLock { indexes in
            guard let index = indexes[projectID], index.path == path else { return nil }
            return index
        }
    }
}
