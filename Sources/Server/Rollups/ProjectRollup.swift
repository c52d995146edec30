import ColumnStore
import Core
import Foundation
import Query
import Synchronization

/// One project's materialized chart data: every event reduced to a compact entry in its UTC
/// hour, plus per-hour and per-day aggregates. Built from the committed events segments and
/// kept up to date after each compaction by `RollupStore`; answers `ChartQueries` through
/// `RollupChartQueries` in milliseconds where a scan takes hundreds.
///
/// What an hour holds (`HourChunk`):
/// - per event: `received_at`, an order-preserving 8-byte prefix of `event_id` (the tie
///   break of "latest event"), the site id, the event kind and the state (interned tuple of
///   the `RollupDimensions` codes), sorted by `(received_at, event_id prefix)`;
/// - counted skips (`skip`, `previously_skipped` not true, `site_hash` not NULL) as
///   `(received_at, site_hash id, state)`;
/// - aggregates: deactivations, the sorted distinct ids of sites with a `track` event and of
///   counted skip hashes, and per dimension the events and deactivations per code.
/// Per UTC day, the union of the hours' site and skip-hash ids as bitmaps.
///
/// Whole hours inside a range are answered from the aggregates; the partial hours at the
/// edges of a range from the entries, filtered by time, so any range is exact.
///
/// A sliding window bounds the memory (and the state file) whatever the history's length:
/// 1. after each `finish`, the hours more than `windowHours` before the newest hour with events
///    (or before two days after now, if a clock far ahead sent events) are dropped, with the
///    bitmaps of days wholly before the window, and `windowStartHour` moves to the first kept;
/// 2. events of an hour before `windowStartHour` (a late arrival) are not applied;
/// 3. `covers(from:)` says whether a question reading from an instant on is answerable: a chart
///    reaching before the window goes to the scan, which is exact (so answers never change,
///    only their cost). Nothing dropped yet: every question is covered.
///
/// Latest events ("each site's latest event before T", for `active_sites` and `breakdown`):
/// an entry e in `[T − days, T)` is its site's latest before T exactly when its site's next
/// event (in `(time, tie)` order) is at or after T, or there is none. So the counted entries
/// are (a) those in range that are their site's newest of all — per hour an aggregate,
/// `newestTrack` and per dimension `newestTrackCounts` (the `track` entries with a site that
///    are their site's newest) — plus (b) the previous event of each event at or after T, when
///    that previous event is a `track` in range: each entry holds `previousTime`/`previousState`
///    of its site's previous event (`noPrevious` when it is not a `track`, or there is none).
///    A question at "now" reads only (a); one at T in the past also walks the events after T:
/// 1. `finish` links the entries that arrived since the last `finish` in `(time, tie)` order:
///    each reads its site's newest entry (the per-site `latestSiteTime`/`latestSiteEntry`)
///    as its previous, takes that entry's place as the newest, and the hour of the replaced
///    entry loses it from its `newestTrack` aggregates;
/// 2. the hours that received entries recount their `newestTrack` aggregates;
/// 3. an arrival not after its site's newest (a late event) or a sort that moved linked
///    entries relinks every entry from scratch (one pass in hour order) and recounts every
///    hour; a build or a restore links everything once that way. Nothing is linked while ties
///    are ambiguous (those questions go to the scan).
///
/// Invariants (`ProjectRollup+Invariants.swift` recounts them; the tests check them after
/// every build and every followed commit):
/// 1. every chunk's entries are sorted by `(time, tie)` and lie inside the chunk's hour;
/// 2. the aggregates of a chunk equal a recount of its entries;
/// 3. a day bitmap is exactly the union of its hours' `trackSites` (`skipHashes`);
/// 4. unless ties are ambiguous, every entry is linked, its `previousTime`/`previousState` are
///    its site's previous entry's when that is a `track` (else `noPrevious`/0), and each hour's
///    `newestTrack` aggregates equal a recount of its entries that are their site's newest.
///
/// `@unchecked Sendable` (a reader-writer lock, which `Mutex` is not): once a rollup is
/// published in `RollupStore`'s state, its fields are written (`apply`, `finish`,
/// `markUnusable`, `firstSeenSorted`) only under `lock`'s write lock, by a refresh (refreshes
/// are serialized), and read by anything else only under its read lock (`bucketCountCache`,
/// which readers fill, is a `Mutex`). Before it is
/// published (a build from scratch), one build thread alone touches it, and the store's
/// `Mutex` publishes it after `ParallelFor.run` has joined that thread. `projectID`, `lock`
/// and `bucketCountCache` are `let`s of Sendable types.
final class ProjectRollup: @unchecked Sendable {
    enum Kind: UInt8 { case track = 0, deactivate = 1, skip = 2, other = 3 }

    /// Counts per code, codes ascending, no zero counts.
    struct CodeCounts: Equatable {
        var codes: [UInt16] = []
        var counts: [Int32] = []
    }

    struct DimensionCounts {
        var codes: [UInt16] = []
        var events: [Int32] = []
        var deactivations: [Int32] = []
    }

    struct HourChunk {
        var times: [Int64] = []
        var ties: [UInt64] = []
        var sites: [UInt32] = []
        var states: [UInt32] = []
        var kinds: [UInt8] = []
        /// Per entry, the `received_at` and state of the same site's previous event when that
        /// is a `track` (`noPrevious`/0 otherwise). Derived (never stored in the state file):
        /// see "Latest events".
        var previousTimes: [Int64] = []
        var previousStates: [UInt32] = []
        /// Entries `0..<linkedCount` are linked; the rest arrived since.
        var linkedCount = 0
        /// Changes whenever linking sets a `previousTimes`/`previousStates` of this hour
        /// (unique across the rollup): keys `previousCodesCache`.
        var linkGeneration: UInt64 = 0
        /// `track` entries with a site that are their site's newest: their number, and per
        /// dimension per code (valid once linked; empty for an hour without entries).
        var newestTrack: Int32 = 0
        var newestTrackCounts: [CodeCounts] = []
        var skipTimes: [Int64] = []
        var skipHashes: [UInt32] = []
        var skipStates: [UInt32] = []
        // Aggregates, valid when `dirty` is false.
        var deactivations: Int64 = 0
        var trackSites: [UInt32] = []
        var countedSkipHashes: [UInt32] = []
        var dimensionCounts: [DimensionCounts] = []
        var dirty = false
    }

    /// Site id of an event without a site_key.
    static let noSite = UInt32.max
    /// `previousTimes` of an entry whose site's previous event is not a `track`, or unknown.
    static let noPrevious = Int64.min
    static let microsPerHour: Int64 = 3_600_000_000
    /// An hour axis longer than this (a clock far off, a hostile import) makes the project
    /// fall back to scans rather than allocate chunks for centuries.
    static let hoursMax: Int64 = 24 * 366 * 30

    let projectID: String
    let lock = ReadWriteLock()

    /// Absolute hour (hours since the epoch) of `chunks[0]`.
    private(set) var baseHour: Int64 = 0
    private(set) var chunks: [HourChunk] = []
    private(set) var siteIDs = ByteKeyTable()
    private(set) var hashIDs = ByteKeyTable()
    private(set) var dimensions = [DimensionDictionary](repeating: DimensionDictionary(), count: RollupDimensions.names.count)
    private(set) var states = StateTable(width: RollupDimensions.names.count)
    /// The states' codes again, one array per dimension (kept up to date by `finish`): a
    /// query reads one dimension of millions of states, and 2 bytes per state stay in cache
    /// where the interleaved tuples (28 bytes per state) do not.
    private(set) var stateColumns = [[UInt16]](repeating: [], count: RollupDimensions.names.count)
    /// Event kind per code of the `event` dimension.
    private var kindOfEventCode: [UInt8] = []
    private(set) var dayTrackSites: [Int64: IDBitmap] = [:]
    private(set) var daySkipHashes: [Int64: IDBitmap] = [:]
    /// Sorted `first_seen` of the project's sites snapshot (`new_sites`).
    var firstSeenSorted: [Int64] = []
    /// Two events of one site with equal `received_at` and equal 8-byte `event_id` prefix:
    /// their order is unknown here, so "latest event" questions fall back to a scan.
    private(set) var tiesAmbiguous = false
    /// Per site id, the `received_at` of its latest linked entry (`Int64.min`: none) and
    /// that entry's index in its hour (`latestSiteEntry`): where the next event links from.
    private(set) var latestSiteTime: [Int64] = []
    private(set) var latestSiteEntry: [UInt32] = []
    /// Why this project cannot answer at all (then everything falls back), if so.
    private(set) var unusableReason: String?
    private(set) var eventCount = 0
    /// Per-code counters reused by `recountNewestTrack` (zero between uses).
    private var scratchEvents: [Int32] = []
    /// Distinct counts of whole week and month buckets, computed on first use; cleared when
    /// an apply touches any day (cheap to refill: a few dozen bitmap unions).
    /// In a `Mutex` of its own: readers fill it while holding only the read lock.
    let bucketCountCache = Mutex<[BucketCacheKey: Int64]>([:])

    struct BucketCacheKey: Hashable {
        var skips: Bool
        var interval: BucketInterval
        var start: Int64
        /// The dimension of a per-code count (`distinctPerCode`), nil for a plain count.
        var dimension: Int? = nil
    }
    /// Per-code distinct counts of whole day, week and month buckets (`distinctPerCode`),
    /// computed on first use, cleared with `bucketCountCache`: a series over past weeks walks
    /// only its partial first and last buckets again.
    let bucketPerCodeCache = Mutex<[BucketCacheKey: [Int64]]>([:])
    /// Entries kept in `bucketPerCodeCache` before it is emptied (a few hundred KB at most
    /// for dimensions of a few hundred values).
    static let bucketPerCodeCacheEntriesMax = 2_048

    struct DaySpanKey: Hashable {
        var skips: Bool
        var dimension: Int
        /// Days (since the epoch) `firstDay..<endDay`.
        var firstDay: Int64
        var endDay: Int64
    }
    /// The distinct (id, code) pairs of a span of whole days (`DaySpanPairs`), computed on
    /// first use: a partial bucket of a per-code distinct series is such a span plus at most
    /// a day's hours at each edge. Entries are removed when an apply touches one of their days.
    let daySpanCache = Mutex<[DaySpanKey: DaySpanPairs]>([:])
    /// Spans kept (each 2 bytes per id: 2 MB at a million sites).
    static let daySpanCacheEntriesMax = 8

    struct PreviousCodesKey: Hashable {
        var dimension: Int
        var hour: Int64
    }
    struct PreviousCodes {
        var entries: [PreviousCodesKey: (generation: UInt64, codes: [UInt16])] = [:]
        var bytes = 0
    }
    /// Per dimension asked by a "latest" question and per hour, the code of each entry's
    /// `previousStates` in that dimension, computed on first use: part (b) of "Latest events"
    /// then reads two flat arrays instead of a state's code at a random place per entry.
    /// An entry is valid while its hour's `linkGeneration` is the one it was computed at.
    let previousCodesCache = Mutex(PreviousCodes())
    /// Bytes of codes kept before the cache is emptied (2 bytes per entry and dimension).
    static let previousCodesBytesMax = 64 << 20
    private var linkGenerations: UInt64 = 0

    /// Hours of entries kept, counted back from the newest (see the window above).
    let windowHours: Int64
    /// The first hour kept once hours were dropped (`Int64.min`: none dropped yet).
    private(set) var windowStartHour: Int64 = .min
    static let windowDaysDefault = RollupStore.windowDaysDefault

    init(projectID: String, windowHours: Int64 = Int64(ProjectRollup.windowDaysDefault) * 24) {
        self.projectID = projectID
        self.windowHours = max(windowHours, 1)
    }

    /// Before a build's first `apply`: when the events span more than the window (`oldest`
    /// before the hour the window of `newest` starts at, the same start `slideWindow` would
    /// give after the build), starts the window there so the build never holds the hours the
    /// slide would drop; returns the first microsecond kept, nil when everything is kept.
    func startWindow(oldestMicros: Int64, newestMicros: Int64) -> Int64? {
        guard chunks.isEmpty, windowStartHour == .min else { return nil }
        let newest = min(Self.floorDivide(newestMicros, Self.microsPerHour), Self.floorDivide(UTCTime.nowMicros(), Self.microsPerHour) + 48)
        let start = newest - windowHours + 1
        guard Self.floorDivide(oldestMicros, Self.microsPerHour) < start else { return nil }
        let (micros, overflow) = start.multipliedReportingOverflow(by: Self.microsPerHour)
        guard !overflow else { return nil }
        windowStartHour = start
        return micros
    }

    /// Whether every hour from `time`'s on is kept, so a question reading `[time, …)` is exact.
    func covers(from time: Int64) -> Bool {
        windowStartHour == .min || Self.floorDivide(time, Self.microsPerHour) >= windowStartHour
    }

    var siteCount: Int { siteIDs.count }
    var hashCount: Int { hashIDs.count }

    func kind(ofEventCode code: UInt16) -> Kind {
        Kind(rawValue: kindOfEventCode[Int(code)]) ?? .other
    }

    /// The chunk index of an absolute hour, nil when outside the axis.
    @inline(__always)
    func chunkIndex(hour: Int64) -> Int? {
        let index = hour - baseHour
        return index >= 0 && index < Int64(chunks.count) ? Int(index) : nil
    }
}

// MARK: - Applying events

extension ProjectRollup {
    /// The columns of one row group a rollup reads; a missing column reads as all NULL.
    struct Batch {
        var rowCount: Int
        var receivedAt: ColumnData
        var eventID: ColumnData?
        var siteKey: ColumnData?
        var siteHash: ColumnData?
        var previouslySkipped: ColumnData?
        /// One per `RollupDimensions.names`, nil when the file lacks the column.
        var dimensions: [ColumnData?]

        static var columnNames: [String] {
            ["received_at", "event_id", "site_key", "site_hash", "previously_skipped"] + RollupDimensions.names
        }
    }

    /// Adds a batch of new events (events are never removed: compaction commits only bring
    /// events no earlier commit had). Call `finish()` after the last batch of a commit.
    /// Caller holds the write lock.
    func apply(_ batch: Batch) {
        guard unusableReason == nil, batch.rowCount > 0 else { return }
        guard case .int64(let times) = batch.receivedAt.storage else { return }
        let rows = batch.rowCount
        let width = states.width
        // 1. Per-row codes, ids and states in local arrays (no per-row access to `self`).
        var dimensionCodes: [[UInt32]] = []
        for (index, column) in batch.dimensions.enumerated() {
            dimensionCodes.append(Self.codes(column, rows: rows) { UInt32(self.dimensions[index].code($0)) })
        }
        refreshKinds()
        let siteIDsOfRows = Self.ids(batch.siteKey, rows: rows, table: &siteIDs)
        var table = states
        states = StateTable(width: 0) // `table` holds the only reference while interning
        var rowStates = [UInt32](repeating: 0, count: rows)
        var rowKinds = [UInt8](repeating: 0, count: rows)
        var tuple = [UInt16](repeating: 0, count: width)
        for row in 0..<rows {
            for dimension in 0..<width { tuple[dimension] = UInt16(truncatingIfNeeded: dimensionCodes[dimension][row]) }
            rowStates[row] = tuple.withUnsafeBufferPointer { table.intern($0) }
            rowKinds[row] = kindOfEventCode[Int(tuple[RollupDimensions.eventIndex])]
        }
        states = table
        let rowTies = Self.ties(batch.eventID, rows: rows)
        // 2. Append runs of rows of the same hour to their chunk (segments are sorted by
        //    time, so a row group is a few runs).
        var row = 0
        while row < rows {
            guard batch.receivedAt.isValid(row) else { row += 1; continue }
            let hour = Self.floorDivide(times[row], Self.microsPerHour)
            var end = row + 1
            while end < rows, batch.receivedAt.isValid(end), Self.floorDivide(times[end], Self.microsPerHour) == hour { end += 1 }
            if hour < windowStartHour {
                row = end // before the window (step 2)
                continue
            }
            guard let index = ensureChunk(hour: hour) else { return }
            var chunk = chunks[index]
            chunks[index] = HourChunk() // `chunk` holds the only reference while appending
            chunk.times.append(contentsOf: times[row..<end])
            chunk.ties.append(contentsOf: rowTies[row..<end])
            chunk.sites.append(contentsOf: siteIDsOfRows[row..<end])
            chunk.states.append(contentsOf: rowStates[row..<end])
            chunk.kinds.append(contentsOf: rowKinds[row..<end])
            chunk.previousTimes.append(contentsOf: repeatElement(Self.noPrevious, count: end - row))
            chunk.previousStates.append(contentsOf: repeatElement(0, count: end - row))
            for skip in row..<end where rowKinds[skip] == Kind.skip.rawValue {
                guard batch.previouslySkipped?.bool(at: skip) != true, let hash = batch.siteHash?.string(at: skip) else { continue }
                chunk.skipTimes.append(times[skip])
                chunk.skipHashes.append(hashIDs.id(hash))
                chunk.skipStates.append(rowStates[skip])
            }
            chunk.dirty = true
            chunks[index] = chunk
            eventCount += end - row
            row = end
        }
    }

    /// Sorts and re-aggregates every chunk an apply touched and folds it into its day.
    func finish() {
        let known = stateColumns[0].count
        if states.count > known {
            states.codes.withUnsafeBufferPointer { codes in
                for dimension in 0..<states.width {
                    stateColumns[dimension].reserveCapacity(states.count)
                    for state in known..<states.count { stateColumns[dimension].append(codes[state * states.width + dimension]) }
                }
            }
        }
        var touchedDays = Set<Int64>()
        let dirty = chunks.indices.filter { chunks[$0].dirty }
        let relink = finishChunks(dirty)
        for index in dirty {
            let day = Self.floorDivide(baseHour + Int64(index), 24)
            touchedDays.insert(day)
            // The day's bitmap out of the dictionary while inserting (one lookup, not one per id).
            if !chunks[index].trackSites.isEmpty {
                var bitmap = dayTrackSites.removeValue(forKey: day) ?? IDBitmap()
                for site in chunks[index].trackSites { bitmap.insert(site) }
                dayTrackSites[day] = bitmap
            }
            if !chunks[index].countedSkipHashes.isEmpty {
                var bitmap = daySkipHashes.removeValue(forKey: day) ?? IDBitmap()
                for hash in chunks[index].countedSkipHashes { bitmap.insert(hash) }
                daySkipHashes[day] = bitmap
            }
        }
        if !touchedDays.isEmpty {
            forgetCachedCounts { first, end in touchedDays.contains { $0 >= first && $0 < end } }
            linkNewEntries(relink: relink)
        }
        slideWindow()
    }

    /// Removes the cached counts of buckets and day spans for which `stale(firstDay, endDay)`
    /// (days `firstDay..<endDay` since the epoch) is true: an apply changes only the counts
    /// of the days it touched, so past weeks stay cached while today's events arrive.
    private func forgetCachedCounts(_ stale: (Int64, Int64) -> Bool) {
        let microsPerDay = 24 * Self.microsPerHour
        func bucketStale(_ key: BucketCacheKey) -> Bool {
            stale(Self.floorDivide(key.start, microsPerDay), Self.floorDivide(key.interval.next(after: key.start) - 1, microsPerDay) + 1)
        }
        bucketCountCache.withLock { cache in cache = cache.filter { !bucketStale($0.key) } }
        bucketPerCodeCache.withLock { cache in cache = cache.filter { !bucketStale($0.key) } }
        daySpanCache.withLock { cache in cache = cache.filter { !stale($0.key.firstDay, $0.key.endDay) } }
    }

    /// Step 1 of the window: drops the hours before it and the bitmaps of days wholly before it.
    private func slideWindow() {
        guard !chunks.isEmpty else { return }
        let newest = min(baseHour + Int64(chunks.count) - 1, Self.floorDivide(UTCTime.nowMicros(), Self.microsPerHour) + 48)
        let start = newest - windowHours + 1
        guard start > baseHour, start > windowStartHour else { return }
        let drop = min(Int(start - baseHour), chunks.count)
        for index in 0..<drop { eventCount -= chunks[index].times.count }
        chunks.removeFirst(drop)
        baseHour = start
        windowStartHour = start
        if chunks.isEmpty { chunks = [HourChunk()] } // keep `baseHour` meaningful
        let firstDay = Self.floorDivide(start, 24)
        dayTrackSites = dayTrackSites.filter { $0.key >= firstDay }
        daySkipHashes = daySkipHashes.filter { $0.key >= firstDay }
        // Counts reaching before the window are never asked again (`covers`).
        forgetCachedCounts { first, _ in first <= firstDay }
        previousCodesCache.withLock { cache in
            cache.entries = cache.entries.filter { $0.key.hour >= start }
            cache.bytes = cache.entries.values.reduce(0) { $0 + 2 * $1.codes.count }
        }
    }

    /// One hour's entries as a state file holds them (`RollupStateFile`): kinds and
    /// aggregates are derived again on restore.
    struct PersistedHour {
        var times: [Int64] = []
        var ties: [UInt64] = []
        var sites: [UInt32] = []
        var states: [UInt32] = []
        var skipTimes: [Int64] = []
        var skipHashes: [UInt32] = []
        var skipStates: [UInt32] = []
    }

    /// What a state file holds of one project: the tables of ids and codes, and the entries.
    struct Persisted {
        var siteIDs: ByteKeyTable
        var hashIDs: ByteKeyTable
        var dimensions: [DimensionDictionary]
        /// The states' tuples back to back (`StateTable.codes`).
        var stateCodes: [UInt16]
        var firstSeenSorted: [Int64]
        var baseHour: Int64
        var windowStartHour: Int64
        var hours: [PersistedHour]
    }

    /// This rollup's tables and entries for a state file. Caller holds the read lock.
    func forEachPersistedPart(tables: (ByteKeyTable, ByteKeyTable, [DimensionDictionary], [UInt16], [Int64], Int64, Int64, Int) throws -> Void,
                              hour: (HourChunk) throws -> Void) rethrows {
        try tables(siteIDs, hashIDs, dimensions, states.codes, firstSeenSorted, baseHour, windowStartHour, chunks.count)
        for chunk in chunks { try hour(chunk) }
    }

    /// Fills a fresh rollup from a state file's part, checking every id and code against its
    /// table (the file may be damaged or hostile: nothing in it may index out of bounds), then
    /// recounts the aggregates with `finish()`. Returns what is wrong, nil when restored.
    func restore(_ persisted: Persisted) -> String? {
        let width = RollupDimensions.names.count
        guard persisted.dimensions.count == width else { return "\(persisted.dimensions.count) dimensions, expected \(width)" }
        guard persisted.stateCodes.count % width == 0 else { return "state codes are not whole tuples" }
        guard persisted.hours.count <= Self.hoursMax else { return "\(persisted.hours.count) hours" }
        guard persisted.windowStartHour == .min || persisted.windowStartHour <= persisted.baseHour else { return "hours before the window" }
        guard persisted.siteIDs.count < Int(Self.noSite), persisted.hashIDs.count < Int(Self.noSite) else { return "too many ids" }
        let codeCounts = persisted.dimensions.map { $0.values.count }
        var table = StateTable(width: width)
        let stateCount = persisted.stateCodes.count / width
        let statesValid = persisted.stateCodes.withUnsafeBufferPointer { codes in
            for state in 0..<stateCount {
                let tuple = UnsafeBufferPointer(rebasing: codes[state * width ..< (state + 1) * width])
                for dimension in 0..<width where Int(tuple[dimension]) >= codeCounts[dimension] { return false }
                guard table.intern(tuple) == UInt32(state) else { return false }
            }
            return true
        }
        guard statesValid else { return "a state has an unknown code or repeats" }
        let siteCount = UInt32(persisted.siteIDs.count), hashCount = UInt32(persisted.hashIDs.count)
        for (index, hour) in persisted.hours.enumerated() {
            let n = hour.times.count
            guard hour.ties.count == n, hour.sites.count == n, hour.states.count == n,
                  hour.skipHashes.count == hour.skipTimes.count, hour.skipStates.count == hour.skipTimes.count else {
                return "hour \(index): columns of different lengths"
            }
            let (low, overflow) = (persisted.baseHour &+ Int64(index)).multipliedReportingOverflow(by: Self.microsPerHour)
            guard !overflow, low <= Int64.max - Self.microsPerHour else { return "hour \(index): out of range" }
            let high = low + Self.microsPerHour
            func inHour(_ times: [Int64]) -> Bool {
                times.withUnsafeBufferPointer { times in
                    var inside = true
                    for time in times { inside = inside && time >= low && time < high }
                    return inside
                }
            }
            func below(_ ids: [UInt32], _ limit: UInt32, orNoSite: Bool) -> Bool {
                ids.withUnsafeBufferPointer { ids in
                    var valid = true
                    for id in ids { valid = valid && (id < limit || (orNoSite && id == Self.noSite)) }
                    return valid
                }
            }
            guard inHour(hour.times), inHour(hour.skipTimes) else { return "hour \(index): an entry lies outside its hour" }
            let states32 = UInt32(clamping: stateCount)
            guard below(hour.sites, siteCount, orNoSite: true), below(hour.skipHashes, hashCount, orNoSite: false),
                  below(hour.states, states32, orNoSite: false), below(hour.skipStates, states32, orNoSite: false) else {
                return "hour \(index): an id or state out of range"
            }
        }
        siteIDs = persisted.siteIDs
        hashIDs = persisted.hashIDs
        dimensions = persisted.dimensions
        states = table
        stateColumns = [[UInt16]](repeating: [], count: width)
        refreshKinds()
        let eventCodes = (0..<stateCount).map { kindOfEventCode[Int(table.code(state: UInt32($0), dimension: RollupDimensions.eventIndex))] }
        firstSeenSorted = persisted.firstSeenSorted.sorted()
        baseHour = persisted.baseHour
        windowStartHour = persisted.windowStartHour
        eventCount = 0
        chunks = persisted.hours.map { hour in
            var chunk = HourChunk()
            chunk.times = hour.times
            chunk.ties = hour.ties
            chunk.sites = hour.sites
            chunk.states = hour.states
            chunk.kinds = eventCodes.withUnsafeBufferPointer { kinds in hour.states.map { kinds[Int($0)] } }
            chunk.previousTimes = [Int64](repeating: Self.noPrevious, count: hour.times.count)
            chunk.previousStates = [UInt32](repeating: 0, count: hour.times.count)
            chunk.skipTimes = hour.skipTimes
            chunk.skipHashes = hour.skipHashes
            chunk.skipStates = hour.skipStates
            chunk.dirty = !hour.times.isEmpty
            return chunk
        }
        eventCount = chunks.reduce(0) { $0 + $1.times.count }
        finish()
        return nil
    }

    func markUnusable(_ reason: String) {
        unusableReason = reason
        chunks = []
        latestSiteTime = []
        latestSiteEntry = []
    }

    /// What `finishChunk` reads of the rollup (shared by the workers, never written).
    private struct FinishContext: @unchecked Sendable {
        let states: StateTable
        let codeCounts: [Int]
    }

    /// Per-code counters one worker reuses across chunks (zero between uses).
    private struct CountScratch {
        var events: [Int32] = []
        var deactivations: [Int32] = []
    }

    /// Chunks finished on one thread below this many (a commit touches a few hours; a build
    /// or a start from the state file thousands, worth both cores).
    static let parallelFinishChunksMin = 64

    /// `finishChunk` of every chunk of `indices`; returns whether a sort moved an entry
    /// already linked (then every entry is linked again). Chunks are independent, so many
    /// are split between two threads, each with its own scratch.
    private func finishChunks(_ indices: [Int]) -> Bool {
        let context = FinishContext(states: states, codeCounts: dimensions.map { $0.values.count })
        let workers = indices.count >= Self.parallelFinishChunksMin ? min(2, ProcessInfo.processInfo.activeProcessorCount) : 1
        var flags = [(moved: Bool, ambiguous: Bool)](repeating: (false, false), count: max(workers, 1))
        chunks.withUnsafeMutableBufferPointer { buffer in
            flags.withUnsafeMutableBufferPointer { flagBuffer in
                // Each worker writes only its own chunks (a stride of `indices`) and its own
                // flag; `run` returns after every worker has finished.
                let shared = UncheckedSendableBox((buffer, flagBuffer))
                ParallelFor.run(iterations: workers) { worker in
                    let (chunks, flags) = shared.value
                    var scratch = CountScratch()
                    var moved = false, ambiguous = false
                    for position in stride(from: worker, to: indices.count, by: workers) {
                        let result = Self.finishChunk(&chunks[indices[position]], context, &scratch)
                        moved = moved || result.moved
                        ambiguous = ambiguous || result.ambiguous
                    }
                    flags[worker] = (moved, ambiguous)
                }
            }
        }
        if flags.contains(where: \.ambiguous) { tiesAmbiguous = true }
        return flags.contains(where: \.moved)
    }

    /// Sorts and recounts one chunk; returns whether the sort moved an entry already linked
    /// and whether two entries of one site share `(time, tie)`.
    private static func finishChunk(_ chunk: inout HourChunk, _ context: FinishContext,
                                    _ scratch: inout CountScratch) -> (moved: Bool, ambiguous: Bool) {
        var ambiguous = false
        let movedLinked = Self.sortEntries(&chunk)
        // Runs of equal (time, tie): the same site twice in one run leaves "latest" undecided.
        var start = 0
        while start < chunk.times.count {
            var end = start + 1
            while end < chunk.times.count, chunk.times[end] == chunk.times[start], chunk.ties[end] == chunk.ties[start] { end += 1 }
            if end - start > 1 {
                let sites = chunk.sites[start..<end].filter { $0 != Self.noSite }
                if Set(sites).count != sites.count { ambiguous = true }
            }
            start = end
        }
        chunk.deactivations = 0
        var track: [UInt32] = []
        for entry in chunk.kinds.indices {
            let kind = chunk.kinds[entry]
            if kind == Kind.deactivate.rawValue { chunk.deactivations += 1 }
            if kind == Kind.track.rawValue, chunk.sites[entry] != Self.noSite { track.append(chunk.sites[entry]) }
        }
        chunk.trackSites = Self.sortedUnique(track)
        chunk.countedSkipHashes = Self.sortedUnique(chunk.skipHashes)
        // Count into dense scratch arrays, remembering which codes were touched; locals and
        // plain pointers in the loop (a class's stored properties pay an access check each).
        let width = context.states.width
        let codeCounts = context.codeCounts
        var events = scratch.events, deactivations = scratch.deactivations
        scratch = CountScratch()
        let needed = codeCounts.max() ?? 0
        if events.count < needed {
            events = [Int32](repeating: 0, count: needed)
            deactivations = [Int32](repeating: 0, count: needed)
        }
        let deactivate = Kind.deactivate.rawValue
        chunk.dimensionCounts = context.states.codes.withUnsafeBufferPointer { codes in
            chunk.states.withUnsafeBufferPointer { entryStates in
                chunk.kinds.withUnsafeBufferPointer { kinds in
                    events.withUnsafeMutableBufferPointer { events in
                        deactivations.withUnsafeMutableBufferPointer { deactivations in
                            (0..<width).map { dimension in
                                var touched: [UInt16] = []
                                for entry in 0..<entryStates.count {
                                    let code = codes[Int(entryStates[entry]) &* width &+ dimension]
                                    let slot = Int(code)
                                    if events[slot] == 0 { touched.append(code) }
                                    events[slot] &+= 1
                                    if kinds[entry] == deactivate { deactivations[slot] &+= 1 }
                                }
                                touched.sort()
                                var result = DimensionCounts()
                                result.codes = touched
                                result.events = touched.map { events[Int($0)] }
                                result.deactivations = touched.map { deactivations[Int($0)] }
                                for code in touched {
                                    events[Int(code)] = 0
                                    deactivations[Int(code)] = 0
                                }
                                return result
                            }
                        }
                    }
                }
            }
        }
        scratch = CountScratch(events: events, deactivations: deactivations)
        chunk.dirty = false
        return (movedLinked, ambiguous)
    }

    /// Orders a chunk's entries by `(time, tie)`; compaction brings them nearly in order, so
    /// the common case is one pass that finds them sorted. Returns whether an entry of
    /// `0..<linkedCount` moved.
    private static func sortEntries(_ chunk: inout HourChunk) -> Bool {
        let n = chunk.times.count
        var sorted = true
        for index in 1..<max(n, 1) where (chunk.times[index], chunk.ties[index]) < (chunk.times[index - 1], chunk.ties[index - 1]) {
            sorted = false
            break
        }
        if sorted { return false }
        // Stable: entries of equal (time, tie) keep their order.
        let order = (0..<n).sorted { (chunk.times[$0], chunk.ties[$0], $0) < (chunk.times[$1], chunk.ties[$1], $1) }
        chunk.times = order.map { chunk.times[$0] }
        chunk.ties = order.map { chunk.ties[$0] }
        chunk.sites = order.map { chunk.sites[$0] }
        chunk.states = order.map { chunk.states[$0] }
        chunk.kinds = order.map { chunk.kinds[$0] }
        chunk.previousTimes = order.map { chunk.previousTimes[$0] }
        chunk.previousStates = order.map { chunk.previousStates[$0] }
        return order.prefix(chunk.linkedCount).enumerated().contains { $0.offset != $0.element }
    }

    /// Links the entries that arrived since the last `finish` and recounts the `newestTrack`
    /// aggregates they change (the numbered "Latest events" atop this file). Nothing is linked
    /// while ties are ambiguous: the "latest event" questions then go to the scan.
    private func linkNewEntries(relink: Bool) {
        guard !tiesAmbiguous else { return }
        if latestSiteTime.count < siteCount {
            latestSiteTime.append(contentsOf: repeatElement(Int64.min, count: siteCount - latestSiteTime.count))
            latestSiteEntry.append(contentsOf: repeatElement(0, count: siteCount - latestSiteEntry.count))
        }
        let receiving = chunks.map { $0.linkedCount < $0.times.count }
        var replaced: [(hour: Int, state: UInt32)] = []
        if !relink && linkUnlinkedEntries(receiving: receiving, replaced: &replaced) {
            // Step 1's replaced newest entries of hours that received nothing; step 2.
            for (hour, state) in replaced { removeNewestTrack(hour: hour, state: state) }
            for index in chunks.indices where receiving[index] {
                recountNewestTrack(index)
                linkGenerations += 1
                chunks[index].linkGeneration = linkGenerations
            }
            return
        }
        // Step 3: an entry arrived before its site's newest, or a sort moved linked entries.
        for site in latestSiteTime.indices { latestSiteTime[site] = .min }
        for index in chunks.indices {
            chunks[index].linkedCount = 0
            chunks[index].previousTimes = [Int64](repeating: Self.noPrevious, count: chunks[index].times.count)
            chunks[index].previousStates = [UInt32](repeating: 0, count: chunks[index].times.count)
        }
        replaced = []
        let linked = linkUnlinkedEntries(receiving: [Bool](repeating: true, count: chunks.count), replaced: &replaced)
        // In order from scratch only an equal (time, tie) of one site stops it: ambiguous ties.
        assert(linked || tiesAmbiguous, "a full relink met an entry out of order")
        for index in chunks.indices {
            recountNewestTrack(index)
            linkGenerations += 1
            chunks[index].linkGeneration = linkGenerations
        }
    }

    /// Step 1 of "Latest events": the unlinked entries of every chunk, in hour order, each
    /// becoming its site's newest. The replaced newest `track` entries of hours not
    /// `receiving` go to `replaced`. False (links left half done) when an entry is not after
    /// its site's newest.
    private func linkUnlinkedEntries(receiving: [Bool], replaced: inout [(hour: Int, state: UInt32)]) -> Bool {
        var latestTime = latestSiteTime, latestEntry = latestSiteEntry
        latestSiteTime = []
        latestSiteEntry = [] // the locals hold the only references while linking
        defer {
            latestSiteTime = latestTime
            latestSiteEntry = latestEntry
        }
        let base = baseHour
        let track = Kind.track.rawValue
        return chunks.withUnsafeMutableBufferPointer { chunks in
            for index in chunks.indices where chunks[index].linkedCount < chunks[index].times.count {
                let first = chunks[index].linkedCount
                for entry in first..<chunks[index].times.count {
                    let site = chunks[index].sites[entry]
                    if site == Self.noSite { continue }
                    let time = chunks[index].times[entry], tie = chunks[index].ties[entry]
                    let previousTime = latestTime[Int(site)]
                    if previousTime != .min {
                        let previousIndex = Self.floorDivide(previousTime, Self.microsPerHour) - base
                        // A newest entry in a dropped hour (before the window) is no previous.
                        if previousIndex >= 0 && previousIndex < Int64(chunks.count) {
                            let hour = Int(previousIndex), previous = Int(latestEntry[Int(site)])
                            guard previous < chunks[hour].times.count, chunks[hour].sites[previous] == site,
                                  (previousTime, chunks[hour].ties[previous]) < (time, tie) else { return false }
                            if chunks[hour].kinds[previous] == track {
                                let state = chunks[hour].states[previous]
                                chunks[index].previousTimes[entry] = previousTime
                                chunks[index].previousStates[entry] = state
                                if !receiving[hour] { replaced.append((hour, state)) }
                            }
                        } else if previousIndex >= Int64(chunks.count) {
                            return false
                        }
                    }
                    latestTime[Int(site)] = time
                    latestEntry[Int(site)] = UInt32(entry)
                }
                chunks[index].linkedCount = chunks[index].times.count
            }
            return true
        }
    }

    /// Takes one entry of `state` out of an hour's `newestTrack` aggregates (it is no longer
    /// its site's newest).
    private func removeNewestTrack(hour index: Int, state: UInt32) {
        var chunk = chunks[index]
        chunks[index] = HourChunk() // `chunk` holds the only reference while editing
        chunk.newestTrack -= 1
        for dimension in chunk.newestTrackCounts.indices {
            let code = states.code(state: state, dimension: dimension)
            var counts = chunk.newestTrackCounts[dimension]
            var low = 0, high = counts.codes.count
            while low < high {
                let middle = (low + high) >> 1
                if counts.codes[middle] < code { low = middle + 1 } else { high = middle }
            }
            guard low < counts.codes.count, counts.codes[low] == code else {
                assertionFailure("a replaced newest entry's code is not in its hour's counts")
                continue
            }
            counts.counts[low] -= 1
            if counts.counts[low] == 0 {
                counts.codes.remove(at: low)
                counts.counts.remove(at: low)
            }
            chunk.newestTrackCounts[dimension] = counts
        }
        chunks[index] = chunk
    }

    /// Step 2 of "Latest events": an hour's `newestTrack` aggregates from its entries that
    /// are their site's newest.
    private func recountNewestTrack(_ index: Int) {
        var chunk = chunks[index]
        chunks[index] = HourChunk() // `chunk` holds the only reference while editing
        defer { chunks[index] = chunk }
        let track = Kind.track.rawValue
        var newest: [UInt32] = []
        latestSiteTime.withUnsafeBufferPointer { latestTime in
            latestSiteEntry.withUnsafeBufferPointer { latestEntry in
                for entry in chunk.times.indices where chunk.kinds[entry] == track {
                    let site = chunk.sites[entry]
                    guard site != Self.noSite, latestTime[Int(site)] == chunk.times[entry], latestEntry[Int(site)] == UInt32(entry) else { continue }
                    newest.append(chunk.states[entry])
                }
            }
        }
        chunk.newestTrack = Int32(newest.count)
        guard !chunk.times.isEmpty else {
            chunk.newestTrackCounts = []
            return
        }
        let width = states.width
        var scratch = scratchEvents
        scratchEvents = []
        let needed = dimensions.map { $0.values.count }.max() ?? 0
        if scratch.count < needed { scratch = [Int32](repeating: 0, count: needed) }
        chunk.newestTrackCounts = states.codes.withUnsafeBufferPointer { codes in
            scratch.withUnsafeMutableBufferPointer { scratch in
                (0..<width).map { dimension in
                    var touched: [UInt16] = []
                    for state in newest {
                        let code = codes[Int(state) &* width &+ dimension]
                        if scratch[Int(code)] == 0 { touched.append(code) }
                        scratch[Int(code)] &+= 1
                    }
                    touched.sort()
                    let result = CodeCounts(codes: touched, counts: touched.map { scratch[Int($0)] })
                    for code in touched { scratch[Int(code)] = 0 }
                    return result
                }
            }
        }
        scratchEvents = scratch
    }

    private static func sortedUnique(_ ids: [UInt32]) -> [UInt32] {
        var result: [UInt32] = []
        result.reserveCapacity(ids.count)
        for id in ids.sorted() where result.last != id { result.append(id) }
        return result
    }

    private func refreshKinds() {
        let values = dimensions[RollupDimensions.eventIndex].values
        while kindOfEventCode.count < values.count {
            let kind: Kind
            switch values[kindOfEventCode.count] {
            case .string("track"): kind = .track
            case .string("deactivate"): kind = .deactivate
            case .string("skip"): kind = .skip
            default: kind = .other
            }
            kindOfEventCode.append(kind.rawValue)
        }
        // A batch whose event column is missing still needs code 0 mapped.
        if kindOfEventCode.isEmpty { kindOfEventCode.append(Kind.other.rawValue) }
    }

    /// The chunk of an absolute hour, growing the axis (either end) as needed.
    private func ensureChunk(hour: Int64) -> Int? {
        if chunks.isEmpty {
            baseHour = hour
            chunks = [HourChunk()]
            return 0
        }
        if hour < baseHour {
            let missing = baseHour - hour
            guard Int64(chunks.count) + missing <= Self.hoursMax else {
                markUnusable("events span more than \(Self.hoursMax / 8_784) years of hours")
                return nil
            }
            chunks.insert(contentsOf: repeatElement(HourChunk(), count: Int(missing)), at: 0)
            baseHour = hour
            // Days keep their keys (absolute days); only chunk indexes moved.
            return 0
        }
        let index = hour - baseHour
        if index >= Int64(chunks.count) {
            guard index < Self.hoursMax else {
                markUnusable("events span more than \(Self.hoursMax / 8_784) years of hours")
                return nil
            }
            chunks.append(contentsOf: repeatElement(HourChunk(), count: Int(index) - chunks.count + 1))
        }
        return Int(index)
    }

    /// Order-preserving 8-byte prefix of each row's event id (big-endian, zero padded).
    private static func ties(_ column: ColumnData?, rows: Int) -> [UInt64] {
        var result = [UInt64](repeating: 0, count: rows)
        guard let column else { return result }
        func prefix(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64 {
            var value: UInt64 = 0
            for offset in 0..<8 {
                let index = range.lowerBound + offset
                value = value << 8 | UInt64(index < range.upperBound ? bytes[index] : 0)
            }
            return value
        }
        switch column.storage {
        case .strings(let strings):
            strings.bytes.withUnsafeBufferPointer { bytes in
                for row in 0..<rows where column.isValid(row) { result[row] = prefix(bytes, strings.range(at: row)) }
            }
        case .dictionary(let dictionary, let codes):
            let entries = dictionary.bytes.withUnsafeBufferPointer { bytes in
                (0..<dictionary.count).map { prefix(bytes, dictionary.range(at: $0)) }
            }
            for row in 0..<rows where column.isValid(row) { result[row] = entries[Int(codes[row])] }
        default:
            break
        }
        return result
    }

    /// Each row's id in `table` (`noSite` for NULL), hashing the bytes in place: once per
    /// dictionary entry for dictionary-encoded columns.
    private static func ids(_ column: ColumnData?, rows: Int, table: inout ByteKeyTable) -> [UInt32] {
        var result = [UInt32](repeating: noSite, count: rows)
        guard let column else { return result }
        switch column.storage {
        case .strings(let strings):
            strings.bytes.withUnsafeBytes { bytes in
                for row in 0..<rows where column.isValid(row) {
                    let range = strings.range(at: row)
                    result[row] = table.id(UnsafeRawBufferPointer(rebasing: bytes[range]))
                }
            }
        case .dictionary(let dictionary, let codes):
            let entries = dictionary.bytes.withUnsafeBytes { bytes in
                (0..<dictionary.count).map { table.id(UnsafeRawBufferPointer(rebasing: bytes[dictionary.range(at: $0)])) }
            }
            for row in 0..<rows where column.isValid(row) { result[row] = entries[Int(codes[row])] }
        default:
            break
        }
        return result
    }

    /// One code per row through `lookup`, calling it once per dictionary entry for
    /// dictionary-encoded strings (site keys and versions repeat within a row group).
    static func codes(_ column: ColumnData?, rows: Int, _ lookup: (Value) -> UInt32) -> [UInt32] {
        let nullCode = lookup(.null)
        guard let column else { return [UInt32](repeating: nullCode, count: rows) }
        var result = [UInt32](repeating: nullCode, count: rows)
        switch column.storage {
        case .dictionary(let dictionary, let codes):
            var codeOfEntry = [UInt32?](repeating: nil, count: dictionary.count)
            for row in 0..<rows where column.isValid(row) {
                let entry = Int(codes[row])
                if let code = codeOfEntry[entry] { result[row] = code; continue }
                let code = lookup(.string(dictionary[entry]))
                codeOfEntry[entry] = code
                result[row] = code
            }
        case .strings(let strings):
            for row in 0..<rows where column.isValid(row) { result[row] = lookup(.string(strings[row])) }
        case .bool(let values):
            let (no, yes) = (lookup(.bool(false)), lookup(.bool(true)))
            for row in 0..<rows where column.isValid(row) { result[row] = values[row] != 0 ? yes : no }
        case .int64(let values):
            let timestamp = column.kind == .timestamp
            for row in 0..<rows where column.isValid(row) { result[row] = lookup(timestamp ? .timestamp(values[row]) : .int64(values[row])) }
        case .double(let values):
            for row in 0..<rows where column.isValid(row) { result[row] = lookup(.double(values[row])) }
        }
        return result
    }

    @inline(__always)
    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient
    }
}

/// A pthread reader-writer lock: chart requests read a rollup concurrently; an apply after a
/// compaction writes.
/// `@unchecked Sendable`: its only state is the `pthread_rwlock_t`, made for use from any
/// thread; the pointer is a `let`, allocated in `init` and freed in `deinit` only.
final class ReadWriteLock: @unchecked Sendable {
    // Heap-allocated so the lock never moves (a stored pthread_rwlock_t's address is not stable).
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func withReadLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func withWriteLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
