import Core
import Dispatch

/// count/sum/avg(DISTINCT x), kept as two tables so nothing is ever decoded or boxed:
///
/// - `values` interns each distinct argument value (its raw bytes: the UTF-8 of a string, the
///   8 bytes of a number) as a dense value id. A storage dictionary entry is interned once per
///   scan unit, so a dictionary-encoded argument costs an index load per row.
/// - For BIGINT, TIMESTAMP and DOUBLE arguments `wordIDs` maps the value's 64 bits to its id
///   first, so a row costs one probe of a small table; only a value not seen before is copied
///   into a key and interned in `values` (a low-cardinality column like `inactive_plugins`
///   interns a few dozen values over millions of rows).
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
    private var fresh: [UInt64] = []
    /// A direct-mapped cache of pairs known to be in `pairs` (`UInt64HashSet.empty`: none).
    static let recentBits = 10
    private var recentPairs = [UInt64](repeating: UInt64HashSet.empty, count: 1 << DistinctAccumulator.recentBits)
    private let wordIDs = WordIDMap()

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
        switch input.buffer {
        case .int64(let numbers):
            numbers.withUnsafeBufferPointer { wordValueIDs($0, format, count: count, into: &ids) { UInt64(bitPattern: $0) } }
            return ids
        case .double(let numbers):
            numbers.withUnsafeBufferPointer { wordValueIDs($0, format, count: count, into: &ids) { Self.distinctBits($0) } }
            return ids
        default:
            break
        }
        // Flat strings (or a selection over a large buffer): intern every valid row's value.
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

    /// Value ids of fixed-width rows through `wordIDs`; `word` gives a value's 64 key bits.
    @inline(__always)
    private func wordValueIDs<T>(_ values: UnsafeBufferPointer<T>, _ format: UnifiedFormat, count: Int,
                                 into ids: inout [Int32], _ word: (T) -> UInt64) {
        let indices = format.indices ?? []
        let flat = format.indices == nil
        let validity = format.validity ?? []
        let hasValidity = format.validity != nil
        indices.withUnsafeBufferPointer { indices in
            validity.withUnsafeBufferPointer { validity in
                ids.withUnsafeMutableBufferPointer { ids in
                    for row in 0..<count {
                        let entry = flat ? row : Int(indices[row])
                        if hasValidity && validity[entry] == 0 { continue }
                        let bits = word(values[entry])
                        var id = wordIDs.find(bits)
                        if id < 0 {
                            id = internWord(bits)
                            wordIDs.insert(bits, id: id)
                        }
                        ids[row] = id
                    }
                }
            }
        }
    }

    /// The key bits of a DOUBLE for DISTINCT: -0.0 and 0.0 are one value, every NaN is one value.
    @inline(__always)
    static func distinctBits(_ number: Double) -> UInt64 {
        if number == 0 { return Double(0).bitPattern }
        if number.isNaN { return Double.nan.bitPattern }
        return number.bitPattern
    }

    /// Interns one fixed-width value (its 8 little-endian bytes, as `intern` keys it).
    private func internWord(_ bits: UInt64) -> Int32 {
        keyBytes.removeAll(keepingCapacity: true)
        GroupKeyEncoder.appendWord(bits, to: &keyBytes)
        let id = keyBytes.withUnsafeBufferPointer { values.findOrInsert($0, hash: hashBytes($0)) }
        notePartitionsOfNewValues()
        return id
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
                GroupKeyEncoder.appendWord(Self.distinctBits(numbers[entry]), to: &keyBytes)
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

    /// Inserts (groups[row], ids[row]) for the non-NULL rows. A pair found in `recentPairs` is
    /// already in the set (pairs are never removed) and skipped; the others are scattered by
    /// partition (a counting sort), then inserted with one batch per partition. With few
    /// distinct pairs (a low-cardinality argument) nearly every row stops at the cache.
    private func insertPairs(groups: [Int32], ids: [Int32], count: Int) {
        let partitionCount = DistinctAccumulator.partitionCount
        var starts = [Int](repeating: 0, count: partitionCount + 1)
        if scatter.count < count { scatter = [UInt64](repeating: 0, count: max(count, vectorSize)) }
        if fresh.count < count { fresh = [UInt64](repeating: 0, count: max(count, vectorSize)) }
        var freshCount = 0
        valuePartitions.withUnsafeBufferPointer { partitionOf in
            ids.withUnsafeBufferPointer { ids in
                groups.withUnsafeBufferPointer { groups in
                    starts.withUnsafeMutableBufferPointer { starts in
                        fresh.withUnsafeMutableBufferPointer { fresh in
                            recentPairs.withUnsafeMutableBufferPointer { recent in
                                for row in 0..<count {
                                    let id = ids[row]
                                    if id < 0 { continue }
                                    let pair = UInt64(UInt32(bitPattern: groups[row])) << 32 | UInt64(UInt32(bitPattern: id))
                                    let slot = Int(truncatingIfNeeded: (pair &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - Self.recentBits))
                                    if recent[slot] == pair { continue }
                                    recent[slot] = pair
                                    fresh[freshCount] = pair
                                    freshCount += 1
                                    starts[Int(partitionOf[Int(id)]) + 1] += 1
                                }
                            }
                            for partition in 0..<partitionCount { starts[partition + 1] += starts[partition] }
                            var cursors = Array(starts)
                            scatter.withUnsafeMutableBufferPointer { scatter in
                                for index in 0..<freshCount {
                                    let pair = fresh[index]
                                    let partition = Int(partitionOf[Int(pair & 0xFFFF_FFFF)])
                                    scatter[cursors[partition]] = pair
                                    cursors[partition] += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        if freshCount == 0 { return }
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
                    ParallelFor.run(iterations: workers, mergePartitions)
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
            + wordIDs.memoryBytes
    }
}

/// An open-addressing set of 64-bit keys with linear probing; `UInt64.max` marks an empty
/// slot (a packed (group, value id) pair never has it: group ids are below 2^31). The slots
/// are manually allocated so the insert loops run on a local pointer, without per-row array
/// uniqueness or exclusivity checks.
final class UInt64HashSet {
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

/// 64-bit value → Int32 id, open addressing with linear probing (`DistinctAccumulator`'s
/// front table for fixed-width arguments). Every key is possible, so emptiness is an id of -1.
final class WordIDMap {
    private var keys: UnsafeMutablePointer<UInt64>
    private var ids: UnsafeMutablePointer<Int32>
    private var capacity: Int
    private var count = 0

    init(capacity: Int = 64) {
        self.capacity = capacity
        keys = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        ids = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        ids.initialize(repeating: -1, count: capacity)
    }

    deinit {
        keys.deallocate()
        ids.deallocate()
    }

    /// The id of `key`, or -1.
    @inline(__always)
    func find(_ key: UInt64) -> Int32 {
        let mask = capacity - 1
        var slot = Int(truncatingIfNeeded: mixHash(key)) & mask
        while true {
            let id = ids[slot]
            if id < 0 || keys[slot] == key { return id }
            slot = (slot + 1) & mask
        }
    }

    /// Adds `key` (not present) with `id` (≥ 0).
    func insert(_ key: UInt64, id: Int32) {
        if (count + 1) * 2 > capacity { grow() }
        Self.place(key, id, keys, ids, capacity - 1)
        count += 1
    }

    private static func place(_ key: UInt64, _ id: Int32, _ keys: UnsafeMutablePointer<UInt64>,
                              _ ids: UnsafeMutablePointer<Int32>, _ mask: Int) {
        var slot = Int(truncatingIfNeeded: mixHash(key)) & mask
        while ids[slot] >= 0 { slot = (slot + 1) & mask }
        keys[slot] = key
        ids[slot] = id
    }

    private func grow() {
        let oldKeys = keys, oldIDs = ids, oldCapacity = capacity
        capacity *= 2
        keys = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        ids = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        ids.initialize(repeating: -1, count: capacity)
        for slot in 0..<oldCapacity where oldIDs[slot] >= 0 {
            Self.place(oldKeys[slot], oldIDs[slot], keys, ids, capacity - 1)
        }
        oldKeys.deallocate()
        oldIDs.deallocate()
    }

    var memoryBytes: Int { capacity * 12 }
}
