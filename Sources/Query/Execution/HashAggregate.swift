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
    private var keyScratch: [UInt8] = []
    private var keyOffsets: [Int] = []

    init(groups: [BoundExpression], aggregates: [BoundAggregate]) {
        groupExpressions = groups
        self.aggregates = aggregates
        accumulators = aggregates.map(makeAccumulator)
        if groups.isEmpty {
            // A global aggregate has exactly one group, even over no rows.
            _ = [UInt8]().withUnsafeBufferPointer { table.findOrInsert($0, hash: hashBytes($0)) }
            for accumulator in accumulators { accumulator.resize(1) }
        }
    }

    var groupCount: Int { table.groupCount }

    var memoryBytes: Int { table.memoryBytes + accumulators.reduce(0) { $0 + $1.memoryBytes } + keyScratch.capacity }

    func consume(_ chunk: DataChunk, executor: ExpressionExecutor) throws {
        let count = chunk.count
        guard count > 0 else { return }
        let keys = try groupExpressions.map { try executor.evaluate($0, chunk) }
        let groups = groupIDs(keys, count: count)
        for accumulator in accumulators { accumulator.resize(table.groupCount) }
        for (index, aggregate) in aggregates.enumerated() {
            let input = try aggregate.argument.map { try executor.evaluate($0, chunk) }
            try accumulators[index].update(groups: groups, input: input, count: count)
        }
    }

    private func groupIDs(_ keys: [Vector], count: Int) -> [Int32] {
        if keys.isEmpty { return [Int32](repeating: 0, count: count) }
        if keys.count == 1, case .dictionary(let indices) = keys[0].encoding,
           keys[0].dictionaryToken != nil || keys[0].buffer.count <= count {
            return dictionaryGroupIDs(keys[0], indices: indices, count: count)
        }
        GroupKeyEncoder.encodeBatch(keys, count: count, bytes: &keyScratch, offsets: &keyOffsets)
        var hashes = [UInt64](repeating: 0, count: count)
        keyScratch.withUnsafeBytes { bytes in
            for row in 0..<count {
                hashes[row] = hashBytes(UnsafeRawBufferPointer(rebasing: bytes[keyOffsets[row]..<keyOffsets[row + 1]]))
            }
        }
        var groups = [Int32](repeating: 0, count: count)
        keyScratch.withUnsafeBufferPointer { bytes in
            groups.withUnsafeMutableBufferPointer { output in
                table.findOrInsertBatch(keys: bytes, offsets: keyOffsets, hashes: hashes, into: output.baseAddress!)
            }
        }
        return groups
    }

    /// Group ids for a dictionary key: one table lookup per dictionary entry used.
    private func dictionaryGroupIDs(_ key: Vector, indices: [UInt32], count: Int) -> [Int32] {
        let entryCount = key.buffer.count
        var entryGroups: [Int32]
        let cacheKey = key.dictionaryToken.map(ObjectIdentifier.init)
        if let cacheKey, let cached = dictionaryGroups[cacheKey] {
            entryGroups = cached.groups
        } else {
            entryGroups = [Int32](repeating: -1, count: entryCount)
        }
        let entries = Vector(type: key.type, buffer: key.buffer, validity: key.validity, encoding: .flat,
                             count: entryCount)
        var groups = [Int32](repeating: 0, count: count)
        for row in 0..<count {
            let entry = Int(indices[row])
            var group = entryGroups[entry]
            if group < 0 {
                keyScratch.removeAll(keepingCapacity: true)
                GroupKeyEncoder.append(entries, row: entry, to: &keyScratch)
                group = keyScratch.withUnsafeBufferPointer { table.findOrInsert($0, hash: hashBytes($0)) }
                entryGroups[entry] = group
            }
            groups[row] = group
        }
        if let cacheKey, let token = key.dictionaryToken {
            dictionaryGroups[cacheKey] = (token, entryGroups)
        }
        return groups
    }

    /// Forgets per-dictionary caches (call between scan units).
    func resetDictionaryCache() {
        dictionaryGroups.removeAll(keepingCapacity: true)
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
    func resultChunks() -> [DataChunk] {
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
            for accumulator in accumulators { columns.append(accumulator.result(groups: start..<end)) }
            chunks.append(DataChunk(columns: columns, count: end - start))
            start = end
        }
        return chunks
    }
}
