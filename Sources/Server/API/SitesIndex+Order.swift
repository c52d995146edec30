import ColumnStore
import Core
import Query

/// The sort permutations of a `SitesIndex`: `ORDER BY column [DESC] NULLS LAST, site_key`.
///
/// A new index comes with every commit that touches the project (a new delta), and its first
/// listing pays for the order; at a million sites a comparator sort over `Value`s, with the
/// site_key ranks from sorting every key's bytes, took 0.5–1.2 s. Here:
/// 1. Site_key ranks: every layer is sorted by site_key, and a part's rows keep their file's
///    order, so the table is a few sorted runs (the base's row groups, one run per delta).
///    Each run is checked sorted (one comparison per row), the small runs are sorted
///    together, then merged with the largest run: about one comparison per row. A run found
///    unsorted (a damaged or foreign file) falls back to sorting every key.
/// 2. The order: each non-NULL value becomes an `Int64` key that sorts as the value does
///    (integers and timestamps as themselves, bit-flipped for DESC; strings and bools by the
///    dense rank of their distinct values), the site_key rank breaks ties, and the keys sort as
///    plain integer pairs; NULLs follow in site_key order. A column this cannot key (doubles,
///    mixed types) takes the comparator sort, which stays the reference
///    (`SitesIndexOrderTests` holds the two equal).
extension SitesIndex {
    /// Each row's position in ascending byte order of site_key.
    func siteKeyRanks() throws -> [UInt32] {
        if rowsInSiteKeyOrder { return (0..<UInt32(rowCount)).map { $0 } }
        let index = TableSchema.sites.columns.firstIndex { $0.name == "site_key" }!
        let groups = try columnGroups(index, keep: false)
        var keys = StringColumn()
        keys.reserveCapacity(values: rowCount, bytes: rowCount * 32)
        var runs: [Range<Int>] = []
        var runStart = 0
        for (position, data) in groups.enumerated() {
            if position > 0 && parts[position].reader !== parts[position - 1].reader {
                runs.append(runStart..<keys.count)
                runStart = keys.count
            }
            Self.appendBytes(of: data, to: &keys)
        }
        runs.append(runStart..<keys.count)
        return Self.ranksByMerging(keys, runs: runs) ?? Self.ranksBySorting(keys)
    }

    /// Every row's bytes (NULL: empty) appended to `keys`.
    static func appendBytes(of data: ColumnData, to keys: inout StringColumn) {
        switch data.storage {
        case .strings(let column):
            column.bytes.withUnsafeBytes { bytes in
                for row in 0..<data.count {
                    keys.append(bytes: data.isValid(row) ? UnsafeRawBufferPointer(rebasing: bytes[column.range(at: row)]) : UnsafeRawBufferPointer(start: nil, count: 0))
                }
            }
        case .dictionary(let dictionary, let codes):
            dictionary.bytes.withUnsafeBytes { bytes in
                for row in 0..<data.count {
                    keys.append(bytes: data.isValid(row) ? UnsafeRawBufferPointer(rebasing: bytes[dictionary.range(at: Int(codes[row]))]) : UnsafeRawBufferPointer(start: nil, count: 0))
                }
            }
        default:
            for _ in 0..<data.count { keys.appendEmpty() }
        }
    }

    /// Step 1: ranks from sorted runs; nil when a run is not sorted.
    static func ranksByMerging(_ keys: StringColumn, runs: [Range<Int>]) -> [UInt32]? {
        keys.offsets.withUnsafeBufferPointer { offsets in
            keys.bytes.withUnsafeBytes { bytes in
                @inline(__always) func key(_ row: Int) -> UnsafeRawBufferPointer {
                    UnsafeRawBufferPointer(rebasing: bytes[Int(offsets[row])..<Int(offsets[row + 1])])
                }
                for run in runs where run.count > 1 {
                    for row in (run.lowerBound + 1)..<run.upperBound where ParquetWriter.compareBytes(key(row - 1), key(row)) > 0 { return nil }
                }
                guard let largest = runs.indices.max(by: { runs[$0].count < runs[$1].count }) else { return [] }
                var others: [Int] = []
                for (position, run) in runs.enumerated() where position != largest { others.append(contentsOf: run) }
                others.sort { ParquetWriter.compareBytes(key($0), key($1)) < 0 }
                var ranks = [UInt32](repeating: 0, count: keys.count)
                var rank: UInt32 = 0
                var next = 0
                for row in runs[largest] {
                    while next < others.count && ParquetWriter.compareBytes(key(others[next]), key(row)) < 0 {
                        ranks[others[next]] = rank
                        rank += 1
                        next += 1
                    }
                    ranks[row] = rank
                    rank += 1
                }
                while next < others.count {
                    ranks[others[next]] = rank
                    rank += 1
                    next += 1
                }
                return ranks
            }
        }
    }

    /// The reference of step 1: every key sorted.
    static func ranksBySorting(_ keys: StringColumn) -> [UInt32] {
        let bytes = (0..<keys.count).map { Array(keys.bytes[keys.range(at: $0)]) }
        let sorted = (0..<keys.count).sorted { bytes[$0].lexicographicallyPrecedes(bytes[$1]) }
        var ranks = [UInt32](repeating: 0, count: keys.count)
        for (rank, row) in sorted.enumerated() { ranks[row] = UInt32(rank) }
        return ranks
    }

    /// Step 2; nil when the column's values cannot all be keyed.
    static func orderByKeys(_ values: [Value], siteKeyRanks: [UInt32], descending: Bool) -> [UInt32]? {
        struct Entry: Comparable {
            var key: Int64
            var tie: UInt32
            static func < (a: Entry, b: Entry) -> Bool { a.key != b.key ? a.key < b.key : a.tie < b.tie }
        }
        var entries: [Entry] = []
        entries.reserveCapacity(values.count)
        var nullTies: [UInt32] = []
        // Strings: the dense rank of each distinct value (String equality, as the reference's `!=`).
        var stringCodes: [String: Int] = [:]
        var strings: [String] = []
        var codes: [Int] = []
        var kind: LogicalType? = nil
        for (row, value) in values.enumerated() {
            let tie = siteKeyRanks[row]
            // One kind per column, or the keys of different kinds would not compare.
            if !value.isNull {
                if let kind, kind != value.type { return nil }
                kind = value.type
            }
            switch value {
            case .null: nullTies.append(tie)
            case .int64(let number), .timestamp(let number): entries.append(Entry(key: descending ? ~number : number, tie: tie))
            case .bool(let flag): entries.append(Entry(key: (flag ? 1 : 0) * (descending ? -1 : 1), tie: tie))
            case .string(let text):
                let code: Int
                if let known = stringCodes[text] { code = known } else {
                    code = strings.count
                    stringCodes[text] = code
                    strings.append(text)
                }
                codes.append(code)
                entries.append(Entry(key: 0, tie: tie))
            case .double: return nil
            }
        }
        if !strings.isEmpty {
            let byBytes = strings.indices.sorted { strings[$0].utf8.lexicographicallyPrecedes(strings[$1].utf8) }
            var rankOfCode = [Int64](repeating: 0, count: strings.count)
            for (rank, code) in byBytes.enumerated() { rankOfCode[code] = Int64(rank) * (descending ? -1 : 1) }
            for position in entries.indices { entries[position].key = rankOfCode[codes[position]] }
        }
        entries.sort()
        nullTies.sort()
        var rowOfRank = [UInt32](repeating: 0, count: siteKeyRanks.count)
        for (row, rank) in siteKeyRanks.enumerated() { rowOfRank[Int(rank)] = UInt32(row) }
        var rows: [UInt32] = []
        rows.reserveCapacity(values.count)
        for entry in entries { rows.append(rowOfRank[Int(entry.tie)]) }
        for tie in nullTies { rows.append(rowOfRank[Int(tie)]) }
        return rows
    }

    /// The reference of step 2: a comparator sort over the values.
    static func orderByComparator(_ values: [Value], siteKeyRanks: [UInt32], descending: Bool) -> [UInt32] {
        var rows = (0..<UInt32(values.count)).map { $0 }
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
            return siteKeyRanks[Int(a)] < siteKeyRanks[Int(b)]
        }
        return rows
    }
}
