import ColumnStore
import Core
import Foundation
import Query
import Synchronization

/// One project's sites snapshot held in memory for `GET …/sites`, so a page costs the same
/// at page 1 and page 20,000 of a million sites: filters are evaluated over columns (string
/// equality once per dictionary entry), and each sort order is a permutation of the rows
/// computed once per snapshot and cached. `SitesQuery` over SQL stays the reference
/// (`SitesIndexTests` compares the two) and the path for anything this cannot do.
final class SitesIndex: Sendable {
    let projectID: String
    /// The sites files (relative to the warehouse root, one per line) this was loaded from.
    let path: String
    let rowCount: Int
    /// `groups[g][c]`: row group `g`, file column `c`.
    private let groups: [[ColumnData]]
    /// First row of each group, plus `rowCount` at the end.
    private let groupStarts: [Int]
    /// Per `TableSchema.sites` column, its index among the file's columns (nil: the partition
    /// key `project_id`, or a column older snapshots lack, read as NULL).
    private let fileColumn: [Int?]
    private struct State {
        var orders: [String: [UInt32]] = [:]
        /// `lower(site_key)`, `lower(site_name)`, `lower(admin_email)` per row as bytes (NULL:
        /// empty, which no non-empty `q` matches), built on the first `q`.
        var loweredSearchColumns: [StringColumn]?
        /// Listings kept, most recent last; a handful is what one dashboard's filters produce.
        var listings: [(key: String, rows: [UInt32])] = []
    }
    private let state = Mutex(State())
    /// Whether rows are in ascending byte order of site_key (compaction writes them so):
    /// then "ties by site_key" is row order.
    private let rowsInSiteKeyOrder: Bool

    static let searchedColumns = ["site_key", "site_name", "admin_email"]

    /// `path`: what identifies the files loaded (their paths); `parts`: the project's merged
    /// sites row groups (`WarehouseSnapshot.sitesRowGroups`) with their readers. Columns are
    /// taken by name from each file, in the first file's order.
    init(projectID: String, path: String, parts: [(reader: ParquetFileReader, selection: SitesRowGroupSelection)]) throws {
        self.projectID = projectID
        self.path = path
        var groups: [[ColumnData]] = []
        var starts = [0]
        let schema = parts.first?.reader.schema ?? WarehouseSchema.sitesFile
        for (reader, selection) in parts where selection.rowCount > 0 {
            var columns = try reader.readRowGroup(selection.rowGroup)
            if let rows = selection.rows { columns = columns.map { $0.gather(rows) } }
            if reader.schema.columns.map(\.name) != schema.columns.map(\.name) {
                columns = schema.columns.map { column in
                    reader.schema.index(of: column.name).map { columns[$0] } ?? Self.nulls(kind: column.kind, count: selection.rowCount)
                }
            }
            groups.append(columns)
            starts.append(starts.last! + selection.rowCount)
        }
        self.groups = groups
        self.groupStarts = starts
        self.rowCount = starts.last!
        self.fileColumn = TableSchema.sites.columns.map { column in
            column.name == "project_id" ? nil : schema.index(of: column.name)
        }
        var ordered = true
        if let keyColumn = TableSchema.sites.columns.firstIndex(where: { $0.name == "site_key" }), let file = fileColumn[keyColumn] {
            var previous: [UInt8]? = nil
            for row in 0..<rowCount {
                let (g, local) = Self.locate(row, starts)
                let key = Self.bytes(groups[g][file], local) ?? []
                if let previous, !previous.lexicographicallyPrecedes(key) { ordered = false; break }
                previous = key
            }
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

    private static func bytes(_ column: ColumnData, _ row: Int) -> [UInt8]? {
        guard column.isValid(row) else { return nil }
        switch column.storage {
        case .strings(let strings): return Array(strings.bytes[strings.range(at: row)])
        case .dictionary(let dictionary, let codes): return Array(dictionary.bytes[dictionary.range(at: Int(codes[row]))])
        default: return nil
        }
    }

    /// The value of schema column `column` at `row`, as the engine renders it.
    func value(row: Int, column: Int) -> Value {
        guard let file = fileColumn[column] else {
            return TableSchema.sites.columns[column].name == "project_id" ? .string(projectID) : .null
        }
        let (g, local) = Self.locate(row, groupStarts)
        return LatestEventScan.value(groups[g][file], local)
    }

    // MARK: Filtering

    /// Rows matching every condition of `query`, one flag per row (nil: every row).
    func matching(_ query: SitesQuery) -> [Bool]? {
        var keep: [Bool]? = nil
        let columns = TableSchema.sites.columns
        if let status = query.statusFilter, let index = columns.firstIndex(where: { $0.name == "status" }) {
            let wanted = Value.string(status)
            narrow(&keep, column: index) { $0 == wanted }
        }
        for equality in query.equalities {
            guard let index = columns.firstIndex(where: { $0.name == equality.column.name }) else { continue }
            narrow(&keep, column: index) { value in
                if value.isNull { return equality.matchesNull }
                return equality.values.contains { Self.equal($0, value) }
            }
        }
        if let substring = query.substring {
            // Last: the other filters have usually cut the rows to test by then.
            // Bytewise, like the engine's LIKE on `lower(…)`.
            let lowered = searchColumns()
            var result = keep ?? [Bool](repeating: true, count: rowCount)
            let needle = Array(substring.utf8)
            if !needle.isEmpty {
                var matched = [Bool](repeating: false, count: rowCount)
                needle.withUnsafeBytes { needle in
                    for column in lowered {
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
    private func narrow(_ keep: inout [Bool]?, column: Int, _ test: (Value) -> Bool) {
        var flags = keep ?? [Bool](repeating: true, count: rowCount)
        defer { keep = flags }
        guard let file = fileColumn[column] else {
            if !test(value(row: 0, column: column)) { flags = [Bool](repeating: false, count: rowCount) }
            return
        }
        flags.withUnsafeMutableBufferPointer { flags in
            for (g, group) in groups.enumerated() {
                let start = groupStarts[g], count = groupStarts[g + 1] - start
                let data = group[file]
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

    private func searchColumns() -> [StringColumn] {
        if let cached = state.withLock({ $0.loweredSearchColumns }) { return cached }
        let columns = TableSchema.sites.columns
        let lowered = Self.searchedColumns.map { name -> StringColumn in
            var result = StringColumn()
            guard let index = columns.firstIndex(where: { $0.name == name }) else {
                for _ in 0..<rowCount { result.appendEmpty() }
                return result
            }
            for row in 0..<rowCount {
                if case .string(let text) = value(row: row, column: index) { result.append(text.lowercased()) } else { result.appendEmpty() }
            }
            return result
        }
        state.withLock { $0.loweredSearchColumns = lowered }
        return lowered
    }

    // MARK: Ordering

    /// Rows in `ORDER BY column [DESC] NULLS LAST, site_key`, computed once per snapshot.
    func order(column name: String, descending: Bool) -> [UInt32] {
        let key = name + (descending ? " desc" : " asc")
        if let cached = state.withLock({ $0.orders[key] }) { return cached }
        let columns = TableSchema.sites.columns
        let index = columns.firstIndex { $0.name == name }!
        let values = (0..<rowCount).map { value(row: $0, column: index) }
        let siteKeyRank = siteKeyRanks()
        var rows = (0..<UInt32(rowCount)).map { $0 }
        rows.sort { a, b in
            let (x, y) = (values[Int(a)], values[Int(b)])
            switch (x.isNull, y.isNull) {
            case (true, true): break
            case (true, false): return false
            case (false, true): return true
            case (false, false):
                if x != y {
                    let ascending = ValueOrder.ascending(x, y)
                    if ascending != ValueOrder.ascending(y, x) { return descending ? !ascending : ascending }
                }
            }
            return siteKeyRank[Int(a)] < siteKeyRank[Int(b)]
        }
        state.withLock { $0.orders[key] = rows }
        return rows
    }

    /// Each row's position in ascending byte order of site_key.
    private func siteKeyRanks() -> [UInt32] {
        if rowsInSiteKeyOrder { return (0..<UInt32(rowCount)).map { $0 } }
        let index = TableSchema.sites.columns.firstIndex { $0.name == "site_key" }!
        let keys = (0..<rowCount).map { row -> [UInt8] in
            if case .string(let text) = value(row: row, column: index) { return Array(text.utf8) }
            return []
        }
        let sorted = (0..<rowCount).sorted { keys[$0].lexicographicallyPrecedes(keys[$1]) }
        var ranks = [UInt32](repeating: 0, count: rowCount)
        for (rank, row) in sorted.enumerated() { ranks[row] = UInt32(rank) }
        return ranks
    }

    // MARK: Pages

    /// The number of matching sites and the rows of one page (`limit` nil: all of them).
    /// The matching rows in order are kept per (filters, sort) for the next pages: paging
    /// through a listing costs one slice per page.
    func page(_ query: SitesQuery, limit: Int?, offset: Int) -> (total: Int, rows: [[Value]]) {
        let listing = matchingInOrder(query)
        let wanted = limit ?? Int.max
        guard offset < listing.count, wanted > 0 else { return (listing.count, []) }
        let selected = listing[offset..<(offset + min(wanted, listing.count - offset))]
        let width = TableSchema.sites.columns.count
        return (listing.count, selected.map { row in (0..<width).map { value(row: Int(row), column: $0) } })
    }

    /// Listings kept (`State.listings`), at most this many.
    static let listingsMax = 16

    private func matchingInOrder(_ query: SitesQuery) -> [UInt32] {
        let equalities = query.equalities.map { "\($0.column.name)=\($0.values.map { "\($0)" }.joined(separator: ","))|\($0.matchesNull)" }
        let key = [query.statusFilter ?? "", query.substring ?? "", equalities.joined(separator: "&"),
                   query.sortColumn, query.sortDescending ? "desc" : "asc"].joined(separator: "\u{1}")
        let cached = state.withLock { state -> [UInt32]? in
            guard let position = state.listings.lastIndex(where: { $0.key == key }) else { return nil }
            return state.listings[position].rows
        }
        if let cached { return cached }
        let order = self.order(column: query.sortColumn, descending: query.sortDescending)
        let rows = matching(query).map { keep in order.filter { keep[Int($0)] } } ?? order
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
            let index = try SitesIndex(projectID: projectID, path: key, parts: selections.map { (readers[$0.file.path]!, $0) })
            indexes.withLock { $0[projectID] = index }
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
