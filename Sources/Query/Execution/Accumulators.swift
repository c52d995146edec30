// Aggregate states, one object per aggregate, holding a column of states indexed by group id.
// `update` folds a batch in, `merge` combines another worker's partial states (morsel-driven
// parallelism), `result` builds the output column.
//
// Result types: count -> BIGINT; sum(BIGINT) -> BIGINT, summed in 128 bits (as DuckDB's
// HUGEINT sum), raising "Out of Range" only when the total itself does not fit in 64 bits
// (DuckDB returns a HUGEINT there; this engine has no 128-bit type); sum(DOUBLE) -> DOUBLE;
// avg -> DOUBLE (of BIGINT: the exact 128-bit sum divided by the count, as DuckDB does, so
// `avg` of huge values that cancel out is right); min/max keep their argument's type;
// approx_count_distinct -> BIGINT (HyperLogLog).

protocol Accumulator: AnyObject {
    /// Makes room for `groupCount` groups.
    func resize(_ groupCount: Int)
    /// Folds `input` (nil for count(*)) into the groups `groups[row]`.
    func update(groups: [Int32], input: Vector?, count: Int) throws
    /// Folds `other`'s group g into this accumulator's group `groupMap[g]`.
    func merge(_ other: any Accumulator, groupMap: [Int32]) throws
    func result(groups: Range<Int>) throws -> Vector
    var memoryBytes: Int { get }
    /// Forgets per-dictionary caches (called between scan units).
    func resetDictionaryCache()
}

extension Accumulator {
    func resetDictionaryCache() {}
}

/// `mergeThreads`: how many threads an accumulator may use to merge partials (DISTINCT sets
/// merge partition by partition in parallel).
func makeAccumulator(_ aggregate: BoundAggregate, mergeThreads: Int = 1) -> any Accumulator {
    if aggregate.distinct { return DistinctAccumulator(aggregate, mergeThreads: mergeThreads) }
    switch aggregate.kind {
    case .countStar, .count: return CountAccumulator(countsNulls: aggregate.kind == .countStar)
    case .avg:
        if aggregate.argument?.type == .double { return DoubleSumAccumulator(isAverage: true) }
        return IntegerSumAccumulator(isAverage: true)
    case .sum:
        if aggregate.argument?.type == .double { return DoubleSumAccumulator(isAverage: false) }
        return IntegerSumAccumulator(isAverage: false)
    case .min, .max:
        return MinMaxAccumulator(type: aggregate.type, isMax: aggregate.kind == .max)
    case .approxCountDistinct:
        return ApproxDistinctAccumulator()
    }
}

final class CountAccumulator: Accumulator {
    private var counts: [Int64] = []
    private let countsNulls: Bool

    init(countsNulls: Bool) { self.countsNulls = countsNulls }

    func resize(_ groupCount: Int) {
        if counts.count < groupCount { counts.append(contentsOf: repeatElement(0, count: groupCount - counts.count)) }
    }

    func update(groups: [Int32], input: Vector?, count: Int) throws {
        if !countsNulls, let input, input.type == .null { return }
        // Rows counted: all of them (count(*), or no NULL in this batch), else the valid ones.
        let u = countsNulls ? nil : input?.unified
        // One group (no GROUP BY): every id is 0, so count(*) adds the batch size.
        if u?.validity == nil, counts.count == 1 {
            counts[0] &+= Int64(count)
            return
        }
        groups.withUnsafeBufferPointer { groups in
            counts.withUnsafeMutableBufferPointer { counts in
                guard let validity = u?.validity else {
                    Self.countRows(groups, count: count, into: counts)
                    return
                }
                validity.withUnsafeBufferPointer { validity in
                    if let indices = u?.indices {
                        indices.withUnsafeBufferPointer { indices in
                            for row in 0..<count {
                                counts[Int(groups[row])] &+= Int64(validity[Int(indices[row])])
                            }
                        }
                    } else {
                        for row in 0..<count { counts[Int(groups[row])] &+= Int64(validity[row]) }
                    }
                }
            }
        }
    }

    /// Adds `rows` to the count of `group` (resized to hold it).
    func add(_ rows: Int64, toGroup group: Int) {
        counts[group] &+= rows
    }

    /// `counts[groups[row]] += 1` for each row. With few groups (GROUP BY status) the plain
    /// loop waits on its own previous store to the same counter every row; four interleaved
    /// sets of counters (row i adds to set i % 4) let four additions run at once.
    static func countRows(_ groups: UnsafeBufferPointer<Int32>, count: Int, into counts: UnsafeMutableBufferPointer<Int64>) {
        precondition(groups.count >= count, "a group id per row")
        let groupCount = counts.count
        guard groupCount <= 64, count >= 64 else {
            for row in 0..<count { counts[Int(groups[row])] &+= 1 }
            return
        }
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: groupCount * 4) { sets in
            sets.initialize(repeating: 0)
            addInterleaved(groups, count: count, into: sets)
            for group in 0..<groupCount {
                counts[group] &+= sets[group &* 4] &+ sets[group &* 4 &+ 1] &+ sets[group &* 4 &+ 2] &+ sets[group &* 4 &+ 3]
            }
        }
    }

    /// `sets[keys[row] * 4 + row % 4] += 1` for each row: four counter sets per key, so
    /// neighbouring rows with the same key do not wait on each other's stores. The caller sums
    /// a key's four sets.
    static func addInterleaved<Key: FixedWidthInteger>(_ keys: UnsafeBufferPointer<Key>, count: Int,
                                                       into sets: UnsafeMutableBufferPointer<Int64>) {
        precondition(keys.count >= count, "a key per row")
        var row = 0
        while row + 4 <= count {
            sets[Int(keys[row]) &* 4] &+= 1
            sets[Int(keys[row &+ 1]) &* 4 &+ 1] &+= 1
            sets[Int(keys[row &+ 2]) &* 4 &+ 2] &+= 1
            sets[Int(keys[row &+ 3]) &* 4 &+ 3] &+= 1
            row &+= 4
        }
        while row < count {
            sets[Int(keys[row]) &* 4] &+= 1
            row &+= 1
        }
    }

    func merge(_ other: any Accumulator, groupMap: [Int32]) throws {
        let other = other as! CountAccumulator
        for (group, value) in other.counts.enumerated() { counts[Int(groupMap[group])] &+= value }
    }

    func result(groups: Range<Int>) -> Vector {
        Vector(type: .bigint, buffer: .int64(Array(counts[groups])), validity: nil, count: groups.count)
    }

    var memoryBytes: Int { counts.capacity * 8 }
}

/// sum and avg of BIGINT: 128-bit sums, which cannot overflow below 2^64 rows.
final class IntegerSumAccumulator: Accumulator {
    private var sums: [Int128] = []
    private var counts: [Int64] = []
    private let isAverage: Bool

    init(isAverage: Bool) { self.isAverage = isAverage }

    func resize(_ groupCount: Int) {
        if sums.count < groupCount {
            sums.append(contentsOf: repeatElement(0, count: groupCount - sums.count))
            counts.append(contentsOf: repeatElement(0, count: groupCount - counts.count))
        }
    }

    func update(groups: [Int32], input: Vector?, count: Int) throws {
        guard let input, case .int64(let values) = input.buffer else { return }
        let u = input.unified
        let indices = u.indices ?? []
        let flat = u.indices == nil
        let validity = u.validity
        values.withUnsafeBufferPointer { values in
            groups.withUnsafeBufferPointer { groups in
                sums.withUnsafeMutableBufferPointer { sums in
                    counts.withUnsafeMutableBufferPointer { counts in
                        if flat && validity == nil {
                            // The common case (a column without NULLs in this batch): no branch per row.
                            for row in 0..<count {
                                let group = Int(groups[row])
                                sums[group] &+= Int128(values[row])
                                counts[group] &+= 1
                            }
                            return
                        }
                        for row in 0..<count {
                            let index = flat ? row : Int(indices[row])
                            if let validity, validity[index] == 0 { continue }
                            let group = Int(groups[row])
                            sums[group] &+= Int128(values[index])
                            counts[group] &+= 1
                        }
                    }
                }
            }
        }
    }

    func merge(_ other: any Accumulator, groupMap: [Int32]) throws {
        let other = other as! IntegerSumAccumulator
        for group in 0..<other.sums.count where other.counts[group] > 0 {
            let target = Int(groupMap[group])
            sums[target] &+= other.sums[group]
            counts[target] &+= other.counts[group]
        }
    }

    func result(groups: Range<Int>) throws -> Vector {
        var builder = VectorBuilder(type: isAverage ? .double : .bigint, capacity: groups.count)
        for group in groups {
            if counts[group] == 0 {
                builder.appendNull()
            } else if isAverage {
                builder.append(.double(Self.average(sums[group], count: counts[group])))
            } else {
                builder.append(.int64(try Self.bigint(sum: sums[group])))
            }
        }
        return builder.build()
    }

    /// A BIGINT sum, or the error DuckDB users expect to work around with a cast.
    static func bigint(sum: Int128) throws -> Int64 {
        guard let value = Int64(exactly: sum) else {
            throw QueryError(.outOfRange, "sum of BIGINT is \(sum), outside BIGINT's 64-bit range (DuckDB widens it to "
                                 + "HUGEINT, which this engine does not have); cast the argument to DOUBLE")
        }
        return value
    }

    /// sum / count rounded once when the sum is exact as a double (the usual case, the same
    /// digits as DuckDB's division); for larger sums the integer quotient plus the fraction
    /// of the remainder, so cancelling huge values still average right.
    static func average(_ sum: Int128, count: Int64) -> Double {
        if sum.magnitude < (1 << 53) { return Double(sum) / Double(count) }
        let divisor = Int128(count)
        return Double(sum / divisor) + Double(sum % divisor) / Double(count)
    }

    var memoryBytes: Int { sums.capacity * 16 + counts.capacity * 8 }
}

final class DoubleSumAccumulator: Accumulator {
    private var sums: [Double] = []
    private var counts: [Int64] = []
    private let isAverage: Bool

    init(isAverage: Bool) { self.isAverage = isAverage }

    func resize(_ groupCount: Int) {
        if sums.count < groupCount {
            sums.append(contentsOf: repeatElement(0, count: groupCount - sums.count))
            counts.append(contentsOf: repeatElement(0, count: groupCount - counts.count))
        }
    }

    func update(groups: [Int32], input: Vector?, count: Int) throws {
        guard let input else { return }
        switch input.buffer {
        case .double(let values):
            values.withUnsafeBufferPointer { fold(groups, $0, input.unified, count) { $0 } }
        case .int64(let values):
            values.withUnsafeBufferPointer { fold(groups, $0, input.unified, count) { Double($0) } }
        default:
            return
        }
    }

    /// The row loop on pointers (no per-row array uniqueness checks), specialised per type.
    @inline(__always)
    private func fold<T>(_ groups: [Int32], _ values: UnsafeBufferPointer<T>, _ u: UnifiedFormat, _ count: Int,
                         _ toDouble: (T) -> Double) {
        let indices = u.indices ?? []
        let flat = u.indices == nil
        let validity = u.validity ?? []
        let hasValidity = u.validity != nil
        groups.withUnsafeBufferPointer { groups in
            indices.withUnsafeBufferPointer { indices in
                validity.withUnsafeBufferPointer { validity in
                    sums.withUnsafeMutableBufferPointer { sums in
                        counts.withUnsafeMutableBufferPointer { counts in
                            for row in 0..<count {
                                let index = flat ? row : Int(indices[row])
                                if hasValidity && validity[index] == 0 { continue }
                                let group = Int(groups[row])
                                sums[group] += toDouble(values[index])
                                counts[group] &+= 1
                            }
                        }
                    }
                }
            }
        }
    }

    func merge(_ other: any Accumulator, groupMap: [Int32]) throws {
        let other = other as! DoubleSumAccumulator
        for group in 0..<other.sums.count where other.counts[group] > 0 {
            sums[Int(groupMap[group])] += other.sums[group]
            counts[Int(groupMap[group])] &+= other.counts[group]
        }
    }

    func result(groups: Range<Int>) -> Vector {
        var builder = VectorBuilder(type: .double, capacity: groups.count)
        for group in groups {
            if counts[group] == 0 {
                builder.appendNull()
            } else {
                builder.append(.double(isAverage ? sums[group] / Double(counts[group]) : sums[group]))
            }
        }
        return builder.build()
    }

    var memoryBytes: Int { sums.capacity * 16 }
}

final class MinMaxAccumulator: Accumulator {
    private let type: LogicalType
    private let isMax: Bool
    private var values: [Value] = []
    /// VARCHAR bests as bytes, so rows that do not win allocate nothing.
    private var strings: [[UInt8]?] = []

    /// A storage dictionary's entries in byte order (`rankOf[entry]`, -1 for the NULL entry),
    /// so rows of a dictionary-encoded VARCHAR compare integer ranks instead of bytes. The
    /// best rank per group is held in `bestRank` until the dictionary changes (a new scan
    /// unit), then its bytes are offered to `strings` once per group touched.
    private struct RankedDictionary {
        var token: DictionaryToken
        var column: StringColumn
        var rankOf: [Int32]
        var entryOfRank: [Int32]
    }
    private var ranked: RankedDictionary?
    private var bestRank: [Int32] = []
    private var touchedGroups: [Int32] = []
    /// Dictionaries larger than this are compared row by row: sorting them would cost more
    /// than the rows save.
    static let rankedEntriesMax = 4096

    init(type: LogicalType, isMax: Bool) {
        self.type = type
        self.isMax = isMax
    }

    func resize(_ groupCount: Int) {
        if type == .varchar {
            if strings.count < groupCount { strings.append(contentsOf: repeatElement(nil, count: groupCount - strings.count)) }
            if bestRank.count < groupCount { bestRank.append(contentsOf: repeatElement(-1, count: groupCount - bestRank.count)) }
        } else if values.count < groupCount {
            values.append(contentsOf: repeatElement(.null, count: groupCount - values.count))
        }
    }

    @inline(__always)
    private func better(_ candidate: Value, than current: Value) -> Bool {
        if current.isNull { return true }
        guard let order = candidate.compare(to: current) else { return false }
        return isMax ? order > 0 : order < 0
    }

    private func offer(_ candidate: UnsafeBufferPointer<UInt8>, group: Int) {
        if let current = strings[group] {
            let order = current.withUnsafeBufferPointer { compareByteBuffers(candidate, $0) }
            if isMax ? order <= 0 : order >= 0 { return }
        }
        strings[group] = Array(candidate)
    }

    func update(groups: [Int32], input: Vector?, count: Int) throws {
        guard let input, input.type != .null else { return }
        let u = input.unified
        let indices = u.indices ?? []
        let flat = u.indices == nil
        let validity = u.validity
        switch input.buffer {
        case .int64(let raw):
            for row in 0..<count {
                let index = flat ? row : Int(indices[row])
                if let validity, validity[index] == 0 { continue }
                let group = Int(groups[row])
                let value = raw[index]
                switch values[group] {
                case .int64(let current), .timestamp(let current):
                    if isMax ? value > current : value < current {
                        values[group] = type == .timestamp ? .timestamp(value) : .int64(value)
                    }
                default:
                    values[group] = type == .timestamp ? .timestamp(value) : .int64(value)
                }
            }
        case .string(let column) where Self.canRank(input):
            guard case .dictionary(let codes) = input.encoding, let token = input.dictionaryToken else { return }
            if ranked?.token !== token { rank(column, token: token, validity: input.validity) }
            let rankOf = ranked!.rankOf
            let isMax = self.isMax
            var touched = touchedGroups
            touchedGroups = []
            groups.withUnsafeBufferPointer { groups in
                codes.withUnsafeBufferPointer { codes in
                    rankOf.withUnsafeBufferPointer { rankOf in
                        bestRank.withUnsafeMutableBufferPointer { best in
                            for row in 0..<count {
                                let rank = rankOf[Int(codes[row])]
                                if rank < 0 { continue }
                                let group = Int(groups[row])
                                let current = best[group]
                                if current < 0 {
                                    touched.append(Int32(group))
                                    best[group] = rank
                                } else if isMax ? rank > current : rank < current {
                                    best[group] = rank
                                }
                            }
                        }
                    }
                }
            }
            touchedGroups = touched
        case .string(let column):
            column.bytes.withUnsafeBufferPointer { bytes in
                let offsets = column.offsets
                for row in 0..<count {
                    let index = flat ? row : Int(indices[row])
                    if let validity, validity[index] == 0 { continue }
                    offer(UnsafeBufferPointer(rebasing: bytes[Int(offsets[index])..<Int(offsets[index + 1])]),
                          group: Int(groups[row]))
                }
            }
        default:
            for row in 0..<count where !input.isNull(row) {
                let group = Int(groups[row])
                let candidate = input.value(at: row)
                if better(candidate, than: values[group]) { values[group] = candidate }
            }
        }
    }

    private static func canRank(_ input: Vector) -> Bool {
        guard case .dictionary = input.encoding, input.dictionaryToken != nil else { return false }
        return input.buffer.count <= rankedEntriesMax
    }

    /// Sorts the entries of a new storage dictionary, after handing the previous one's
    /// per-group bests over to `strings`.
    private func rank(_ column: StringColumn, token: DictionaryToken, validity: [UInt8]?) {
        flushRanked()
        let entryCount = column.offsets.count - 1
        var entries = (0..<Int32(entryCount)).filter { validity == nil || validity![Int($0)] != 0 }
        column.bytes.withUnsafeBufferPointer { bytes in
            column.offsets.withUnsafeBufferPointer { offsets in
                func entryBytes(_ entry: Int32) -> UnsafeBufferPointer<UInt8> {
                    UnsafeBufferPointer(rebasing: bytes[Int(offsets[Int(entry)])..<Int(offsets[Int(entry) + 1])])
                }
                entries.sort { compareByteBuffers(entryBytes($0), entryBytes($1)) < 0 }
            }
        }
        var rankOf = [Int32](repeating: -1, count: entryCount)
        for (rank, entry) in entries.enumerated() { rankOf[Int(entry)] = Int32(rank) }
        ranked = RankedDictionary(token: token, column: column, rankOf: rankOf, entryOfRank: entries)
    }

    /// Offers each touched group's best ranked entry to `strings` and clears the ranks.
    private func flushRanked() {
        guard let ranked, !touchedGroups.isEmpty else { return }
        ranked.column.bytes.withUnsafeBufferPointer { bytes in
            let offsets = ranked.column.offsets
            for group in touchedGroups {
                let entry = Int(ranked.entryOfRank[Int(bestRank[Int(group)])])
                offer(UnsafeBufferPointer(rebasing: bytes[Int(offsets[entry])..<Int(offsets[entry + 1])]), group: Int(group))
                bestRank[Int(group)] = -1
            }
        }
        touchedGroups.removeAll(keepingCapacity: true)
    }

    func resetDictionaryCache() {
        flushRanked()
        ranked = nil
    }

    func merge(_ other: any Accumulator, groupMap: [Int32]) throws {
        let other = other as! MinMaxAccumulator
        other.flushRanked()
        flushRanked()
        for (group, bytes) in other.strings.enumerated() {
            if let bytes { bytes.withUnsafeBufferPointer { offer($0, group: Int(groupMap[group])) } }
        }
        for (group, value) in other.values.enumerated() where !value.isNull {
            let target = Int(groupMap[group])
            if better(value, than: values[target]) { values[target] = value }
        }
    }

    func result(groups: Range<Int>) -> Vector {
        flushRanked()
        var builder = VectorBuilder(type: type, capacity: groups.count)
        for group in groups {
            if type == .varchar {
                if let bytes = strings[group] { builder.append(.string(String(decoding: bytes, as: UTF8.self))) } else {
                    builder.appendNull()
                }
            } else {
                builder.append(values[group])
            }
        }
        return builder.build()
    }

    var memoryBytes: Int {
        values.capacity * 24 + strings.capacity * 8 + strings.reduce(0) { $0 + ($1?.capacity ?? 0) + 32 }
            + bestRank.capacity * 4
    }
}

final class ApproxDistinctAccumulator: Accumulator {
    private var sketches: [HyperLogLog] = []

    func resize(_ groupCount: Int) {
        if sketches.count < groupCount {
            sketches.append(contentsOf: repeatElement(HyperLogLog(), count: groupCount - sketches.count))
        }
    }

    func update(groups: [Int32], input: Vector?, count: Int) throws {
        guard let input, input.type != .null else { return }
        if case .dictionary(let indices) = input.encoding, input.buffer.count <= count {
            // Hash each dictionary entry once, then look the hash up per row.
            let entries = Vector(type: input.type, buffer: input.buffer, validity: input.validity, encoding: .flat,
                                 count: input.buffer.count)
            let entryHashes = (0..<entries.count).map { hashValue(entries, row: $0) }
            for row in 0..<count where !input.isNull(row) {
                sketches[Int(groups[row])].insert(entryHashes[Int(indices[row])])
            }
            return
        }
        if case .string(let strings) = input.buffer {
            let u = input.unified
            let rowIndices = u.indices ?? []
            let flat = u.indices == nil
            let validity = u.validity
            strings.bytes.withUnsafeBufferPointer { bytes in
                let offsets = strings.offsets
                for row in 0..<count {
                    let index = flat ? row : Int(rowIndices[row])
                    if let validity, validity[index] == 0 { continue }
                    let value = UnsafeBufferPointer(rebasing: bytes[Int(offsets[index])..<Int(offsets[index + 1])])
                    sketches[Int(groups[row])].insert(hashBytes(value))
                }
            }
            return
        }
        for row in 0..<count where !input.isNull(row) {
            sketches[Int(groups[row])].insert(hashValue(input, row: row))
        }
    }

    private func hashValue(_ vector: Vector, row: Int) -> UInt64 {
        let index = vector.bufferIndex(row)
        switch vector.buffer {
        case .int64(let values): return mixHash(UInt64(bitPattern: values[index]))
        case .double(let values):
            var value = values[index]
            if value == 0 { value = 0 }
            return mixHash(value.bitPattern ^ 0x5555_5555_5555_5555)
        case .bool(let values): return mixHash(UInt64(values[index]) &+ 0x1234_5678)
        case .string(let strings): return strings.withBytes(at: index) { hashBytes($0) }
        case .none: return 0
        }
    }

    func merge(_ other: any Accumulator, groupMap: [Int32]) throws {
        let other = other as! ApproxDistinctAccumulator
        for (group, sketch) in other.sketches.enumerated() { sketches[Int(groupMap[group])].merge(sketch) }
    }

    func result(groups: Range<Int>) -> Vector {
        Vector(type: .bigint, buffer: .int64(groups.map { Int64(sketches[$0].estimate) }), validity: nil,
               count: groups.count)
    }

    var memoryBytes: Int { sketches.reduce(sketches.capacity * 32) { $0 + $1.memoryBytes } }
}

/// HyperLogLog with 2^14 registers (standard error about 0.8%), kept exact as a set of
/// hashes while small so small groups cost little memory and report exact counts.
struct HyperLogLog {
    static let precision = 14
    static let registerCount = 1 << precision
    static let sparseLimit = 1024

    private var sparse: Set<UInt64>? = []
    private var registers: [UInt8] = []

    mutating func insert(_ hash: UInt64) {
        if sparse != nil {
            sparse!.insert(hash)
            if sparse!.count > HyperLogLog.sparseLimit { densify() }
            return
        }
        insertDense(hash)
    }

    private mutating func insertDense(_ hash: UInt64) {
        let index = Int(hash >> UInt64(64 - HyperLogLog.precision))
        let rest = (hash << UInt64(HyperLogLog.precision)) | (1 << UInt64(HyperLogLog.precision - 1))
        let rank = UInt8(rest.leadingZeroBitCount + 1)
        if rank > registers[index] { registers[index] = rank }
    }

    private mutating func densify() {
        registers = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        let hashes = sparse ?? []
        sparse = nil
        for hash in hashes { insertDense(hash) }
    }

    mutating func merge(_ other: HyperLogLog) {
        if let otherSparse = other.sparse {
            for hash in otherSparse { insert(hash) }
            return
        }
        if sparse != nil { densify() }
        for index in 0..<HyperLogLog.registerCount where other.registers[index] > registers[index] {
            registers[index] = other.registers[index]
        }
    }

    var estimate: Int {
        if let sparse { return sparse.count }
        let m = Double(HyperLogLog.registerCount)
        var sum = 0.0
        var zeros = 0
        for register in registers {
            sum += 1.0 / Double(UInt64(1) << UInt64(register))
            if register == 0 { zeros += 1 }
        }
        let alpha = 0.7213 / (1 + 1.079 / m)
        let raw = alpha * m * m / sum
        // Linear counting is the more accurate estimate until about 3m distinct values.
        if zeros > 0 {
            let linear = m * log(m / Double(zeros))
            if linear <= 3 * m { return Int(linear.rounded()) }
        }
        return Int(raw.rounded())
    }

    var memoryBytes: Int { (sparse?.capacity ?? 0) * 16 + registers.capacity }
}

#if canImport(Glibc)
import ColumnStore
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
