import Core
import Foundation

/// The `sites` table of a project as layers (merge-on-read):
///
///     sites/project=<id>/snapshot-<v>.parquet         the base: every site, sorted by site_key
///     sites-delta/project=<id>/delta-<v>.parquet      the sites commit v touched, sorted by site_key,
///                                                     each row already merged with the site's
///                                                     earlier state (first_seen, event_count)
///
/// A site's row is the one in the newest layer that holds it (deltas are newer than the base,
/// a greater version newer than a smaller one). Nothing is ever combined at read time: a
/// reader only has to hide, in each layer, the rows a newer layer replaced.
///
/// Readers (the engine, the sites index, the rollups, the export) take
/// `WarehouseSnapshot.sitesRowGroups(projectID:)`, computed like this:
/// 1. Take the layers newest first, with the set of site keys of the layers already taken
///    (empty for the newest).
/// 2. Per row group of a layer: when that set is empty, or the group's site_key min/max
///    statistics hold none of its keys (binary search in the sorted set), every row is kept
///    without reading anything. Otherwise the group's site_key column is read and the rows
///    whose key is in the set are hidden.
/// 3. The keys of every layer but the oldest (the base) join the set: the deltas are small
///    (the fold policy bounds them), so the set is small and the base's keys are never held.
/// 4. The base, when every delta names the rows of that base it replaces (footer keys
///    `SitesDeltaReplacedRows`, written by the compactor, which finds those rows anyway to
///    merge each touched site with its earlier state): the hidden rows are the union of those
///    lists, and the base's site_key column is not read at all — at a million sites the keys
///    of every row group (~12 ms) were read for a few hundred replaced rows. A delta without
///    the keys, naming another base, or with a list that does not decode against this base
///    leaves the base to step 2. Why the union is exact: a key's oldest delta looked the key
///    up in every older layer, found it in no older delta (it is the oldest), so it searched
///    the base and named the row when the base holds the key; a newer delta of the same key
///    may name nothing (it found the key in a delta first) without losing the row.
/// The result is cached by the `WarehouseReader` for that list of files (a commit or a fold
/// brings a new list).
///
/// The compactor's side (writing a delta, folding layers into a new base) is in
/// `Compactor+Sites.swift`; `SitesLayerMerger` below streams the merged rows in site_key
/// order for it.
public struct SitesRowGroupSelection: Sendable {
    public let file: SegmentEntry
    public let rowGroup: Int
    /// Rows of the group in the merged table, ascending; nil: every row of the group.
    public let rows: [Int32]?
    /// Rows of the group in the merged table.
    public let rowCount: Int
}

/// Site keys, sorted by unsigned bytes and unique, in one buffer.
struct SortedSiteKeys {
    private(set) var keys = StringColumn()
    var isEmpty: Bool { keys.count == 0 }
    var count: Int { keys.count }

    init() {}

    /// From any keys (sorted and deduplicated here).
    init(_ unsorted: [[UInt8]]) {
        let sorted = unsorted.sorted { $0.lexicographicallyPrecedes($1) }
        var previous: [UInt8]? = nil
        for key in sorted where key != previous {
            key.withUnsafeBytes { keys.append(bytes: $0) }
            previous = key
        }
    }

    /// The first position whose key is not below `key`.
    func lowerBound(_ key: UnsafeRawBufferPointer) -> Int {
        keys.offsets.withUnsafeBufferPointer { offsets in
            keys.bytes.withUnsafeBytes { bytes in
                var low = 0, high = keys.count
                while low < high {
                    let middle = (low + high) >> 1
                    let entry = UnsafeRawBufferPointer(rebasing: bytes[Int(offsets[middle])..<Int(offsets[middle + 1])])
                    if ParquetWriter.compareBytes(entry, key) < 0 { low = middle + 1 } else { high = middle }
                }
                return low
            }
        }
    }

    func contains(_ key: UnsafeRawBufferPointer) -> Bool {
        let position = lowerBound(key)
        guard position < keys.count else { return false }
        return keys.bytes.withUnsafeBytes { bytes in
            ParquetWriter.compareBytes(UnsafeRawBufferPointer(rebasing: bytes[keys.range(at: position)]), key) == 0
        }
    }

    /// Whether a key lies in [low, high] (the statistics of a row group; nil bounds: unknown).
    func anyWithin(low: [UInt8]?, high: [UInt8]?) -> Bool {
        guard let low, let high else { return !isEmpty }
        let position = low.withUnsafeBytes { lowerBound($0) }
        guard position < keys.count else { return false }
        return keys.bytes.withUnsafeBytes { bytes in
            high.withUnsafeBytes { ParquetWriter.compareBytes(UnsafeRawBufferPointer(rebasing: bytes[keys.range(at: position)]), $0) <= 0 }
        }
    }

    func key(at position: Int) -> [UInt8] {
        Array(keys.bytes[keys.range(at: position)])
    }
}

/// Step 4's footer keys: a delta names the base file it was written against and the rows of
/// that base its sites replace, as the file-wide row numbers (row groups in order), ascending,
/// in LEB128 gaps, base64. A delta replacing more rows than `rowsMax` names none (its base
/// is read by keys; such a delta is a backlog's, folded at the run's end).
enum SitesDeltaReplacedRows {
    static let baseKey = "trackhouse.sites_delta.base"
    static let rowsKey = "trackhouse.sites_delta.replaced_rows"
    static let rowsMax = 262_144

    /// The footer keys for `rows`; none when they are too many or not ascending (a base that
    /// is not sorted by key: readers then fall back to the keys).
    static func metadata(basePath: String, rows: [Int64]) -> [String: String] {
        guard rows.count <= rowsMax else { return [:] }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rows.count * 2)
        var previous: Int64 = -1
        for row in rows {
            guard row > previous else { return [:] }
            var gap = UInt64(row - previous)
            previous = row
            while gap >= 0x80 {
                bytes.append(UInt8(gap & 0x7F) | 0x80)
                gap >>= 7
            }
            bytes.append(UInt8(gap))
        }
        return [baseKey: basePath, rowsKey: Data(bytes).base64EncodedString()]
    }

    /// The rows a delta's footer names of the base `basePath` with `baseRowCount` rows; nil
    /// when it names none, another base, or a list that is not ascending rows of this base.
    static func rows(of metadata: [String: String], basePath: String, baseRowCount: Int) -> [Int64]? {
        guard metadata[baseKey] == basePath, let text = metadata[rowsKey],
              let data = Data(base64Encoded: text) else { return nil }
        var rows: [Int64] = []
        var previous: Int64 = -1
        var gap: UInt64 = 0, shift: UInt64 = 0
        for byte in data {
            guard shift < 63 else { return nil }
            gap |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 != 0 { shift += 7; continue }
            guard gap > 0, gap <= UInt64(baseRowCount) else { return nil }
            previous += Int64(gap)
            guard previous < Int64(baseRowCount), rows.count < rowsMax else { return nil }
            rows.append(previous)
            gap = 0
            shift = 0
        }
        return shift == 0 ? rows : nil
    }
}

enum SitesLayers {
    /// Algorithm steps 1–4 over a project's layers (oldest first, with their readers).
    /// `replacedRows: false` is the reference: the base is read by keys (step 2) too.
    static func selections(_ layers: [(file: SegmentEntry, reader: ParquetFileReader)], replacedRows: Bool = true) throws -> [SitesRowGroupSelection] {
        let baseHidden = replacedRows ? baseReplacedRows(layers) : nil
        var newer = SortedSiteKeys()
        var result: [[SitesRowGroupSelection]] = []
        for (position, layer) in layers.enumerated().reversed() {
            let reader = layer.reader
            let isOldest = position == 0
            guard let keyIndex = reader.schema.index(of: "site_key") else {
                throw ParquetError(.invalidInput, "sites file has no site_key column", path: reader.path)
            }
            var selections: [SitesRowGroupSelection] = []
            var layerKeys: [[UInt8]] = []
            for group in 0..<reader.rowGroups.count {
                let rowCount = reader.rowGroups[group].rowCount
                let stats = reader.rowGroups[group].columns[keyIndex]
                var low: [UInt8]? = nil, high: [UInt8]? = nil
                if case .bytes(let value)? = stats.min { low = value }
                if case .bytes(let value)? = stats.max { high = value }
                if isOldest, let baseHidden {
                    let hidden = baseHidden[group]
                    let rows: [Int32]? = hidden.isEmpty ? nil : Self.complement(hidden, rowCount: rowCount)
                    selections.append(SitesRowGroupSelection(file: layer.file, rowGroup: group, rows: rows, rowCount: rows?.count ?? rowCount))
                    continue
                }
                let overlaps = newer.anyWithin(low: low, high: high)
                guard overlaps || !isOldest else {
                    selections.append(SitesRowGroupSelection(file: layer.file, rowGroup: group, rows: nil, rowCount: rowCount))
                    continue
                }
                let keys = try reader.readColumn(rowGroup: group, column: keyIndex)
                var kept: [Int32] = []
                if overlaps { kept.reserveCapacity(rowCount) }
                StringRows.with(keys.storage) { values in
                    for row in 0..<rowCount {
                        let key = values.value(row)
                        if overlaps && !newer.contains(key) { kept.append(Int32(row)) }
                        if !isOldest { layerKeys.append(Array(key)) }
                    }
                }
                let rows: [Int32]? = overlaps && kept.count < rowCount ? kept : nil
                selections.append(SitesRowGroupSelection(file: layer.file, rowGroup: group, rows: rows, rowCount: rows?.count ?? rowCount))
            }
            if !isOldest {
                var all = layerKeys
                for index in 0..<newer.count { all.append(newer.key(at: index)) }
                newer = SortedSiteKeys(all)
            }
            result.append(selections)
        }
        return result.reversed().flatMap { $0 }
    }

    /// Step 4: per row group of the base (the oldest layer), its rows some delta replaces,
    /// ascending; nil when the layers are not a base and deltas that all name their rows of it.
    static func baseReplacedRows(_ layers: [(file: SegmentEntry, reader: ParquetFileReader)]) -> [[Int32]]? {
        guard layers.count > 1, layers[0].file.table == .sites,
              layers.dropFirst().allSatisfy({ $0.file.table == .sitesDelta }) else { return nil }
        let base = layers[0].reader
        let groupCounts = base.rowGroups.map(\.rowCount)
        let total = groupCounts.reduce(0, +)
        var all = Set<Int64>()
        for layer in layers.dropFirst() {
            guard let rows = SitesDeltaReplacedRows.rows(of: layer.reader.keyValueMetadata, basePath: layers[0].file.path, baseRowCount: total) else { return nil }
            all.formUnion(rows)
        }
        var perGroup = [[Int32]](repeating: [], count: groupCounts.count)
        var starts: [Int64] = []
        var start: Int64 = 0
        for count in groupCounts { starts.append(start); start += Int64(count) }
        for row in all.sorted() {
            // The group holding file-wide `row`: the last start not above it.
            var low = 0, high = starts.count
            while high - low > 1 { let middle = (low + high) >> 1; if starts[middle] <= row { low = middle } else { high = middle } }
            perGroup[low].append(Int32(row - starts[low]))
        }
        return perGroup
    }

    /// The rows of `0..<rowCount` not in `hidden` (ascending).
    static func complement(_ hidden: [Int32], rowCount: Int) -> [Int32] {
        var kept: [Int32] = []
        kept.reserveCapacity(max(0, rowCount - hidden.count))
        var next = 0
        for row in 0..<Int32(rowCount) {
            if next < hidden.count && hidden[next] == row { next += 1; continue }
            kept.append(row)
        }
        return kept
    }
}

/// Streams the merged rows of a project's layers in site_key order (newest layer wins), one
/// decoded row group per layer at a time: the memory of a fold is the layers' current row
/// groups, whatever the number of sites. Layers must each be sorted by site_key (compaction
/// writes them so; a file that is not is refused rather than merged wrongly).
struct SitesLayerMerger {
    final class Cursor {
        let reader: ParquetFileReader
        let map: OldSnapshotColumns
        let layer: Int
        /// Keys at or past this end the cursor (a part of a parallel fold); nil: none.
        let upper: [UInt8]?
        var group = -1
        var columns: [ColumnData] = []
        var row = 0
        var key: [UInt8]?

        /// A cursor on the rows with keys in `lower..<upper` (nil: unbounded): row groups
        /// wholly below `lower` by their statistics are not read.
        init(reader: ParquetFileReader, layer: Int, lower: [UInt8]? = nil, upper: [UInt8]? = nil) throws {
            self.reader = reader
            self.layer = layer
            self.upper = upper
            map = try OldSnapshotColumns(reader: reader)
            if let lower {
                while group + 1 < reader.rowGroups.count, case .bytes(let high)? = reader.rowGroups[group + 1].columns[map.siteKey].max,
                      high.lexicographicallyPrecedes(lower) {
                    group += 1
                }
            }
            try nextGroup()
            if let lower {
                while let current = key, current.lexicographicallyPrecedes(lower) { try advance() }
            }
        }

        func advance() throws {
            row += 1
            if row >= reader.rowGroups[group].rowCount { return try nextGroup() }
            let next = map.siteKey(columns, row)
            if let key, !key.lexicographicallyPrecedes(next) {
                throw ParquetError(.invalidInput, "sites file is not sorted by site_key at row group \(group), row \(row); rebuild the warehouse from raw", path: reader.path)
            }
            key = next
            endIfPastUpper()
        }

        private func nextGroup() throws {
            columns = []
            group += 1
            while group < reader.rowGroups.count && reader.rowGroups[group].rowCount == 0 { group += 1 }
            guard group < reader.rowGroups.count else { key = nil; return }
            if let upper, case .bytes(let low)? = reader.rowGroups[group].columns[map.siteKey].min, !low.lexicographicallyPrecedes(upper) {
                key = nil
                return
            }
            columns = try reader.readRowGroup(group)
            row = 0
            key = map.siteKey(columns, 0)
            endIfPastUpper()
        }

        private func endIfPastUpper() {
            if let upper, let current = key, !current.lexicographicallyPrecedes(upper) {
                key = nil
                columns = []
            }
        }
    }

    /// `body(columns, row, map)` once per site, with the row of its newest layer; only sites
    /// with keys in `lower..<upper` when given.
    static func forEachRow(_ readers: [ParquetFileReader], lower: [UInt8]? = nil, upper: [UInt8]? = nil,
                           _ body: ([ColumnData], Int, OldSnapshotColumns) throws -> Void) throws {
        var heap = CursorHeap()
        for (layer, reader) in readers.enumerated() {
            let cursor = try Cursor(reader: reader, layer: layer, lower: lower, upper: upper)
            if cursor.key != nil { heap.push(cursor) }
        }
        while let winner = heap.pop() {
            let key = winner.key!
            try body(winner.columns, winner.row, winner.map)
            try winner.advance()
            if winner.key != nil { heap.push(winner) }
            // Older layers' rows of the same site are replaced: skip them.
            while let top = heap.peek(), top.key! == key {
                _ = heap.pop()
                try top.advance()
                if top.key != nil { heap.push(top) }
            }
        }
    }

    /// A binary min-heap by (key, newest layer first).
    struct CursorHeap {
        var items: [Cursor] = []

        static func before(_ a: Cursor, _ b: Cursor) -> Bool {
            // One memcmp (the generic `!=` then `lexicographicallyPrecedes` walked each key twice).
            let order = a.key!.withUnsafeBytes { x in b.key!.withUnsafeBytes { y in ParquetWriter.compareBytes(x, y) } }
            if order != 0 { return order < 0 }
            return a.layer > b.layer
        }

        func peek() -> Cursor? { items.first }

        mutating func push(_ cursor: Cursor) {
            items.append(cursor)
            var child = items.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard Self.before(items[child], items[parent]) else { break }
                items.swapAt(child, parent)
                child = parent
            }
        }

        mutating func pop() -> Cursor? {
            guard !items.isEmpty else { return nil }
            items.swapAt(0, items.count - 1)
            let top = items.removeLast()
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count && Self.before(items[left], items[smallest]) { smallest = left }
                if right < items.count && Self.before(items[right], items[smallest]) { smallest = right }
                guard smallest != parent else { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
            return top
        }
    }
}

extension WarehouseState {
    /// Rows of the merged `sites` table (every project), reading the files of `layout`: the
    /// base's row count alone when a project has no delta, else its keys as `SitesLayers` does.
    public func sitesRowCount(layout: WarehouseLayout) throws -> Int {
        var total = 0
        for projectID in Set(segments.values.filter { $0.table == .sites || $0.table == .sitesDelta }.map(\.projectID)) {
            let layers = sitesLayers(projectID: projectID)
            if layers.count == 1 {
                total += layers[0].rows
                continue
            }
            let opened = try layers.map { (file: $0, reader: try ParquetFileReader(path: layout.committedPath($0.path))) }
            total += try SitesLayers.selections(opened).reduce(0) { $0 + $1.rowCount }
        }
        return total
    }
}
