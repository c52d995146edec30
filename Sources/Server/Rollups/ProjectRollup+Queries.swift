import Dispatch
import Synchronization

/// The counts charts need, over any `[from, to)`: whole hours from the aggregates, the at
/// most two hours cut by the range's edges from their entries. Caller holds the read lock.
extension ProjectRollup {
    /// Calls `whole` for each chunk whose hour lies inside `[from, to)` and `partial` for a
    /// chunk the range cuts.
    @inline(__always)
    func forEachHour(from: Int64, to: Int64, whole: (Int) -> Void, partial: (Int) -> Void) {
        guard from < to, !chunks.isEmpty else { return }
        let first = max(Self.floorDivide(from, Self.microsPerHour), baseHour)
        let last = min(Self.floorDivide(to - 1, Self.microsPerHour), baseHour + Int64(chunks.count) - 1)
        guard first <= last else { return }
        for hour in first...last {
            let index = Int(hour - baseHour)
            let start = hour * Self.microsPerHour
            if start >= from && start + Self.microsPerHour <= to { whole(index) } else { partial(index) }
        }
    }

    /// Events in range (every kind).
    func eventCount(from: Int64, to: Int64) -> Int64 {
        var total: Int64 = 0
        forEachHour(from: from, to: to, whole: { total += Int64(chunks[$0].times.count) }, partial: { index in
            for time in chunks[index].times where time >= from && time < to { total += 1 }
        })
        return total
    }

    func deactivationCount(from: Int64, to: Int64) -> Int64 {
        var total: Int64 = 0
        forEachHour(from: from, to: to, whole: { total += chunks[$0].deactivations }, partial: { index in
            let chunk = chunks[index]
            for entry in chunk.times.indices where chunk.kinds[entry] == Kind.deactivate.rawValue {
                if chunk.times[entry] >= from && chunk.times[entry] < to { total += 1 }
            }
        })
        return total
    }

    /// Distinct sites with a `track` event (or, `skips`, distinct counted skip hashes) in
    /// range: whole days from the day bitmaps, the rest hour by hour.
    func distinctCount(skips: Bool, from: Int64, to: Int64) -> Int64 {
        guard from < to, !chunks.isEmpty else { return 0 }
        var union = IDUnion(idCount: skips ? hashCount : siteCount)
        let microsPerDay = 24 * Self.microsPerHour
        let days = skips ? daySkipHashes : dayTrackSites
        var day = Self.floorDivide(max(from, baseHour * Self.microsPerHour), microsPerDay)
        let dayLast = Self.floorDivide(min(to, (baseHour + Int64(chunks.count)) * Self.microsPerHour) - 1, microsPerDay)
        while day <= dayLast {
            let dayStart = day * microsPerDay, dayEnd = dayStart + microsPerDay
            if dayStart >= from && dayEnd <= to {
                if let bitmap = days[day] { union.formUnion(bitmap) }
            } else {
                forEachHour(from: max(from, dayStart), to: min(to, dayEnd), whole: { index in
                    for id in skips ? chunks[index].countedSkipHashes : chunks[index].trackSites { union.insert(id) }
                }, partial: { index in
                    let chunk = chunks[index]
                    if skips {
                        for entry in chunk.skipTimes.indices where chunk.skipTimes[entry] >= from && chunk.skipTimes[entry] < to {
                            union.insert(chunk.skipHashes[entry])
                        }
                    } else {
                        for entry in chunk.times.indices where chunk.kinds[entry] == Kind.track.rawValue && chunk.sites[entry] != Self.noSite {
                            if chunk.times[entry] >= from && chunk.times[entry] < to { union.insert(chunk.sites[entry]) }
                        }
                    }
                })
            }
            day += 1
        }
        return Int64(union.count)
    }

    /// `distinctCount` of one time-series bucket; whole week and month buckets are cached.
    func distinctCount(skips: Bool, interval: BucketInterval, bucketStart: Int64, from: Int64, to: Int64) -> Int64 {
        let bucketEnd = interval.next(after: bucketStart)
        let whole = bucketStart >= from && bucketEnd <= to
        if whole && interval == .day {
            // A whole day is its bitmap, whose size is kept as ids are inserted.
            let day = Self.floorDivide(bucketStart, 24 * Self.microsPerHour)
            return Int64((skips ? daySkipHashes[day] : dayTrackSites[day])?.count ?? 0)
        }
        if whole && interval == .hour {
            guard let index = chunkIndex(hour: Self.floorDivide(bucketStart, Self.microsPerHour)) else { return 0 }
            return Int64(skips ? chunks[index].countedSkipHashes.count : chunks[index].trackSites.count)
        }
        guard whole, interval == .week || interval == .month else {
            return distinctCount(skips: skips, from: max(from, bucketStart), to: min(to, bucketEnd))
        }
        let key = BucketCacheKey(skips: skips, interval: interval, start: bucketStart)
        if let cached = bucketCountCache.withLock({ $0[key] }) { return cached }
        let count = distinctCount(skips: skips, from: bucketStart, to: bucketEnd)
        bucketCountCache.withLock { $0[key] = count }
        return count
    }

    /// Events (or deactivations) per code of one dimension in range, indexed by code.
    func dimensionCounts(dimension: Int, deactivationsOnly: Bool, from: Int64, to: Int64) -> [Int64] {
        var counts = [Int64](repeating: 0, count: dimensions[dimension].values.count)
        forEachHour(from: from, to: to, whole: { index in
            // Hours padded in between events have no aggregates at all.
            guard !chunks[index].dimensionCounts.isEmpty else { return }
            let perCode = chunks[index].dimensionCounts[dimension]
            let source = deactivationsOnly ? perCode.deactivations : perCode.events
            for slot in perCode.codes.indices { counts[Int(perCode.codes[slot])] += Int64(source[slot]) }
        }, partial: { index in
            let chunk = chunks[index]
            for entry in chunk.times.indices where chunk.times[entry] >= from && chunk.times[entry] < to {
                if deactivationsOnly && chunk.kinds[entry] != Kind.deactivate.rawValue { continue }
                counts[Int(states.code(state: chunk.states[entry], dimension: dimension))] += 1
            }
        })
        return counts
    }

    /// `distinctPerCode` of one time-series bucket; whole day, week and month buckets are
    /// cached (counts of past buckets do not change until a commit touches their days).
    func distinctPerCode(skips: Bool, dimension: Int, interval: BucketInterval, bucketStart: Int64, from: Int64, to: Int64) -> [Int64] {
        let bucketEnd = interval.next(after: bucketStart)
        let low = max(from, bucketStart), high = min(to, bucketEnd)
        guard bucketStart >= from && bucketEnd <= to, interval != .hour else {
            return distinctPerCode(skips: skips, dimension: dimension, from: low, to: high)
        }
        let key = BucketCacheKey(skips: skips, interval: interval, start: bucketStart, dimension: dimension)
        let codeCount = dimensions[dimension].values.count
        if let cached = bucketPerCodeCache.withLock({ $0[key] }), cached.count == codeCount { return cached }
        // A whole bucket is counted once and cached as counts: no day span kept for it.
        let counts = distinctPerCode(skips: skips, dimension: dimension, from: low, to: high, daySpans: false)
        bucketPerCodeCache.withLock { cache in
            if cache.count >= Self.bucketPerCodeCacheEntriesMax { cache.removeAll(keepingCapacity: true) }
            cache[key] = counts
        }
        return counts
    }

    /// Distinct sites with a `track` event (or, `skips`, distinct counted skip hashes) per
    /// code of one dimension in range (a site whose value changed counts under each of its
    /// values), indexed by code. The whole days inside the range are a cached `DaySpanPairs`;
    /// only the hours before the first and after the last whole day are walked here.
    func distinctPerCode(skips: Bool, dimension: Int, from: Int64, to: Int64, daySpans: Bool = true) -> [Int64] {
        let codeCount = dimensions[dimension].values.count
        let microsPerDay = 24 * Self.microsPerHour
        // Days wholly inside `[from, to)`: `firstDay..<endDay`.
        let firstDay = Self.floorDivide(from, microsPerDay) + (from % microsPerDay == 0 ? 0 : 1), endDay = Self.floorDivide(to, microsPerDay)
        guard daySpans, from < to, endDay > firstDay else {
            var pairs = PairCounter(idCount: skips ? hashCount : siteCount, codeCount: codeCount, base: nil)
            forEachPair(skips: skips, dimension: dimension, from: from, to: to) { pairs.add($0, $1) }
            return pairs.counts
        }
        let span = daySpanPairs(skips: skips, dimension: dimension, firstDay: firstDay, endDay: endDay)
        var pairs = PairCounter(idCount: skips ? hashCount : siteCount, codeCount: codeCount, base: span)
        forEachPair(skips: skips, dimension: dimension, from: from, to: firstDay * microsPerDay) { pairs.add($0, $1) }
        forEachPair(skips: skips, dimension: dimension, from: endDay * microsPerDay, to: to) { pairs.add($0, $1) }
        return pairs.counts
    }

    /// The distinct (id, code) pairs of the whole days `firstDay..<endDay`, from
    /// `daySpanCache` or counted and cached. A range shifting by an hour per request asks for
    /// a span one day longer or shorter once a day: the longest cached span inside the asked
    /// one is its base, and only the days it lacks are walked.
    func daySpanPairs(skips: Bool, dimension: Int, firstDay: Int64, endDay: Int64) -> DaySpanPairs {
        let key = DaySpanKey(skips: skips, dimension: dimension, firstDay: firstDay, endDay: endDay)
        let (cached, inner) = daySpanCache.withLock { cache -> (DaySpanPairs?, (key: DaySpanKey, value: DaySpanPairs)?) in
            if let cached = cache[key] { return (cached, nil) }
            let inside = cache.filter { $0.key.skips == skips && $0.key.dimension == dimension && $0.key.firstDay >= firstDay && $0.key.endDay <= endDay }
            return (nil, inside.max { $0.key.endDay - $0.key.firstDay < $1.key.endDay - $1.key.firstDay })
        }
        if let cached { return cached }
        let microsPerDay = 24 * Self.microsPerHour
        var pairs = PairCounter(idCount: skips ? hashCount : siteCount, codeCount: dimensions[dimension].values.count, base: inner?.value)
        let (innerFirst, innerEnd) = inner.map { ($0.key.firstDay, $0.key.endDay) } ?? (endDay, endDay)
        forEachPair(skips: skips, dimension: dimension, from: firstDay * microsPerDay, to: innerFirst * microsPerDay) { pairs.add($0, $1) }
        forEachPair(skips: skips, dimension: dimension, from: innerEnd * microsPerDay, to: endDay * microsPerDay) { pairs.add($0, $1) }
        let span = DaySpanPairs(pairs)
        daySpanCache.withLock { cache in
            if cache.count >= Self.daySpanCacheEntriesMax, let oldest = cache.min(by: { $0.value.createdNanos < $1.value.createdNanos }) {
                cache[oldest.key] = nil
            }
            cache[key] = span
        }
        return span
    }

    /// Calls `body` with the (site id, code) of every `track` entry with a site (or, `skips`,
    /// the (hash id, code) of every counted skip) in `[from, to)`, hour by hour; pairs repeat.
    @inline(__always)
    func forEachPair(skips: Bool, dimension: Int, from: Int64, to: Int64, _ body: (UInt32, UInt16) -> Void) {
        let track = Kind.track.rawValue
        stateColumns[dimension].withUnsafeBufferPointer { stateCodes in
            func visit(_ index: Int, _ filter: Bool) {
                let chunk = chunks[index]
                if skips {
                    for entry in chunk.skipTimes.indices {
                        if filter && !(chunk.skipTimes[entry] >= from && chunk.skipTimes[entry] < to) { continue }
                        body(chunk.skipHashes[entry], stateCodes[Int(chunk.skipStates[entry])])
                    }
                    return
                }
                // The hot loop of a series of weekly sites by version: plain pointers, no
                // per-entry access to `self` or to captured arrays.
                chunk.times.withUnsafeBufferPointer { times in
                    chunk.sites.withUnsafeBufferPointer { sites in
                        chunk.states.withUnsafeBufferPointer { states in
                            chunk.kinds.withUnsafeBufferPointer { kinds in
                                for entry in 0..<times.count where kinds[entry] == track {
                                    let site = sites[entry]
                                    if site == Self.noSite || (filter && !(times[entry] >= from && times[entry] < to)) { continue }
                                    body(site, stateCodes[Int(states[entry])])
                                }
                            }
                        }
                    }
                }
            }
            forEachHour(from: from, to: to, whole: { visit($0, false) }, partial: { visit($0, true) })
        }
    }

    /// Sites whose latest event in `[from, to)` is `track`: their number, and per code of
    /// `dimension` (if given) the number whose latest event has that value ("Latest events"
    /// atop `ProjectRollup.swift`): (a) the hours' aggregates of entries that are their site's
    /// newest, the edge hours' entries checked one by one, then (b) the previous `track`
    /// event, if in range, of every event at or after `to`. Only while ties are decidable
    /// (callers check `tiesAmbiguous`).
    func latestTrackSites(from: Int64, to: Int64, dimension: Int?) -> (total: Int64, perCode: [Int64]) {
        var perCode = [Int64](repeating: 0, count: dimension.map { dimensions[$0].values.count } ?? 0)
        guard from < to, !chunks.isEmpty else { return (0, perCode) }
        var total: Int64 = 0
        let codeOfState = dimension.map { stateColumns[$0] } ?? []
        let track = Kind.track.rawValue
        // (a) Entries in range that are their site's newest.
        forEachHour(from: from, to: to, whole: { index in
            total &+= Int64(chunks[index].newestTrack)
            guard let dimension, !chunks[index].newestTrackCounts.isEmpty else { return }
            let counts = chunks[index].newestTrackCounts[dimension]
            for slot in counts.codes.indices { perCode[Int(counts.codes[slot])] &+= Int64(counts.counts[slot]) }
        }, partial: { index in
            let chunk = chunks[index]
            for entry in chunk.times.indices where chunk.times[entry] >= from && chunk.times[entry] < to && chunk.kinds[entry] == track {
                let site = chunk.sites[entry]
                guard site != Self.noSite, latestSiteTime[Int(site)] == chunk.times[entry], latestSiteEntry[Int(site)] == UInt32(entry) else { continue }
                total &+= 1
                if dimension != nil { perCode[Int(codeOfState[Int(chunk.states[entry])])] &+= 1 }
            }
        })
        // (b) Entries in range whose site's next event is at or after `to`: the previous
        // event of each event from `to` on.
        let lastHour = baseHour + Int64(chunks.count) - 1
        let firstHour = max(Self.floorDivide(to, Self.microsPerHour), baseHour)
        guard firstHour <= lastHour else { return (total, perCode) }
        for hour in firstHour...lastHour {
            let index = Int(hour - baseHour)
            let chunk = chunks[index]
            let cut = hour * Self.microsPerHour < to
            let codes = dimension.map { self.previousCodes(dimension: $0, index: index) } ?? []
            chunk.times.withUnsafeBufferPointer { times in
                chunk.previousTimes.withUnsafeBufferPointer { previousTimes in
                    codes.withUnsafeBufferPointer { previousCodes in
                        perCode.withUnsafeMutableBufferPointer { perCode in
                            for entry in 0..<previousTimes.count {
                                let previous = previousTimes[entry]
                                guard previous >= from && previous < to, !cut || times[entry] >= to else { continue }
                                total &+= 1
                                if dimension != nil { perCode[Int(previousCodes[entry])] &+= 1 }
                            }
                        }
                    }
                }
            }
        }
        return (total, perCode)
    }

    /// The code in `dimension` of each entry's `previousStates` in chunk `index` (0 where
    /// there is no previous `track`), from `previousCodesCache` or computed and cached.
    func previousCodes(dimension: Int, index: Int) -> [UInt16] {
        let chunk = chunks[index]
        let key = PreviousCodesKey(dimension: dimension, hour: baseHour + Int64(index))
        if let cached = previousCodesCache.withLock({ $0.entries[key] }), cached.generation == chunk.linkGeneration,
           cached.codes.count == chunk.times.count {
            return cached.codes
        }
        let codes = stateColumns[dimension].withUnsafeBufferPointer { codeOfState in
            chunk.previousTimes.withUnsafeBufferPointer { previousTimes in
                chunk.previousStates.withUnsafeBufferPointer { previousStates in
                    (0..<previousTimes.count).map { entry in
                        previousTimes[entry] == Self.noPrevious ? 0 : codeOfState[Int(previousStates[entry])]
                    }
                }
            }
        }
        previousCodesCache.withLock { cache in
            if cache.bytes + 2 * codes.count > Self.previousCodesBytesMax {
                cache.entries.removeAll()
                cache.bytes = 0
            }
            cache.bytes += 2 * codes.count - 2 * (cache.entries[key]?.codes.count ?? 0)
            cache.entries[key] = (chunk.linkGeneration, codes)
        }
        return codes
    }

    /// The `received_at` of the `count`-th newest `deactivate` event in range (nil when the
    /// range holds fewer): every one of the newest `count` is at or after it.
    func newestDeactivationTime(from: Int64, to: Int64, count: Int) -> Int64? {
        guard count > 0, from < to, !chunks.isEmpty else { return nil }
        let first = max(Self.floorDivide(from, Self.microsPerHour), baseHour)
        let last = min(Self.floorDivide(to - 1, Self.microsPerHour), baseHour + Int64(chunks.count) - 1)
        guard first <= last else { return nil }
        var seen = 0
        for hour in stride(from: last, through: first, by: -1) {
            let chunk = chunks[Int(hour - baseHour)]
            if chunk.deactivations == 0 { continue }
            for entry in chunk.times.indices.reversed() where chunk.kinds[entry] == Kind.deactivate.rawValue {
                let time = chunk.times[entry]
                guard time >= from && time < to else { continue }
                seen += 1
                if seen == count { return time }
            }
        }
        return nil
    }

    /// Sites of the snapshot whose `first_seen` is in range.
    func newSiteCount(from: Int64, to: Int64) -> Int64 {
        Int64(Self.lowerBound(firstSeenSorted, to) - Self.lowerBound(firstSeenSorted, from))
    }

    static func lowerBound(_ sorted: [Int64], _ value: Int64) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) >> 1
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// Distinct (id, code) pairs of a span of whole days: per id its first code met, the pairs
/// beyond each id's first, and the count per code. Immutable once built (shared by readers).
final class DaySpanPairs: Sendable {
    static let noCode = UInt16.max
    /// Per id, the first code counted for it (`noCode`: none); ids given later read as none.
    let firstCode: [UInt16]
    /// `id << 16 | code` of the pairs beyond an id's first code.
    let extra: Set<UInt64>
    /// Distinct ids per code (codes given later read as 0).
    let counts: [Int64]
    let createdNanos = DispatchTime.now().uptimeNanoseconds

    /// The pairs `pairs` counted, with those of its base.
    init(_ pairs: PairCounter) {
        counts = pairs.counts
        guard let base = pairs.base else {
            firstCode = pairs.firstCode
            extra = pairs.extra
            return
        }
        var merged = base.firstCode
        if merged.count < pairs.firstCode.count {
            merged.append(contentsOf: repeatElement(Self.noCode, count: pairs.firstCode.count - merged.count))
        }
        var extra = base.extra.union(pairs.extra)
        // A pair counted on top of the base is not the base's: a new first code, or an extra.
        for (id, code) in pairs.firstCode.enumerated() where code != Self.noCode {
            if merged[id] == Self.noCode { merged[id] = code } else { extra.insert(UInt64(id) << 16 | UInt64(code)) }
        }
        firstCode = merged
        self.extra = extra
    }

    @inline(__always)
    func contains(_ id: UInt32, _ code: UInt16) -> Bool {
        guard Int(id) < firstCode.count else { return false }
        let first = firstCode[Int(id)]
        return first == code || (first != Self.noCode && !extra.isEmpty && extra.contains(UInt64(id) << 16 | UInt64(code)))
    }
}

/// Counts distinct (id, code) pairs per code, on top of a `DaySpanPairs` already counted
/// (`base`): most ids have one code in a range, so the first code per id is a flat array
/// and only further codes go through a set.
struct PairCounter {
    private(set) var counts: [Int64]
    private(set) var firstCode: [UInt16]
    private(set) var extra = Set<UInt64>()
    let base: DaySpanPairs?

    init(idCount: Int, codeCount: Int, base: DaySpanPairs?) {
        self.base = base
        firstCode = [UInt16](repeating: DaySpanPairs.noCode, count: idCount)
        counts = [Int64](repeating: 0, count: codeCount)
        if let base {
            for (code, count) in base.counts.prefix(codeCount).enumerated() { counts[code] = count }
        }
    }

    @inline(__always)
    mutating func add(_ id: UInt32, _ code: UInt16) {
        if let base, base.contains(id, code) { return }
        let first = firstCode[Int(id)]
        if first == DaySpanPairs.noCode {
            firstCode[Int(id)] = code
        } else if first == code || !extra.insert(UInt64(id) << 16 | UInt64(code)).inserted {
            return
        }
        counts[Int(code)] &+= 1
    }
}
