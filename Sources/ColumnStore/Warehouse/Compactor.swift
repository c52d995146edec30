import Core
import Foundation
import Ingest
import Logging

/// `trackhouse compact`: raw envelope files → Parquet `events` segments and `sites` snapshots.
///
/// Algorithm (one compactor at a time, by `flock` on `warehouse/.compact.lock`):
/// 1. Replay the commit log (`_log/NNN.json`) into the state: live segments and, per raw file,
///    how many bytes of it are compacted (or replay only the commits after `continuing`, the
///    state an earlier run of this process ended with: `WarehouseLog.load(continuing:)`). Recover from a crash at any earlier point:
///    a committed file still under its hidden `.tmp-` name is renamed into place (roll
///    forward); any other `.tmp-` file is an uncommitted leftover and is deleted; files a
///    commit removed but that still exist are deleted, and their hidden `.replaced-` copies
///    once `replacedRetentionSeconds` have passed since that commit, or beyond the newest
///    `replacedFilesMax` copies / `replacedBytesMax` bytes (a bound every later retire in the
///    run keeps too).
/// 1a. Segments of the first warehouse layout (files without `project_id`, in `project_id=`
///    folders) are rewritten into the current one in one commit (Compactor+Relayout).
/// 2. Plan: raw files with bytes not yet compacted (listing the whole raw tree, or only the
///    hours from `rawListedFromHour`: the server's cycles list from where an earlier run found
///    every file complete, `CompactionReport.rawSettledBeforeHour`, so a cycle's listing costs
///    the recent hours, not years of raw history). By default only hours that ended more
///    than `sealGraceSeconds` ago (sealed hours); `includeOpenHours` also takes the complete
///    lines of files still being written (freshness).
/// 3. Per chunk of raw files (about `chunkEventsMax` events, ending between two hours; a chunk also ends where the
///    files' hours enter a month that would not fit in it, estimated from the month's raw bytes,
///    so a backlog's month partitions mostly get one segment each instead of pieces that step 8
///    rewrites, with as few chunks, hence `sites` rewrites, as fit): decode each new line, normalize
///    it (CONTRACT §4), drop unknown projects (counted), group by (project, month). Files are
///    read and normalized on `parseThreads` worker threads ahead of the commit (Compactor+Parse)
///    but applied in plan order, so chunks, commits and files do not depend on the threads.
/// 4. Dedupe by envelope `id`: within the chunk, and against committed segments of the same
///    partition whose `received_at` range overlaps (a duplicate envelope carries the same
///    `received_at`, so it can only sit in that partition and time range).
/// 5. Write each partition's rows, sorted by (received_at, event_id), to a hidden
///    `.tmp-part-….parquet`; per touched project a hidden `sites` delta of the sites its new
///    rows touched, merged with their earlier state (the project's first file is a base:
///    Compactor+Sites). These files are independent and are encoded concurrently.
/// 6. Commit: one log entry adds the new files, removes the replaced sites files and records
///    the raw progress. The entry is created put-if-absent after fsync, so it exists whole or not.
/// 7. Publish: rename the hidden files to their names, fsync the folders, rename replaced
///    files to hidden `.replaced-…` names (readers following the log may still need them).
///    A crash between 6 and 7 is finished by step 1 of the next run; a crash before 6
///    leaves only `.tmp-` files (deleted) and uncommitted raw progress (redone). So a rerun
///    after a crash at any point yields the same tables, with no loss and no duplicates.
/// 8. Merge: per partition, segments below `segmentRowsTarget` are merged (sorted by
///    received_at, event_id) into files of up to that many rows, committed like step 6–7.
/// 8b. Fold: sites deltas that are due (after each chunk's commit, once its rows are freed;
///    after the last, all of them in the one-shot CLI) are merged into new bases in one
///    `merge` commit (Compactor+Sites step 5), committed like steps 6–7.
/// 9. Checkpoint: `checkpointInterval` commits after the last checkpoint, the whole state is
///    written as `_log/<version>.checkpoint.json` and the commits it supersedes are removed
///    (`WarehouseLog`). A failure here loses nothing: the commits stay and the next run
///    tries again.
/// 9a. Before a checkpoint, progress entries of complete raw files that no longer exist (raw
///    retention, an operator's cleanup) are dropped, so the checkpoint does not grow by a
///    dozen entries per hour forever. Only hours that ended over a day ago: a directory
///    listing racing the sealer's rename can miss a file being sealed, and forgetting a live
///    file's progress would only cost work anyway (a file that reappears, e.g. restored from
///    a backup, is read from its start and step 4 drops every event it already gave).
public enum MergePolicy: String, Sendable { case full, tiered }

public final class Compactor {
    public struct Options: Sendable {
        public var includeOpenHours = false
        /// Seconds after an hour ends before it counts as sealed.
        public var sealGraceSeconds: Int64 = 300
        public var chunkEventsMax = 200_000
        public var segmentRowsTarget = 524_288
        public var rowGroupRows = 131_072
        public var mergeSmallSegments = true
        /// Merge segments that follow one another in time by copying their row groups as
        /// stored (Compactor+Merge step 2a); false decodes and re-encodes every row (step 2b,
        /// the reference the copy is tested against).
        public var mergeByCopy = true
        /// `.full` merges every segment below the target (a batch run); `.tiered` merges only
        /// when four segments of similar size have piled up (frequent small runs in the
        /// server), which bounds how often a row is rewritten to log4 of the month's size.
        public var mergePolicy: MergePolicy = .full
        /// Delete raw files fully compacted and older than this many days (nil: keep forever).
        public var rawRetentionDays: Int? = nil
        /// List only raw hours from this hour index on (step 2): an earlier run's
        /// `rawSettledBeforeHour`, below which every file was complete. Files added to an
        /// earlier hour afterwards (`trackhouse import`) wait for a run that lists the whole
        /// tree (nil, the default). Raw and month retention and the pruning of vanished raw
        /// progress (step 9a) need the whole tree and are skipped by such a run.
        public var rawListedFromHour: Int64? = nil
        public var zstdLevel: Int32 = 3
        /// `ParquetWriter.Options.zstdLevelLongStrings` of the warehouse's files.
        public var zstdLevelLongStrings: Int32? = 5
        /// Seconds a replaced file is kept under its hidden name (see `retire`).
        public var replacedRetentionSeconds: Int64 = 600
        /// Threads that read and normalize raw files ahead of the committing thread (step 3).
        /// Results are applied in plan order, so any value gives the same tables and files;
        /// 1 reads on the committing thread itself.
        public var parseThreads = min(2, max(1, ProcessInfo.processInfo.activeProcessorCount))
        /// Commits between checkpoints of the log (`WarehouseLog`, step 9).
        public var checkpointInterval = 100
        /// Drop `events` month partitions wholly older than this many months, their raw hours,
        /// and sites not seen since (`Compactor+Retention.swift`); nil keeps all history.
        public var retentionMonths: Int? = nil
        /// Test hook of the privacy erase: SIGKILL the process after this point (`crashPoint`).
        public var eraseCrashAfterStep: Int? = nil
        /// When sites deltas are folded into a new base (Compactor+Sites).
        public var sitesFold = SitesFoldPolicy()
        /// Test hook of the sites fold: SIGKILL after this point (`sitesFoldCrashPoint`).
        public var sitesFoldCrashAfterStep: Int? = nil
        /// Replaced files kept under hidden names (see `retire`), at most this many and this
        /// many bytes in all, newest kept first: age alone would let a burst of commits keep
        /// dozens of copies of a big file.
        public var replacedFilesMax = 256
        public var replacedBytesMax: Int64 = 1 << 30
        public init() {}
    }

    public let dataDirectory: String
    public let options: Options
    let logger: Logger
    let layout: WarehouseLayout
    let rawLayout: RawLayout
    var state = WarehouseState()
    var registry = ProjectRegistry()
    var report = CompactionReport()
    /// The hidden copies of replaced files kept now (recovery's listing, plus every file this
    /// run retires), bounded by `boundReplacedCopies` after each addition: a backlog's run
    /// merges and folds many times, and its copies must not pile up until the next run.
    var keptReplaced: [(path: String, removedAt: Int64, bytes: Int64)] = []
    let progress: ((Int, Int, String) -> Void)?

    /// The state an earlier run of this process ended with (`warehouseState`), continued
    /// instead of loaded whole (`WarehouseLog.load(continuing:)`); nil loads the log.
    let continuing: WarehouseState?

    /// The warehouse state after `run()`: what the next run of this process may continue.
    public var warehouseState: WarehouseState { state }

    public init(dataDirectory: String, options: Options = Options(), logger: Logger,
                progress: ((Int, Int, String) -> Void)? = nil, continuing: WarehouseState? = nil) {
        self.continuing = continuing
        self.dataDirectory = dataDirectory
        self.options = options
        self.logger = logger
        self.layout = WarehouseLayout(dataDirectory: dataDirectory)
        self.rawLayout = RawLayout(dataDirectory: dataDirectory)
        self.progress = progress
    }

    /// Runs steps 1–9 and returns the summary.
    public func run() throws -> CompactionReport {
        let started = DispatchTime.now().uptimeNanoseconds
        try FileIO.makeDirectories(layout.logDirectory)
        let lock = try CompactionLock(path: layout.root + "/.compact.lock")
        defer { lock.release() }
        registry = try loadRegistry()
        state = try WarehouseLog.load(layout: layout, continuing: continuing)
        applyInterruptedEraseCorrections()
        try recover()
        try relayoutLegacySegments()

        // One listing of the raw tree per run: the plan, retention and the checkpoint's pruning
        // all read it (a year of raw data is tens of thousands of folders).
        let rawFiles = rawLayout.listFiles(fromHour: options.rawListedFromHour)
        let listedWhole = options.rawListedFromHour == nil
        report.rawFilesListed = rawFiles.count
        let plan = planRawFiles(rawFiles, nowMicros: UTCTime.nowMicros())
        report.rawFilesPlanned = plan.count
        var chunk = CompactionChunk()
        let reader = RawFileParser(registry: registry, sealGraceSeconds: options.sealGraceSeconds, indexDataDirectory: dataDirectory)
        let done = plan.map { state.raw[$0.key]?.bytes ?? 0 }
        let fileMonths = plan.map { CompactionChunk.monthRange(micros: $0.hourIndex * 3_600_000_000) }
        // Bytes still to read per month (on disk; a gzip file counts its compressed size).
        var monthBytes: [Int64: Int64] = [:]
        for (index, file) in plan.enumerated() {
            monthBytes[fileMonths[index].lowerBound, default: 0] += max(0, (FileIO.fileSize(file.path) ?? 0) - (file.isCompressed ? 0 : done[index]))
        }
        var eventsApplied = 0
        var bytesApplied: Int64 = 0
        var keyIndexes = RawKeyIndexBatch(dataDirectory: dataDirectory)
        defer { keyIndexes.flush() }
        try forEachParsedFile(plan, done: done, reader: reader) { index, parsed in
            if let keyIndex = parsed.keyIndex { keyIndexes.add(key: plan[index].key, keyIndex) }
            let fileMonth = fileMonths[index]
            if fileMonth != chunk.lastFileMonth && chunk.eventCount > 0 {
                // A new month: end the chunk here unless the month (estimated from its bytes at
                // the events per byte seen so far, ~1.4 KB per event before any) fits in it.
                let eventsPerByte = bytesApplied > 0 && eventsApplied > 0 ? Double(eventsApplied) / Double(bytesApplied) : 1.0 / 1_400
                let expected = Int(Double(monthBytes[fileMonth.lowerBound] ?? 0) * eventsPerByte)
                if chunk.eventCount + expected > options.chunkEventsMax { try commitChunk(&chunk) }
            }
            chunk.lastFileMonth = fileMonth
            eventsApplied += parsed.rows.count
            bytesApplied += parsed.rawBytesIn
            apply(parsed, file: plan[index], to: &chunk)
            progress?(index + 1, plan.count, plan[index].key)
            // A full chunk ends between hours, not inside one: an hour's files (one per route
            // and writer) then never straddle two commits, so successive chunks' segments do
            // not overlap in time and step 8 merges them by copying row groups (an hour is a
            // few thousand events, a small overshoot of the bound; an hour past twice the bound
            // is cut anyway, so memory stays bounded).
            let hourEnds = index + 1 == plan.count || plan[index + 1].hourIndex != plan[index].hourIndex
            if chunk.eventCount >= options.chunkEventsMax && (hourEnds || chunk.eventCount >= 2 * options.chunkEventsMax) {
                try commitChunk(&chunk)
            }
        }
        try commitChunk(&chunk)
        keyIndexes.flush()
        if options.mergeSmallSegments { try mergeSmallSegments() }
        try foldSitesDeltas(atEnd: true)
        var deleted: Set<String> = []
        if listedWhole {
            deleted = options.rawRetentionDays.map { applyRawRetention(days: $0, files: rawFiles) } ?? []
            if let months = options.retentionMonths { deleted.formUnion(try applyMonthRetention(months: months, files: rawFiles)) }
        }
        writeCheckpointIfDue(rawFiles: listedWhole ? rawFiles : nil, deleted: deleted)
        report.rawSettledBeforeHour = settledBeforeHour(plan, nowMicros: UTCTime.nowMicros())
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        report.warehouseVersion = state.version
        return report
    }

    /// Step 2's bound for the next run: the first hour holding a listed file that is not
    /// complete, at most the hour before the one still open to lines (`sealGraceSeconds` after
    /// its end), one more hour of margin for a sealer's rename or a writer's clock. Only the
    /// plan can hold such a file: a listed file left out of it is complete, or of an hour
    /// still open, which is past that bound.
    func settledBeforeHour(_ plan: [RawLayout.RawFile], nowMicros: Int64) -> Int64 {
        var settled = RawLayout.hourIndex(micros: nowMicros - options.sealGraceSeconds * 1_000_000) - 1
        for file in plan where file.hourIndex < settled && state.raw[file.key]?.complete != true {
            settled = file.hourIndex
        }
        return settled
    }

    /// Step 9.
    /// `rawFiles`: the run's listing when it covered the whole tree (nil: no pruning, a partial
    /// listing would look like every earlier file had vanished); `deleted`: keys raw retention
    /// removed since.
    func writeCheckpointIfDue(rawFiles: [RawLayout.RawFile]?, deleted: Set<String>) {
        guard options.checkpointInterval > 0, state.version - state.checkpointVersion >= options.checkpointInterval else { return }
        if let rawFiles { pruneVanishedRawProgress(rawFiles: rawFiles, deleted: deleted, nowMicros: UTCTime.nowMicros()) }
        do {
            // Removal times decide when hidden replaced copies may go: keep them as long as the
            // configured retention needs, and a week at least.
            let keptMicros = max(7 * 86_400_000_000, options.replacedRetentionSeconds * 1_000_000)
            try WarehouseLog.checkpoint(&state, layout: layout, nowMicros: UTCTime.nowMicros(), removedKeptMicros: keptMicros)
            report.checkpoints += 1
            logger.info("warehouse log checkpointed", metadata: ["warehouse.version": "\(state.version)"])
        } catch {
            logger.warning("warehouse log checkpoint failed; the next run retries", metadata: ["error": "\(error)"])
        }
    }

    /// Step 9a.
    func pruneVanishedRawProgress(rawFiles: [RawLayout.RawFile], deleted: Set<String>, nowMicros: Int64) {
        let settledBeforeHour = RawLayout.hourIndex(micros: nowMicros) - 25
        let vanished = state.raw.values.filter { progress in
            guard progress.complete, let hour = RawLayout.hourIndex(ofKey: progress.key) else { return false }
            return hour < settledBeforeHour
        }
        guard !vanished.isEmpty else { return }
        let present = Set(rawFiles.map(\.key)).subtracting(deleted)
        for progress in vanished where !present.contains(progress.key) {
            state.raw[progress.key] = nil
            report.rawProgressPruned += 1
        }
    }

    func loadRegistry() throws -> ProjectRegistry {
        let path = dataDirectory + "/projects.json"
        guard FileIO.exists(path) else {
            throw WarehouseError(.io, "\(path) does not exist: compaction needs the projects registry to map hashes to projects")
        }
        return try ProjectRegistry.parse(try FileIO.readFile(path), path: path)
    }

    // MARK: - Step 1: recovery

    func recover() throws {
        let live = Set(state.segments.keys)
        for relative in live where !FileIO.exists(layout.absolute(relative)) {
            let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
            guard FileIO.exists(hidden) else {
                throw WarehouseError(.corruptLog, "committed file \(layout.absolute(relative)) is missing (and no hidden copy exists); restore it or rebuild the warehouse from raw")
            }
            try publish(relative)
            logger.info("rolled forward a committed file after a crash", metadata: ["segment.path": "\(relative)"])
        }
        keptReplaced = []
        for table in WarehouseLayout.tableFolders {
            for path in FileIO.walkFiles(layout.root + "/" + table, includeHidden: true) {
                let name = FileIO.lastComponent(path)
                if name.hasPrefix(".tmp-") {
                    FileIO.removeGradually(path)
                } else if name.hasPrefix(WarehouseLayout.replacedPrefix) && name.hasSuffix(".old") {
                    let original = String(name.dropFirst(WarehouseLayout.replacedPrefix.count).dropLast(4))
                    let relative = String(FileIO.parentDirectory(path).dropFirst(layout.root.count + 1)) + "/" + original
                    let removedAt = state.removedAtMicros[relative] ?? Int64.min
                    if live.contains(relative) || removedAt < UTCTime.nowMicros() - options.replacedRetentionSeconds * 1_000_000 {
                        FileIO.removeGradually(path)
                    } else {
                        keptReplaced.append((path, removedAt, FileIO.fileSize(path) ?? 0))
                    }
                } else if name.hasSuffix(".parquet") {
                    let relative = String(path.dropFirst(layout.root.count + 1))
                    if !live.contains(relative) {
                        // Removed by a commit (or never committed under this name): not part of the table.
                        FileIO.removeGradually(path)
                    }
                }
            }
        }
        boundReplacedCopies()
    }

    /// Keeps the newest replaced copies within `replacedFilesMax` files and
    /// `replacedBytesMax` bytes, deleting the older ones.
    func boundReplacedCopies() {
        var bytes: Int64 = 0
        var kept: [(path: String, removedAt: Int64, bytes: Int64)] = []
        for (index, copy) in keptReplaced.sorted(by: { ($0.removedAt, $0.path) > ($1.removedAt, $1.path) }).enumerated() {
            bytes += copy.bytes
            if index >= options.replacedFilesMax || bytes > options.replacedBytesMax {
                FileIO.removeGradually(copy.path)
            } else {
                kept.append(copy)
            }
        }
        keptReplaced = kept
    }

    /// Takes a file a commit removed out of the table: renamed to its hidden replaced name
    /// (deleted by a later run's recovery once `replacedRetentionSeconds` have passed), or
    /// deleted at once when retention is 0. Deletes here and in recovery free large files in
    /// steps (`FileIO.removeGradually`) so the ingest lanes' fsyncs do not stall behind them;
    /// compaction runs on its own queue, so the pauses never hold a request thread.
    func retire(_ relative: String) {
        let path = layout.absolute(relative)
        SubjectKeyIndex.removeSegment(dataDirectory: dataDirectory, relative: relative)
        let copy = layout.absolute(WarehouseLayout.replacedName(relative))
        let bytes = options.replacedRetentionSeconds > 0 ? FileIO.fileSize(path) ?? 0 : 0
        if options.replacedRetentionSeconds <= 0 || rename(path, copy) != 0 {
            FileIO.removeGradually(path)
        } else {
            keptReplaced.append((copy, state.removedAtMicros[relative] ?? UTCTime.nowMicros(), bytes))
            boundReplacedCopies()
        }
    }

    func publish(_ relative: String) throws {
        let target = layout.absolute(relative)
        let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
        guard rename(hidden, target) == 0 else { throw FileIOError(operation: "rename", path: target, errno: errno) }
        try FileIO.fsyncDirectory(FileIO.parentDirectory(target))
    }

    // MARK: - Step 2: plan

    func planRawFiles(_ rawFiles: [RawLayout.RawFile], nowMicros: Int64) -> [RawLayout.RawFile] {
        let sealedBefore = nowMicros - options.sealGraceSeconds * 1_000_000
        return rawFiles.filter { file in
            if state.raw[file.key]?.complete == true { return false }
            let hourEnd = (file.hourIndex + 1) * 3_600_000_000
            return options.includeOpenHours || hourEnd <= sealedBefore
        }.sorted { ($0.hourIndex, $0.key) < ($1.hourIndex, $1.key) }
    }

    // MARK: - Step 3: read and normalize (the reading itself is in Compactor+Parse.swift)

    /// Adds one parsed file to the chunk and the report, in plan order.
    func apply(_ parsed: ParsedRawFile, file: RawLayout.RawFile, to chunk: inout CompactionChunk) {
        report.rawBytesIn += parsed.rawBytesIn
        if let error = parsed.unreadable {
            report.rawFilesUnreadable += 1
            logger.error("raw file cannot be inflated; skipped", metadata: ["raw.path": "\(file.path)", "error": "\(error)"])
            return
        }
        report.linesRead += parsed.linesRead
        report.linesInvalid += parsed.linesInvalid
        report.unknownProjectEvents += parsed.unknownProjectEvents
        report.castFailures += parsed.castFailures
        if parsed.tornTail { report.tornTailsSkipped += 1 }
        // Counted per run of one project (the report is a dictionary by project id).
        var runProject: String?
        var runLength = 0
        for projectID in parsed.rows.projectIDs {
            if projectID != runProject {
                if let runProject { report[project: runProject].eventsIn += runLength }
                runProject = projectID
                runLength = 0
            }
            runLength += 1
        }
        if let runProject { report[project: runProject].eventsIn += runLength }
        chunk.add(parsed.rows)
        if let progress = parsed.progress { chunk.raw.append(progress) }
    }
}

/// Rows of one chunk, in arrival order, and per partition the positions of its rows.
///
/// Rows are stored once, as columns (`EventColumns`), and referred to by position afterwards
/// (sorting, dedupe, segments, the sites merge).
struct CompactionChunk {
    struct PartitionKey: Hashable, Comparable {
        var projectID: String
        var month: String
        static func < (a: PartitionKey, b: PartitionKey) -> Bool { (a.projectID, a.month) < (b.projectID, b.month) }
    }
    var rows = EventColumnsBuilder()
    var partitions: [PartitionKey: [Int32]] = [:]
    var raw: [RawProgress] = []
    /// The month (time range) of the hour of the last raw file applied: `Compactor.run` ends
    /// the chunk where the plan enters a month that would not fit in it. Kept across `reset`.
    var lastFileMonth: Range<Int64> = 0..<0
    var eventCount: Int { rows.count }
    /// The partition of the previous row and its month's time range: consecutive rows
    /// mostly share it, which saves a month-key `String` and a hash lookup per row.
    private var lastKey: PartitionKey?
    private var lastMonth: Range<Int64> = 0..<0

    /// Appends a file's rows and files each under its partition.
    mutating func add(_ batch: EventColumns) {
        guard batch.count > 0 else { return }
        var position = Int32(rows.count)
        let times = batch.receivedAtMicros
        for (projectID, micros) in zip(batch.projectIDs, times) {
            if let key = lastKey, lastMonth.contains(micros), key.projectID == projectID {
                partitions[key]!.append(position)
            } else {
                let key = PartitionKey(projectID: projectID, month: WarehouseLayout.monthKey(micros: micros))
                partitions[key, default: []].append(position)
                lastKey = key
                lastMonth = Self.monthRange(micros: micros)
            }
            position += 1
        }
        rows.append(contentsOf: batch)
    }

    static func monthRange(micros: Int64) -> Range<Int64> {
        let civil = UTCTime.civil(micros: micros)
        let start = Int64(UTCTime.daysFromCivil(year: civil.year, month: civil.month, day: 1)) * 86_400_000_000
        let next = civil.month == 12 ? (civil.year + 1, 1) : (civil.year, civil.month + 1)
        let end = Int64(UTCTime.daysFromCivil(year: next.0, month: next.1, day: 1)) * 86_400_000_000
        return start..<end
    }

    /// Empties the chunk for the next one (`rows` was emptied by `finish` when committing).
    mutating func reset() {
        partitions = [:]
        raw = []
        lastKey = nil
        lastMonth = 0..<0
    }

    var isEmpty: Bool { rows.count == 0 && raw.isEmpty }
}

/// An exclusive `flock` held for the compactor's lifetime.
final class CompactionLock {
    private var fd: Int32

    init(path: String) throws {
        try FileIO.makeDirectories(FileIO.parentDirectory(path))
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            fd = -1
            throw WarehouseError(.locked, "another compaction is running on \(FileIO.parentDirectory(path)); wait for it to finish")
        }
    }

    func release() {
        if fd >= 0 { close(fd); fd = -1 }
    }

    deinit { release() }
}
