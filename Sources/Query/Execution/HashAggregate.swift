import ColumnStore

/// GROUP BY (and DISTINCT) by hashing: group key expressions and aggregate arguments are
/// evaluated per batch, each row is mapped to a dense group id, accumulators fold the batch.
///
/// Each worker thread owns one `HashAggregate`; `merge` folds the partials together at the
/// end. A single dictionary-encoded key column is mapped entry by entry (once per storage
/// dictionary, cached across batches), so rows cost an index lookup instead of hashing strings.
final class HashAggregate {
    let groupExpressions: [BoundExpression]
    let aggregates: [BoundAggregate]
    let table = GroupTable()
    private(set) var accumulators: [any Accumulator]
    private var dictionaryGroups: [ObjectIdentifier: (token: DictionaryToken, groups: [Int32])] = [:]
    /// Cache of the composite path, per combination of storage dictionaries and the bytes
    /// of the constant keys (a run's timestamp bucket, say).
    private struct CompositeKey: Hashable {
        var tokens: [ObjectIdentifier]
        var constants: [UInt8]
    }
    private var compositeGroups: [CompositeKey: (tokens: [DictionaryToken], groups: [Int32])] = [:]
    /// Largest product of dictionary sizes mapped through a flat array.
    private let compositeEntriesMax = 1 << 16
    private var keyScratch: [UInt8] = []
    private var zeroGroupIDs: [Int32] = []
    private var keyOffsets: [Int] = []

    /// `mergeThreads`: threads the accumulators may use when `merge` folds a partial in.
    init(groups: [BoundExpression], aggregates: [BoundAggregate], mergeThreads: Int = 1) {
        groupExpressions = groups
        self.aggregates = aggregates
        onlyCountStar = !aggregates.isEmpty && aggregates.allSatisfy { $0.kind == .countStar && !$0.distinct }
        accumulators = aggregates.map { makeAccumulator($0, mergeThreads: mergeThreads) }
        if groups.isEmpty {
            // A global aggregate has exactly one group, even over no rows.
            _ = [UInt8]().withUnsafeBufferPointer { table.findOrInsert($0, hash: hashBytes($0)) }
            for accumulator in accumulators { accumulator.resize(1) }
        }
    }

    var groupCount: Int { table.groupCount }

    var memoryBytes: Int { table.memoryBytes + accumulators.reduce(0) { $0 + $1.memoryBytes } + keyScratch.capacity }

    /// Whether `count(*)` by one storage-dictionary key counts per dictionary entry
    /// (`consumeCountsByEntry`); off, every batch takes the general path, its reference.
    var countsByEntry = true
    /// Whether every aggregate is `count(*)` (what `consumeCountsByEntry` computes).
    private let onlyCountStar: Bool
    private var entryCounts: [Int64] = []
    /// Batches `consumeCountsByEntry` took (the tests check the path is taken).
    private(set) var batchesCountedByEntry = 0

    func consume(_ chunk: DataChunk, executor: ExpressionExecutor) throws {
        let count = chunk.count
        guard count > 0 else { return }
        let keys = try groupExpressions.map { try executor.evaluate($0, chunk) }
        if countsByEntry, onlyCountStar, keys.count == 1, case .dictionary(let indices) = keys[0].encoding,
           keys[0].dictionaryToken != nil, keys[0].buffer.count <= max(count, 1_024) {
            consumeCountsByEntry(keys[0], indices: indices, count: count)
            batchesCountedByEntry += 1
            return
        }
        let groups = groupIDs(keys, count: count)
        for accumulator in accumulators { accumulator.resize(table.groupCount) }
        for (index, aggregate) in aggregates.enumerated() {
            let input = try aggregate.argument.map { try executor.evaluate($0, chunk) }
            try accumulators[index].update(groups: groups, input: input, count: count)
        }
    }

    private func groupIDs(_ keys: [Vector], count: Int) -> [Int32] {
        if keys.isEmpty {
            // One group: the same zeros for every batch (no allocation per batch).
            if zeroGroupIDs.count != count { zeroGroupIDs = [Int32](repeating: 0, count: count) }
            return zeroGroupIDs
        }
        if keys.count == 1, case .dictionary(let indices) = keys[0].encoding,
           keys[0].dictionaryToken != nil || keys[0].buffer.count <= count {
            return dictionaryGroupIDs(keys[0], indices: indices, count: count)
        }
        if keys.count > 1, let groups = compositeDictionaryGroupIDs(keys, count: count) { return groups }
        if keys.count > 1, let groups = runSplitGroupIDs(keys, count: count) { return groups }
        let starts = runStarts(keys, count: count)
        if starts.count * 2 <= count {
            // Long runs of one key (time-sorted data under date_trunc): look up each run once.
            let runGroups = hashedGroupIDs(keys.map { $0.sliced(starts) }, count: starts.count)
            var groups = [Int32](repeating: 0, count: count)
            groups.withUnsafeMutableBufferPointer { groups in
                for run in 0..<starts.count {
                    let end = run + 1 < starts.count ? Int(starts[run + 1]) : count
                    for row in Int(starts[run])..<end { groups[row] = runGroups[run] }
                }
            }
            return groups
        }
        return hashedGroupIDs(keys, count: count)
    }

    /// Storage-dictionary keys mixed with fixed-width keys that come in long runs
    /// (`date_trunc('week', received_at), project_version` over time-sorted rows): within a
    /// run the fixed-width keys are constants, so each run takes the composite dictionary path.
    private func runSplitGroupIDs(_ keys: [Vector], count: Int) -> [Int32]? {
        var runKeys: [Vector] = []
        var hasDictionary = false
        for key in keys {
            switch key.encoding {
            case .dictionary:
                guard key.dictionaryToken != nil else { return nil }
                hasDictionary = true
            case .constant:
                continue
            case .flat:
                switch key.buffer {
                case .int64, .double, .bool: runKeys.append(key)
                default: return nil
                }
            }
        }
        guard hasDictionary, !runKeys.isEmpty else { return nil }
        let starts = runStarts(runKeys, count: count)
        guard starts.count * 8 <= count else { return nil }
        var groups = [Int32](repeating: 0, count: count)
        for run in 0..<starts.count {
            let start = Int(starts[run]), end = run + 1 < starts.count ? Int(starts[run + 1]) : count
            let rows = (UInt32(start)..<UInt32(end)).map { $0 }
            let runKeys = keys.map { key -> Vector in
                if case .flat = key.encoding {
                    var constant = key.range(start, start + 1)
                    constant.encoding = .constant
                    constant.count = end - start
                    return constant
                }
                return key.sliced(rows)
            }
            guard let runGroups = compositeDictionaryGroupIDs(runKeys, count: end - start) else { return nil }
            for offset in 0..<(end - start) { groups[start + offset] = runGroups[offset] }
        }
        return groups
    }

    /// Rows whose key differs from the previous row's (row 0 always starts a run). Only cheap,
    /// certain equalities count as "same" (same dictionary entry, same fixed-width bits and
    /// validity); anything else starts a run, which costs a lookup but never a wrong group.
    private func runStarts(_ keys: [Vector], count: Int) -> [UInt32] {
        var same = [UInt8](repeating: 1, count: count)
        same[0] = 0
        for key in keys {
            switch key.encoding {
            case .constant:
                continue
            case .dictionary(let indices):
                indices.withUnsafeBufferPointer { indices in
                    for row in 1..<count where indices[row] != indices[row - 1] { same[row] = 0 }
                }
            case .flat:
                if let validity = key.validity {
                    for row in 1..<count where validity[row] != validity[row - 1] { same[row] = 0 }
                }
                switch key.buffer {
                case .int64(let values):
                    values.withUnsafeBufferPointer { values in
                        for row in 1..<count where values[row] != values[row - 1] { same[row] = 0 }
                    }
                case .double(let values):
                    values.withUnsafeBufferPointer { values in
                        for row in 1..<count where values[row].bitPattern != values[row - 1].bitPattern { same[row] = 0 }
                    }
                case .bool(let values):
                    for row in 1..<count where values[row] != values[row - 1] { same[row] = 0 }
                case .string, .none:
                    if key.type != .null { return (0..<UInt32(count)).map { $0 } }
                }
            }
        }
        var starts: [UInt32] = []
        for row in 0..<count where same[row] == 0 { starts.append(UInt32(row)) }
        return starts
    }

    /// Group ids by encoding, hashing and looking up every row's key.
    private func hashedGroupIDs(_ keys: [Vector], count: Int) -> [Int32] {
        GroupKeyEncoder.encodeBatch(keys, count: count, bytes: &keyScratch, offsets: &keyOffsets)
        return table.findOrInsertBatch(keys: keyScratch, offsets: keyOffsets, count: count)
    }

    /// Group ids for a dictionary key: one table lookup per dictionary entry used.
    private func dictionaryGroupIDs(_ key: Vector, indices: [UInt32], count: Int) -> [Int32] {
        var entryGroups = takeEntryGroups(key)
        let entries = Vector(type: key.type, buffer: key.buffer, validity: key.validity, encoding: .flat,
                             count: key.buffer.count)
        var groups = [Int32](repeating: 0, count: count)
        for row in 0..<count {
            let entry = Int(indices[row])
            var group = entryGroups[entry]
            if group < 0 {
                group = insertGroup(entries, entry)
                entryGroups[entry] = group
            }
            groups[row] = group
        }
        keepEntryGroups(key, entryGroups)
        return groups
    }

    /// `count(*)` by one storage-dictionary key: the rows of each dictionary entry are counted
    /// (one pass over the codes, four interleaved counter sets), then each entry used adds its
    /// count to its group: no group id per row. `dictionaryGroupIDs` + `CountAccumulator` is
    /// the reference (`countsByEntry` off; KernelTests compares the two).
    private func consumeCountsByEntry(_ key: Vector, indices: [UInt32], count: Int) {
        let entryCount = key.buffer.count
        precondition(indices.count >= count, "a dictionary code per row")
        if entryCounts.count < entryCount * 4 { entryCounts = [Int64](repeating: 0, count: entryCount * 4) }
        indices.withUnsafeBufferPointer { indices in
            // The one bounds check of the counting loop (a storage dictionary's codes were
            // checked against it when decoded; this keeps the loop safe on its own).
            var highest: UInt32 = 0
            for row in 0..<count { highest = max(highest, indices[row]) }
            precondition(Int(highest) < entryCount, "a dictionary code beyond its dictionary")
            entryCounts.withUnsafeMutableBufferPointer { CountAccumulator.addInterleaved(indices, count: count, into: $0) }
        }
        var entryGroups = takeEntryGroups(key)
        let entries = Vector(type: key.type, buffer: key.buffer, validity: key.validity, encoding: .flat, count: entryCount)
        var used: [(group: Int32, rows: Int64)] = []
        for entry in 0..<entryCount {
            let base = entry &* 4
            let rows = entryCounts[base] &+ entryCounts[base &+ 1] &+ entryCounts[base &+ 2] &+ entryCounts[base &+ 3]
            guard rows > 0 else { continue }
            for set in 0..<4 { entryCounts[base &+ set] = 0 }
            var group = entryGroups[entry]
            if group < 0 {
                group = insertGroup(entries, entry)
                entryGroups[entry] = group
            }
            used.append((group, rows))
        }
        keepEntryGroups(key, entryGroups)
        addCounts(used)
    }

    /// Adds counted rows to their groups in every `count(*)` accumulator.
    private func addCounts(_ used: [(group: Int32, rows: Int64)]) {
        for accumulator in accumulators {
            accumulator.resize(table.groupCount)
            let counter = accumulator as! CountAccumulator
            for (group, rows) in used { counter.add(rows, toGroup: Int(group)) }
        }
    }

    /// Whether `consume(entryCounts:)` computes this aggregate: `count(*)` alone by one key
    /// that is a column (the executor asks storage for the unit's counts per entry).
    var countsEntriesOfColumn: Int? { Self.countsEntriesOfColumn(groups: groupExpressions, aggregates: aggregates) }

    /// The column whose entries `count(*)` alone by it counts, if the query is that shape
    /// (also what EXPLAIN says).
    static func countsEntriesOfColumn(groups: [BoundExpression], aggregates: [BoundAggregate]) -> Int? {
        guard !aggregates.isEmpty, aggregates.allSatisfy({ $0.kind == .countStar && !$0.distinct }), groups.count == 1,
              case .column(let column) = groups[0].kind, groups[0].type == .varchar else { return nil }
        return column
    }

    /// Rows per dictionary entry of the key column in one scan unit, counted by storage
    /// (`ScanUnit.countEntries`): each entry with rows adds them to its group, NULL rows to
    /// the NULL group. Reading the column and `consume` is the reference (QueryTests compares
    /// the two answers over files with NULLs, several pages and PLAIN fallback pages).
    func consume(entryCounts: ParquetEntryCounts) {
        precondition(countsEntriesOfColumn != nil, "entry counts feed count(*) by one column only")
        precondition(entryCounts.counts.count == entryCounts.entries.count, "a count per entry")
        let entries = Vector(type: .varchar, buffer: .string(entryCounts.entries), validity: nil, count: entryCounts.entries.count)
        var used: [(group: Int32, rows: Int64)] = []
        for (entry, rows) in entryCounts.counts.enumerated() where rows > 0 {
            used.append((insertGroup(entries, entry), rows))
        }
        if entryCounts.nulls > 0 {
            used.append((insertGroup(Vector.constant(.null, type: .varchar, count: 1), 0), entryCounts.nulls))
        }
        addCounts(used)
        batchesCountedByEntry += 1
    }

    /// The key's dictionary entry → group id map (-1: not looked up yet), from the cache of
    /// its storage dictionary (taken out, so it is not copied on write) or new.
    private func takeEntryGroups(_ key: Vector) -> [Int32] {
        if let token = key.dictionaryToken, let cached = dictionaryGroups.removeValue(forKey: ObjectIdentifier(token)) {
            return cached.groups
        }
        return [Int32](repeating: -1, count: key.buffer.count)
    }

    /// Puts the map back in the cache (a key without a storage dictionary is not cached).
    private func keepEntryGroups(_ key: Vector, _ entryGroups: [Int32]) {
        if let token = key.dictionaryToken { dictionaryGroups[ObjectIdentifier(token)] = (token, entryGroups) }
    }

    /// The group of dictionary entry `entry` (inserted when new).
    private func insertGroup(_ entries: Vector, _ entry: Int) -> Int32 {
        keyScratch.removeAll(keepingCapacity: true)
        GroupKeyEncoder.append(entries, row: entry, to: &keyScratch)
        return keyScratch.withUnsafeBufferPointer { table.findOrInsert($0, hash: hashBytes($0)) }
    }

    /// Group ids when every key is a dictionary vector over storage dictionaries: the
    /// combination of entry indices indexes a flat array of group ids, filled on first use
    /// and kept for the scan unit, so rows cost a multiply-add per key and one load.
    private func compositeDictionaryGroupIDs(_ keys: [Vector], count: Int) -> [Int32]? {
        var codes: [[UInt32]] = []
        var tokens: [DictionaryToken] = []
        var constants: [UInt8] = []
        var product = 1
        var dictionaries = 0
        for key in keys {
            if key.isConstant {
                // A one-entry dictionary whose entry is part of the cache key.
                GroupKeyEncoder.append(key, row: 0, to: &constants)
                codes.append(zeroIndices(count))
                continue
            }
            guard case .dictionary(let indices) = key.encoding, let token = key.dictionaryToken else { return nil }
            codes.append(indices)
            tokens.append(token)
            dictionaries += 1
            product *= max(1, key.buffer.count)
            if product > compositeEntriesMax { return nil }
        }
        guard dictionaries > 0 else { return nil }
        let cacheKey = CompositeKey(tokens: tokens.map(ObjectIdentifier.init), constants: constants)
        var entryGroups = compositeGroups.removeValue(forKey: cacheKey)?.groups ?? [Int32](repeating: -1, count: product)
        let entries = keys.map {
            Vector(type: $0.type, buffer: $0.buffer, validity: $0.validity, encoding: .flat,
                   count: $0.isConstant ? 1 : $0.buffer.count)
        }
        let strides = entries.map { max(1, $0.count) }
        var groups = [Int32](repeating: 0, count: count)
        for row in 0..<count {
            var combined = 0
            var stride = 1
            for column in 0..<codes.count where !keys[column].isConstant {
                combined &+= Int(codes[column][row]) &* stride
                stride &*= strides[column]
            }
            var group = entryGroups[combined]
            if group < 0 {
                keyScratch.removeAll(keepingCapacity: true)
                for column in 0..<codes.count {
                    GroupKeyEncoder.append(entries[column], row: Int(codes[column][row]), to: &keyScratch)
                }
                group = keyScratch.withUnsafeBufferPointer { table.findOrInsert($0, hash: hashBytes($0)) }
                entryGroups[combined] = group
            }
            groups[row] = group
        }
        compositeGroups[cacheKey] = (tokens, entryGroups)
        return groups
    }

    /// Forgets per-dictionary caches (call between scan units).
    func resetDictionaryCache() {
        dictionaryGroups.removeAll(keepingCapacity: true)
        compositeGroups.removeAll(keepingCapacity: true)
        for accumulator in accumulators { accumulator.resetDictionaryCache() }
    }

    /// Folds another worker's partial aggregate into this one.
    func merge(_ other: HashAggregate) throws {
        var groupMap = [Int32](repeating: 0, count: other.groupCount)
        for group in 0..<other.groupCount {
            let key = Array(other.table.key(of: group))
            groupMap[group] = key.withUnsafeBufferPointer { table.findOrInsert($0, hash: hashBytes($0)) }
        }
        for accumulator in accumulators { accumulator.resize(table.groupCount) }
        for (index, accumulator) in accumulators.enumerated() {
            try accumulator.merge(other.accumulators[index], groupMap: groupMap)
        }
    }

    /// The result as chunks of group keys followed by aggregate values.
    func resultChunks() throws -> [DataChunk] {
        var chunks: [DataChunk] = []
        let types = groupExpressions.map(\.type)
        var start = 0
        while start < table.groupCount {
            let end = min(start + vectorSize, table.groupCount)
            var builders = types.map { VectorBuilder(type: $0, capacity: end - start) }
            for group in start..<end {
                let key = table.key(of: group)
                var offset = key.startIndex
                for (column, type) in types.enumerated() {
                    builders[column].append(GroupKeyEncoder.decode(key, offset: &offset, type: type))
                }
            }
            var columns = builders.map { $0.build() }
            for accumulator in accumulators { columns.append(try accumulator.result(groups: start..<end)) }
            chunks.append(DataChunk(columns: columns, count: end - start))
            start = end
        }
        return chunks
    }
}
