import Dispatch

/// count/sum/avg(DISTINCT x), kept as two tables so nothing is ever decoded or boxed:
///
/// - `values` interns each distinct argument value (its raw bytes: the UTF-8 of a string, the
///   8 bytes of a number) as a dense value id. A storage dictionary entry is interned once per
///   scan unit, so a dictionary-encoded argument costs an index load per row.
/// - `pairs` is the set of (group id, value id) packed in 64 bits, split into
///   `partitionCount` hash sets by the value's hash. Equal values have equal hashes on every
///   worker, so merging workers' partials is a union per partition: the partitions merge in
///   parallel, each by one thread, with no locks and no value decoding (DuckDB merges its
///   distinct hash tables the same way, radix-partitioned).
final class DistinctAccumulator: Accumulator {
    static let partitionBits = 4
    static let partitionCount = 1 << partitionBits

    private let aggregate: BoundAggregate
    private let mergeThreads: Int
    private let values = GroupTable()
    /// Partition of each value id (the top bits of its hash).
    private var valuePartitions: [UInt8] = []
    private let pairs: [UInt64HashSet] = (0..<DistinctAccumulator.partitionCount).map { _ in UInt64HashSet() }
    private var groupCount = 0
    /// Value id per entry of a storage dictionary (-1 NULL, -2 not interned yet), for the
    /// current scan unit. The token is kept so its identifier is not reused meanwhile.
    private var dictionaryIDs: [ObjectIdentifier: (token: DictionaryToken, ids: [Int32])] = [:]
    private var keyBytes: [UInt8] = []
    private var keyOffsets: [Int] = []
    private var scatter: [UInt64] = []

    init(_ aggregate: BoundAggregate, mergeThreads: Int = 1) {
        self.aggregate = aggregate
        self.mergeThreads = max(1, mergeThreads)
    }

    func resize(_ groupCount: Int) { self.groupCount = max(self.groupCount, groupCount) }

    func resetDictionaryCache() { dictionaryIDs.removeAll(keepingCapacity: true) }

    /// Distinct (group, value) pairs held, for tests.
    var pairCount: Int { pairs.reduce(0) { $0 + $1.count } }

    func update(groups: [Int32], input: Vector?, count: Int) throws {
        guard let input, input.type != .null, count > 0 else { return }
        let ids = valueIDs(input, count: count)
        insertPairs(groups: groups, ids: ids, count: count)
    }

    /// The value id of every row (-1 for NULL).
    private func valueIDs(_ input: Vector, count: Int) -> [Int32] {
        let format = input.unified
        let entryCount = input.buffer.count
        var ids = [Int32](repeating: -1, count: count)
        if let indices = format.indices, input.dictionaryToken != nil || entryCount <= count {
            // Few entries behind many rows: intern each entry once, then rows are index loads.
            let cacheKey = input.dictionaryToken.map(ObjectIdentifier.init)
            var entryIDs: [Int32]
            if let cacheKey, let cached = dictionaryIDs.removeValue(forKey: cacheKey) {
                entryIDs = cached.ids
            } else {
                entryIDs = [Int32](repeating: -2, count: entryCount)
                if let validity = format.validity {
                    for entry in 0..<entryCount where validity[entry] == 0 { entryIDs[entry] = -1 }
                }
            }
            var missing: [Int] = []
            indices.withUnsafeBufferPointer { indices in
                entryIDs.withUnsafeMutableBufferPointer { entryIDs in
                    for row in 0..<count {
                        let entry = Int(indices[row])
                        if entryIDs[entry] == -2 {
                            entryIDs[entry] = -3 // pending, so each entry is listed once
                            missing.append(entry)
                        }
                    }
                }
            }
            if !missing.isEmpty {
                let interned = intern(input.buffer, entries: missing)
                for (position, entry) in missing.enumerated() { entryIDs[entry] = interned[position] }
            }
            indices.withUnsafeBufferPointer { indices in
                entryIDs.withUnsafeBufferPointer { entryIDs in
                    ids.withUnsafeMutableBufferPointer { ids in
                        for row in 0..<count { ids[row] = entryIDs[Int(indices[row])] }
                    }
                }
            }
            if let cacheKey, let token = input.dictionaryToken { dictionaryIDs[cacheKey] = (token, entryIDs) }
            return ids
        }
        // Flat (or a selection over a large buffer): intern every valid row's value.
        var rows: [Int] = []
        var entries: [Int] = []
        rows.reserveCapacity(count)
        entries.reserveCapacity(count)
        let validity = format.validity
        for row in 0..<count {
            let entry = format.indices.map { Int($0[row]) } ?? row
            if let validity, validity[entry] == 0 { continue }
            rows.append(row)
            entries.append(entry)
        }
        if entries.isEmpty { return ids }
        let interned = intern(input.buffer, entries: entries)
        for (position, row) in rows.enumerated() { ids[row] = interned[position] }
        return ids
    }

    /// Value ids of buffer entries `entries`, interning new values. A value's key is its raw
    /// bytes: the table holds one argument type, so no type tag or length prefix is needed.
    private func intern(_ buffer: VectorBuffer, entries: [Int]) -> [Int32] {
        let count = entries.count
        keyOffsets.removeAll(keepingCapacity: true)
        keyOffsets.reserveCapacity(count + 1)
        keyOffsets.append(0)
        keyBytes.removeAll(keepingCapacity: true)
        switch buffer {
        case .string(let strings):
            strings.bytes.withUnsafeBufferPointer { bytes in
                strings.offsets.withUnsafeBufferPointer { offsets in
                    for entry in entries {
                        let start = Int(offsets[entry]), end = Int(offsets[entry + 1])
                        keyBytes.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<end]))
                        keyOffsets.append(keyBytes.count)
                    }
                }
            }
        case .int64(let numbers):
            for entry in entries {
                GroupKeyEncoder.appendWord(UInt64(bitPattern: numbers[entry]), to: &keyBytes)
                keyOffsets.append(keyBytes.count)
            }
        case .double(let numbers):
            for entry in entries {
                // DISTINCT treats -0.0 and 0.0 as one value, and every NaN as one value.
                var number = numbers[entry]
                if number == 0 { number = 0 }
                if number.isNaN { number = .nan }
                GroupKeyEncoder.appendWord(number.bitPattern, to: &keyBytes)
                keyOffsets.append(keyBytes.count)
            }
        case .bool(let flags):
            for entry in entries {
                keyBytes.append(flags[entry])
                keyOffsets.append(keyBytes.count)
            }
        case .none:
            for _ in entries { keyOffsets.append(0) }
        }
        let ids = values.findOrInsertBatch(keys: keyBytes, offsets: keyOffsets, count: count)
        notePartitionsOfNewValues()
        return ids
    }

    private func notePartitionsOfNewValues() {
        let hashes = values.hashes
        for id in valuePartitions.count..<hashes.count {
            valuePartitions.append(UInt8(truncatingIfNeeded: hashes[id] >> UInt64(64 - DistinctAccumulator.partitionBits)))
        }
    }

    /// Inserts (groups[row], ids[row]) for the non-NULL rows: scattered by partition first
    /// (a counting sort), then one batch insert per partition.
    private func insertPairs(groups: [Int32], ids: [Int32], count: Int) {
        let partitionCount = DistinctAccumulator.partitionCount
        var starts = [Int](repeating: 0, count: partitionCount + 1)
        if scatter.count < count { scatter = [UInt64](repeating: 0, count: max(count, vectorSize)) }
        valuePartitions.withUnsafeBufferPointer { partitionOf in
            ids.withUnsafeBufferPointer { ids in
                groups.withUnsafeBufferPointer { groups in
                    starts.withUnsafeMutableBufferPointer { starts in
                        for row in 0..<count where ids[row] >= 0 { starts[Int(partitionOf[Int(ids[row])]) + 1] += 1 }
                        for partition in 0..<partitionCount { starts[partition + 1] += starts[partition] }
                        var cursors = Array(starts)
                        scatter.withUnsafeMutableBufferPointer { scatter in
                            for row in 0..<count {
                                let id = ids[row]
                                if id < 0 { continue }
                                let partition = Int(partitionOf[Int(id)])
                                scatter[cursors[partition]] = UInt64(UInt32(bitPattern: groups[row])) << 32
                                    | UInt64(UInt32(bitPattern: id))
                                cursors[partition] += 1
                            }
                        }
                    }
                }
            }
        }
        scatter.withUnsafeBufferPointer { scatter in
            for partition in 0..<partitionCount where starts[partition + 1] > starts[partition] {
                pairs[partition].insert(UnsafeBufferPointer(rebasing: scatter[starts[partition]..<starts[partition + 1]]))
            }
        }
    }

    func merge(_ other: any Accumulator, groupMap: [Int32]) throws {
        let other = other as! DistinctAccumulator
        guard other.values.groupCount > 0 else { return }
        // Other's value ids to ours: its keys are interned straight from its arena.
        var valueMap = [Int32](repeating: 0, count: other.values.groupCount)
        other.values.arena.withUnsafeBufferPointer { arena in
            valueMap.withUnsafeMutableBufferPointer { output in
                values.findOrInsertBatch(keys: arena, offsets: other.values.keyStarts, hashes: other.values.hashes,
                                         into: output.baseAddress!)
            }
        }
        notePartitionsOfNewValues()
        let workers = min(mergeThreads, DistinctAccumulator.partitionCount)
        let mine = pairs, theirs = other.pairs
        groupMap.withUnsafeBufferPointer { groupMap in
            valueMap.withUnsafeBufferPointer { valueMap in
                let maps = UncheckedBox((groupMap, valueMap))
                let mergePartitions = { (worker: Int) in
                    for partition in stride(from: worker, to: DistinctAccumulator.partitionCount, by: workers) {
                        mine[partition].insertRemapped(theirs[partition], groupMap: maps.value.0, valueMap: maps.value.1)
                    }
                }
                if workers == 1 {
                    mergePartitions(0)
                } else {
                    DispatchQueue.concurrentPerform(iterations: workers, execute: mergePartitions)
                }
            }
        }
    }

    func result(groups: Range<Int>) throws -> Vector {
        var counts = [Int64](repeating: 0, count: groupCount)
        var integerSums = [Int128](repeating: 0, count: groupCount)
        var doubleSums = [Double](repeating: 0, count: groupCount)
        let argumentType = aggregate.argument?.type ?? .null
        let needsValues = aggregate.kind != .count && aggregate.kind != .countStar
        values.arena.withUnsafeBytes { arena in
            let starts = values.keyStarts
            for set in pairs {
                set.forEach { pair in
                    let group = Int(pair >> 32)
                    guard group < groupCount else { return }
                    counts[group] += 1
                    guard needsValues else { return }
                    let start = starts[Int(pair & 0xFFFF_FFFF)]
                    switch argumentType {
                    case .bigint, .timestamp:
                        let number = Int64(bitPattern: UInt64(littleEndian: arena.loadUnaligned(fromByteOffset: start, as: UInt64.self)))
                        integerSums[group] &+= Int128(number)
                    case .double:
                        doubleSums[group] += Double(bitPattern: UInt64(littleEndian: arena.loadUnaligned(fromByteOffset: start,
                                                                                                        as: UInt64.self)))
                    default:
                        break
                    }
                }
            }
        }
        var builder = VectorBuilder(type: aggregate.type, capacity: groups.count)
        for group in groups {
            switch aggregate.kind {
            case .count, .countStar:
                builder.append(.int64(counts[group]))
            default:
                if counts[group] == 0 {
                    builder.appendNull()
                } else if argumentType == .double {
                    builder.append(.double(aggregate.kind == .avg ? doubleSums[group] / Double(counts[group]) : doubleSums[group]))
                } else if aggregate.kind == .avg {
                    builder.append(.double(IntegerSumAccumulator.average(integerSums[group], count: counts[group])))
                } else {
                    builder.append(.int64(try IntegerSumAccumulator.bigint(sum: integerSums[group])))
                }
            }
        }
        return builder.build()
    }

    var memoryBytes: Int {
        values.memoryBytes + valuePartitions.capacity + pairs.reduce(0) { $0 + $1.memoryBytes } + keyBytes.capacity
    }
}

/// An open-addressing set of 64-bit keys with linear probing; `UInt64.max` marks an empty
/// slot (a packed (group, value id) pair never has it: group ids are below 2^31). The slots
/// are manually allocated so the insert loops run on a local pointer, without per-row array
/// uniqueness or exclusivity checks.
final class UInt64HashSet: @unchecked Sendable {
    static let empty = UInt64.max
    private var slots: UnsafeMutablePointer<UInt64>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        var size = 16
        while size < capacity { size <<= 1 }
        self.capacity = size
        slots = UnsafeMutablePointer<UInt64>.allocate(capacity: size)
        slots.initialize(repeating: UInt64HashSet.empty, count: size)
    }

    deinit { slots.deallocate() }

    var memoryBytes: Int { capacity * 8 }

    /// Grows so `additional` more keys keep the load at or below 3/4.
    private func reserve(_ additional: Int) {
        guard (count + additional) * 4 > capacity * 3 else { return }
        var size = capacity * 2
        while (count + additional) * 4 > size * 3 { size <<= 1 }
        let old = slots, oldCapacity = capacity
        slots = UnsafeMutablePointer<UInt64>.allocate(capacity: size)
        slots.initialize(repeating: UInt64HashSet.empty, count: size)
        capacity = size
        let mask = size - 1
        for index in 0..<oldCapacity where old[index] != UInt64HashSet.empty {
            _ = UInt64HashSet.place(old[index], in: slots, mask: mask)
        }
        old.deallocate()
    }

    /// Inserts `key` unless present; true when it was new.
    @inline(__always)
    private static func place(_ key: UInt64, in slots: UnsafeMutablePointer<UInt64>, mask: Int) -> Bool {
        var slot = Int(truncatingIfNeeded: mixHash(key)) & mask
        while true {
            let current = slots[slot]
            if current == key { return false }
            if current == empty {
                slots[slot] = key
                return true
            }
            slot = (slot + 1) & mask
        }
    }

    /// Written by the prefetch pass so the compiler keeps its loads.
    private var prefetchSink: UInt64 = 0

    func insert(_ keys: UnsafeBufferPointer<UInt64>) {
        reserve(keys.count)
        let slots = self.slots, mask = capacity - 1
        // Sets are larger than the caches: load every key's home slot first (independent
        // loads overlap their misses), then probe, mostly hitting cache.
        var touched: UInt64 = 0
        for key in keys { touched ^= slots[Int(truncatingIfNeeded: mixHash(key)) & mask] }
        prefetchSink = touched
        var added = 0
        for key in keys where UInt64HashSet.place(key, in: slots, mask: mask) { added += 1 }
        count += added
    }

    /// Inserts every pair of `other` with its group and value ids mapped.
    func insertRemapped(_ other: UInt64HashSet, groupMap: UnsafeBufferPointer<Int32>,
                        valueMap: UnsafeBufferPointer<Int32>) {
        if other.count == 0 { return }
        reserve(other.count)
        let slots = self.slots, mask = capacity - 1
        let source = other.slots
        var added = 0
        for index in 0..<other.capacity {
            let pair = source[index]
            if pair == UInt64HashSet.empty { continue }
            let mapped = UInt64(UInt32(bitPattern: groupMap[Int(pair >> 32)])) << 32
                | UInt64(UInt32(bitPattern: valueMap[Int(pair & 0xFFFF_FFFF)]))
            if UInt64HashSet.place(mapped, in: slots, mask: mask) { added += 1 }
        }
        count += added
    }

    func forEach(_ body: (UInt64) -> Void) {
        for index in 0..<capacity where slots[index] != UInt64HashSet.empty { body(slots[index]) }
    }
}
