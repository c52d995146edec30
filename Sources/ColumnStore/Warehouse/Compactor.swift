import Foundation
import Ingest
import Logging

/// `trackhouse compact`: raw envelope files → Parquet `events` segments and `sites` snapshots.
///
/// Algorithm (one compactor at a time, by `flock` on `warehouse/.compact.lock`):
/// 1. Replay the commit log (`_log/NNN.json`) into the state: live segments and, per raw file,
///    how many bytes of it are compacted. Recover from a crash at any earlier point:
///    a committed file still under its hidden `.tmp-` name is renamed into place (roll
///    forward); any other `.tmp-` file is an uncommitted leftover and is deleted; files a
///    commit removed but that still exist are deleted.
/// 2. Plan: raw files with bytes not yet compacted. By default only hours that ended more
///    than `sealGraceSeconds` ago (sealed hours); `includeOpenHours` also takes the complete
///    lines of files still being written (freshness).
/// 3. Per chunk of raw files (about `chunkEventsMax` events): decode each new line, normalize
///    it (CONTRACT §4), drop unknown projects (counted), group by (project, month).
/// 4. Dedupe by envelope `id`: within the chunk, and against committed segments of the same
///    partition whose `received_at` range overlaps (a duplicate envelope carries the same
///    `received_at`, so it can only sit in that partition and time range).
/// 5. Write each partition's rows, sorted by (received_at, event_id), to a hidden
///    `.tmp-part-….parquet`; merge the previous `sites` snapshot of each touched project with
///    the new rows into a hidden new snapshot (a sorted merge on site_key: never a rescan of
///    history).
/// 6. Commit: one log entry adds the new files, removes the replaced snapshots and records the
///    raw progress. The entry is created put-if-absent after fsync, so it exists whole or not.
/// 7. Publish: rename the hidden files to their names, fsync the folders, delete replaced
///    files. A crash between 6 and 7 is finished by step 1 of the next run; a crash before 6
///    leaves only `.tmp-` files (deleted) and uncommitted raw progress (redone). So a rerun
///    after a crash at any point yields the same tables, with no loss and no duplicates.
/// 8. Merge: per partition, segments below `segmentRowsTarget` are merged (sorted by
///    received_at, event_id) into files of up to that many rows, committed like step 6–7.
public enum MergePolicy: String, Sendable { case full, tiered }

public final class Compactor {
    public struct Options: Sendable {
        public var includeOpenHours = false
        /// Seconds after an hour ends before it counts as sealed.
        public var sealGraceSeconds: Int64 = 300
        public var chunkEventsMax = 100_000
        public var segmentRowsTarget = 524_288
        public var rowGroupRows = 131_072
        public var mergeSmallSegments = true
        /// `.full` merges every segment below the target (a batch run); `.tiered` merges only
        /// when four segments of similar size have piled up (frequent small runs in the
        /// server), which bounds how often a row is rewritten to log4 of the month's size.
        public var mergePolicy: MergePolicy = .full
        /// Delete raw files fully compacted and older than this many days (nil: keep forever).
        public var rawRetentionDays: Int? = nil
        public var zstdLevel: Int32 = 3
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
    let progress: ((Int, Int, String) -> Void)?

    public init(dataDirectory: String, options: Options = Options(), logger: Logger,
                progress: ((Int, Int, String) -> Void)? = nil) {
        self.dataDirectory = dataDirectory
        self.options = options
        self.logger = logger
        self.layout = WarehouseLayout(dataDirectory: dataDirectory)
        self.rawLayout = RawLayout(dataDirectory: dataDirectory)
        self.progress = progress
    }

    /// Runs steps 1–8 and returns the summary.
    public func run() throws -> CompactionReport {
        let started = DispatchTime.now().uptimeNanoseconds
        try FileIO.makeDirectories(layout.logDirectory)
        let lock = try CompactionLock(path: layout.root + "/.compact.lock")
        defer { lock.release() }
        registry = try loadRegistry()
        state = try WarehouseLog.load(layout: layout)
        try recover()

        let plan = planRawFiles(nowMicros: UTCTime.nowMicros())
        report.rawFilesPlanned = plan.count
        var chunk = CompactionChunk()
        for (index, file) in plan.enumerated() {
            try readNewLines(file, into: &chunk)
            progress?(index + 1, plan.count, file.key)
            if chunk.eventCount >= options.chunkEventsMax {
                try commitChunk(&chunk)
            }
        }
        try commitChunk(&chunk)
        if options.mergeSmallSegments { try mergeSmallSegments() }
        if let days = options.rawRetentionDays { applyRawRetention(days: days) }
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        report.warehouseVersion = state.version
        return report
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
        for table in ["events", "sites"] {
            for path in FileIO.walkFiles(layout.root + "/" + table, includeHidden: true) {
                let name = FileIO.lastComponent(path)
                if name.hasPrefix(".tmp-") {
                    FileIO.remove(path)
                } else if name.hasSuffix(".parquet") {
                    let relative = String(path.dropFirst(layout.root.count + 1))
                    if !live.contains(relative) {
                        // Removed by a commit (or never committed under this name): not part of the table.
                        FileIO.remove(path)
                    }
                }
            }
        }
    }

    func publish(_ relative: String) throws {
        let target = layout.absolute(relative)
        let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
        guard rename(hidden, target) == 0 else { throw FileIOError(operation: "rename", path: target, errno: errno) }
        try FileIO.fsyncDirectory(FileIO.parentDirectory(target))
    }

    // MARK: - Step 2: plan

    func planRawFiles(nowMicros: Int64) -> [RawLayout.RawFile] {
        let sealedBefore = nowMicros - options.sealGraceSeconds * 1_000_000
        return rawLayout.listFiles().filter { file in
            if state.raw[file.key]?.complete == true { return false }
            let hourEnd = (file.hourIndex + 1) * 3_600_000_000
            return options.includeOpenHours || hourEnd <= sealedBefore
        }.sorted { ($0.hourIndex, $0.key) < ($1.hourIndex, $1.key) }
    }

    // MARK: - Step 3: read and normalize

    func readNewLines(_ file: RawLayout.RawFile, into chunk: inout CompactionChunk) throws {
        let done = state.raw[file.key]?.bytes ?? 0
        // `content` holds the file's uncompressed bytes from offset `base`: a plain file is
        // read only past what is already compacted (open hours are re-read every few
        // seconds in `serve`); a gzip file must be inflated from its start.
        let content: [UInt8]
        let base: Int
        if file.isCompressed {
            let compressed = try FileIO.readFile(file.path)
            report.rawBytesIn += Int64(compressed.count)
            do { content = try Gzip.inflate(compressed) } catch {
                report.rawFilesUnreadable += 1
                logger.error("raw file cannot be inflated; skipped", metadata: ["raw.path": "\(file.path)", "error": "\(error)"])
                return
            }
            base = 0
        } else {
            content = try FileIO.readFile(file.path, fromOffset: done)
            report.rawBytesIn += Int64(content.count)
            base = Int(done)
        }
        let nowMicros = UTCTime.nowMicros()
        let hourEnd = (file.hourIndex + 1) * 3_600_000_000
        // A plain file of an hour past the writer's seal delay can no longer grow.
        let final = file.isCompressed || hourEnd + options.sealGraceSeconds * 1_000_000 <= nowMicros
        // Positions below are relative to `content`; `consumed` ends up as the end of the
        // last complete line.
        var consumed = min(content.count, max(0, Int(done) - base))
        var normalizer = EventLineNormalizer(registry: registry)
        content.withUnsafeBytes { buffer in
            var start = consumed
            while start < buffer.count {
                guard let newline = UnsafeRawBufferPointer(rebasing: buffer[start...]).firstIndex(of: 0x0A) else { break }
                let end = start + newline
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                start = end + 1
                consumed = start
                if line.isEmpty { continue }
                report.linesRead += 1
                switch normalizer.normalize(line: line) {
                case .invalid:
                    report.linesInvalid += 1
                case .unknownProject:
                    report.unknownProjectEvents += 1
                case .event(let row, let castFailures):
                    report.castFailures += castFailures
                    report[project: row.projectID].eventsIn += 1
                    chunk.add(row)
                }
            }
        }
        // A torn tail (no newline) is left for later: it is either completed by its writer
        // or cut by the writer's recovery; it was never acknowledged.
        if final && consumed < content.count { report.tornTailsSkipped += 1 }
        chunk.raw.append(RawProgress(key: file.key, bytes: Int64(base + consumed), complete: final))
    }
}

/// Rows of one chunk, grouped by partition.
struct CompactionChunk {
    struct PartitionKey: Hashable, Comparable {
        var projectID: String
        var month: String
        static func < (a: PartitionKey, b: PartitionKey) -> Bool { (a.projectID, a.month) < (b.projectID, b.month) }
    }
    var partitions: [PartitionKey: [EventRow]] = [:]
    var raw: [RawProgress] = []
    var eventCount = 0

    mutating func add(_ row: EventRow) {
        partitions[PartitionKey(projectID: row.projectID, month: WarehouseLayout.monthKey(micros: row.receivedAtMicros)), default: []].append(row)
        eventCount += 1
    }

    var isEmpty: Bool { partitions.isEmpty && raw.isEmpty }
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
