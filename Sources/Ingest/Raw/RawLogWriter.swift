import Foundation
import Logging
import Metrics

/// The durable front door: appends envelope lines to hourly raw files with group commit.
///
/// Algorithm:
/// 1. `append` hands a line to the pending queue and suspends the request's task.
/// 2. One flusher thread (not the async pool: fsync blocks) takes *everything* pending as a
///    batch, writes each line to the file of its (route, UTC hour) with one `write` per file,
///    then hands the batch to a sync worker, which fsyncs every file the batch touched. A new
///    file or folder also fsyncs its parent folder (on the flusher, before the write).
/// 3. Pipelining: up to `syncInFlightMax` batches are being fsynced at once (one sync worker
///    thread each), so batch N+1 is written and its fsync issued while batch N's fsync runs.
///    While all slots are busy, new requests pile up and share the next batch: under load the
///    batch grows instead of the queue of fsyncs. (Measured on the reference VM: one fsync
///    stream completes ~200 fsyncs/s, two concurrent streams on the same file ~2,000/s; the
///    ingest benchmark is best at 4 slots, see BENCHMARKS.md.)
/// 3a. Batches complete strictly in write order: a batch's requests are resumed only after
///    its own fsyncs returned *and* every earlier batch completed, so a `200` always means
///    "on disk", and a file's durable size only moves forward over a gap-free prefix.
///    `fsync` (not `fdatasync`): every append changes the file size, which `fdatasync` must
///    persist too, so it saves nothing here and `fsync` states the intent plainly.
/// 4. A failed write or fsync (disk full) fails only the lines of that file in that batch and
///    in every later in-flight batch on that file (their bytes sit after the failed ones), then
///    the flusher waits until no fsync of the file is in flight, truncates it back to its last
///    durable size and stops using it (the server answers 503). The writer stays usable: the
///    next batch tries again, so the server recovers when space returns.
/// 5. Files rotate per hour and at `fileBytesMax`. Files whose hour ended more than
///    `sealDelay` ago are closed and handed to the sealer, which gzips them (temp + fsync +
///    rename) and removes the plain file.
/// 6. On start, files of this writer that a crash left behind are repaired: a torn last line
///    (no newline) is cut. Appends never go to a file of an earlier run: each run opens new
///    sequence numbers, so a repaired file is never written again.
public final class RawLogWriter: @unchecked Sendable {
    public struct Options: Sendable {
        public var writerID: String
        /// Batches whose fsync may run at the same time (sync worker threads). 1 is the classic
        /// serial group commit. `TRACKHOUSE_INGEST_SYNC_IN_FLIGHT` overrides the default.
        public var syncInFlightMax: Int = Options.defaultSyncInFlightMax
        public static var defaultSyncInFlightMax: Int {
            if let text = getenv("TRACKHOUSE_INGEST_SYNC_IN_FLIGHT"), let value = Int(String(cString: text)), value >= 1 {
                return min(value, 16)
            }
            return 4
        }
        public var fileBytesMax: Int64 = 256 << 20
        /// Grace after an hour ends before its files are closed and sealed; late requests
        /// stamped in the old hour still land in it meanwhile.
        public var sealDelaySeconds: Int64 = 120
        public var sealEnabled = true
        public init(writerID: String) { self.writerID = writerID }
    }

    public enum AppendError: Error, CustomStringConvertible, Sendable {
        case diskFull(String)
        case io(String)
        case shuttingDown

        public var description: String {
            switch self {
            case .diskFull(let message): return "disk full: \(message)"
            case .io(let message): return "write failed: \(message)"
            case .shuttingDown: return "the server is shutting down"
            }
        }
    }

    /// Test hook: called before each batch write; return an errno to simulate a failure.
    public var faultInjector: (@Sendable () -> Int32?)?
    /// Test hook: called before each fsync; return an errno to simulate a failed fsync.
    public var fsyncFaultInjector: (@Sendable () -> Int32?)?

    public let layout: RawLayout
    public let options: Options
    let logger: Logger

    /// Guards `pending`, `stopping`, `stopped`, `inFlight` and the shared fields of `OpenFile`.
    private let mutex = NSCondition()
    private var pending: [PendingLine] = []
    /// Batches written and not yet completed, in write order (completion is in this order).
    private var inFlight: [SyncJob] = []
    /// Guards `syncQueue` and `syncStop`: jobs waiting for a sync worker.
    private let syncCondition = NSCondition()
    private var syncQueue: [SyncJob] = []
    private var syncStop = false
    private var syncThreads: [Thread] = []
    private var stopping = false
    private var stopped = false
    private var flusherThread: Thread?
    private var lockFD: Int32 = -1
    private let sealer: RawFileSealer

    // Flusher-thread state (only touched by the flusher thread after start).
    private var openFiles: [FileKey: OpenFile] = [:]
    private var knownDirectories = Set<String>()

    private let bytesWritten = Counter(label: "trackhouse_ingest_bytes_written_total")
    private let fsyncTimer = Metrics.Timer(label: "trackhouse_ingest_fsync_seconds")
    private let batchSize = Recorder(label: "trackhouse_ingest_group_commit_batch_size")
    private let fsyncCount = Counter(label: "trackhouse_ingest_fsyncs_total")

    struct PendingLine {
        var key: FileKey
        var bytes: [UInt8]
        var continuation: CheckedContinuation<Void, any Error>
    }

    struct FileKey: Hashable {
        var route: Envelope.Route
        var hourIndex: Int64
    }

    final class OpenFile {
        let path: String
        let fd: Int32
        /// Bytes known durable; a failed write is truncated back to this. Under `mutex`.
        var durableSize: Int64
        /// Batches holding this file whose fsync has not completed. Under `mutex`.
        var syncsInFlight = 0
        /// An fsync of this file failed: later in-flight batches on it fail too. Under `mutex`.
        var failed = false
        /// Bytes written (durable or not): the flusher's view, for rotation. Flusher only.
        var writtenSize: Int64
        var lastWriteMicros: Int64
        init(path: String, fd: Int32, size: Int64, now: Int64) {
            self.path = path
            self.fd = fd
            self.durableSize = size
            self.writtenSize = size
            self.lastWriteMicros = now
        }
    }

    /// One written batch on its way through fsync.
    final class SyncJob {
        let lines: [PendingLine]
        /// Per touched file: the file, the size it has once this batch is durable, its lines.
        let files: [(key: FileKey, file: OpenFile, end: Int64, indices: [Int])]
        /// Lines already failed by the write phase.
        var failures: [Int: AppendError]
        /// Set by the sync worker: the fsync error per entry of `files` (nil = durable).
        var syncErrors: [AppendError?] = []
        var synced = false
        init(lines: [PendingLine], files: [(key: FileKey, file: OpenFile, end: Int64, indices: [Int])], failures: [Int: AppendError]) {
            self.lines = lines
            self.files = files
            self.failures = failures
        }
    }

    public init(layout: RawLayout, options: Options, logger: Logger) {
        self.layout = layout
        self.options = options
        self.logger = logger
        self.sealer = RawFileSealer(logger: logger)
    }

    /// Takes the writer lock, repairs files a crash left, queues past hours for sealing and
    /// starts the flusher.
    public func start() throws {
        try FileIO.makeDirectories(layout.rawRoot)
        let lockPath = layout.rawRoot + "/.writer-\(options.writerID).lock"
        lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else { throw FileIOError(operation: "open", path: lockPath, errno: errno) }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            close(lockFD)
            lockFD = -1
            throw RawWriterStartError(message: "another trackhouse process is writing raw files as writer '\(options.writerID)' in \(layout.rawRoot); stop it or give this one another --writer-id")
        }
        try recoverOwnFiles()
        if options.sealEnabled { sealer.start() }
        for index in 0..<max(1, options.syncInFlightMax) {
            let worker = Thread { [weak self] in self?.syncWorkerLoop() }
            worker.name = "trackhouse-raw-sync-\(index)"
            worker.stackSize = 1 << 20
            syncThreads.append(worker)
            worker.start()
        }
        let thread = Thread { [weak self] in self?.flusherLoop() }
        thread.name = "trackhouse-raw-flusher"
        thread.stackSize = 1 << 20
        flusherThread = thread
        thread.start()
    }

    /// Appends one line durably. Returns once it is fsynced; not cancellable on purpose: a
    /// client that hangs up after sending a complete request still gets its data stored.
    public func append(line: [UInt8], route: Envelope.Route, receivedAtMicros: Int64) async throws {
        let key = FileKey(route: route, hourIndex: RawLayout.hourIndex(micros: receivedAtMicros))
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            mutex.lock()
            if stopping {
                mutex.unlock()
                continuation.resume(throwing: AppendError.shuttingDown)
                return
            }
            pending.append(PendingLine(key: key, bytes: line, continuation: continuation))
            // The flusher only sleeps for work when `pending` is empty, so only the first line of
            // a batch needs to wake it; the rest would be futile wakeups under load.
            if pending.count == 1 { mutex.signal() }
            mutex.unlock()
        }
    }

    /// Refuses new appends, flushes what is pending, closes files and seals past hours.
    public func shutdown() {
        mutex.lock()
        if stopping {
            while !stopped { mutex.wait() }
            mutex.unlock()
            return
        }
        stopping = true
        mutex.broadcast()
        while !stopped { mutex.wait() }
        mutex.unlock()
        sealer.stop()
        if lockFD >= 0 { close(lockFD); lockFD = -1 }
    }

    public var isStopping: Bool {
        mutex.lock(); defer { mutex.unlock() }
        return stopping
    }

    // MARK: - Flusher

    private func flusherLoop() {
        let inFlightMax = max(1, options.syncInFlightMax)
        while true {
            mutex.lock()
            while true {
                if pending.isEmpty {
                    if stopping { break }
                    // Wake at least every second to close and seal finished hours.
                    _ = mutex.wait(until: Date(timeIntervalSinceNow: 1))
                    if pending.isEmpty && !stopping {
                        mutex.unlock()
                        closeFinishedHours(nowMicros: UTCTime.nowMicros())
                        mutex.lock()
                    }
                } else if inFlight.count >= inFlightMax {
                    // Every sync slot is busy: let the batch grow until one completes.
                    mutex.wait()
                } else {
                    break
                }
            }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            let finishing = stopping && batch.isEmpty
            mutex.unlock()
            if finishing { break }
            writeBatch(batch)
        }
        // Every append has been written; wait for their fsyncs, then stop the sync workers.
        mutex.lock()
        while !inFlight.isEmpty { mutex.wait() }
        mutex.unlock()
        syncCondition.lock()
        syncStop = true
        syncCondition.broadcast()
        syncCondition.unlock()
        for (key, file) in openFiles { retire(key: key, file: file) }
        openFiles.removeAll()
        mutex.lock()
        stopped = true
        mutex.broadcast()
        mutex.unlock()
    }

    private func syncWorkerLoop() {
        while true {
            syncCondition.lock()
            while syncQueue.isEmpty && !syncStop { syncCondition.wait() }
            if syncQueue.isEmpty {
                syncCondition.unlock()
                return
            }
            let job = syncQueue.removeFirst()
            syncCondition.unlock()
            var errors: [AppendError?] = []
            errors.reserveCapacity(job.files.count)
            for entry in job.files {
                let started = DispatchTime.now().uptimeNanoseconds
                do {
                    if let injected = fsyncFaultInjector?() {
                        throw FileIOError(operation: "fsync", path: entry.file.path, errno: injected)
                    }
                    try FileIO.fsyncFile(fd: entry.file.fd, path: entry.file.path)
                    fsyncTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
                    fsyncCount.increment()
                    errors.append(nil)
                } catch {
                    errors.append(classify(error))
                }
            }
            complete(job, errors: errors)
        }
    }

    /// Records a job's fsync results, then completes every job at the head of `inFlight` whose
    /// fsyncs are done, in write order, and resumes their requests.
    private func complete(_ job: SyncJob, errors: [AppendError?]) {
        var ready: [SyncJob] = []
        var durableBytes = 0
        mutex.lock()
        job.syncErrors = errors
        job.synced = true
        while let head = inFlight.first, head.synced {
            inFlight.removeFirst()
            for (position, entry) in head.files.enumerated() {
                let file = entry.file
                file.syncsInFlight -= 1
                if let error = head.syncErrors[position] {
                    file.failed = true
                    for index in entry.indices { head.failures[index] = error }
                } else if file.failed {
                    // An earlier fsync of this file failed: these bytes follow the lost ones.
                    for index in entry.indices { head.failures[index] = .io("an earlier fsync of \(file.path) failed") }
                } else if entry.end > file.durableSize {
                    durableBytes += Int(entry.end - file.durableSize)
                    file.durableSize = entry.end
                }
            }
            ready.append(head)
        }
        mutex.broadcast()
        mutex.unlock()
        if durableBytes > 0 { bytesWritten.increment(by: durableBytes) }
        for done in ready {
            for (index, line) in done.lines.enumerated() {
                if let failure = done.failures[index] { line.continuation.resume(throwing: failure) } else { line.continuation.resume() }
            }
        }
    }

    /// Waits until no fsync of `file` is in flight (flusher thread only), then closes it: sealed
    /// when intact, cut back to its durable size when a write or fsync of it failed.
    private func retire(key: FileKey, file: OpenFile, abandoning: Bool = false) {
        mutex.lock()
        while file.syncsInFlight > 0 { mutex.wait() }
        let failed = file.failed
        mutex.unlock()
        if abandoning || failed {
            abandon(key: key, file: file)
        } else {
            close(file.fd)
            if openFiles[key] === file { openFiles[key] = nil }
            if options.sealEnabled { sealer.enqueue(file.path) }
        }
    }

    private func writeBatch(_ batch: [PendingLine]) {
        batchSize.record(batch.count)
        let now = UTCTime.nowMicros()
        // Group lines by file, keeping arrival order within each file.
        var order: [FileKey] = []
        var groups: [FileKey: [Int]] = [:]
        for (index, line) in batch.enumerated() {
            if groups[line.key] == nil { order.append(line.key) }
            groups[line.key, default: []].append(index)
        }
        var failures: [Int: AppendError] = [:]
        var touched: [(key: FileKey, file: OpenFile, end: Int64, indices: [Int])] = []
        for key in order {
            let indices = groups[key]!
            var buffer: [UInt8] = []
            buffer.reserveCapacity(indices.reduce(0) { $0 + batch[$1].bytes.count })
            for index in indices { buffer.append(contentsOf: batch[index].bytes) }
            do {
                let file = try openFile(for: key, adding: Int64(buffer.count), now: now)
                if let injected = faultInjector?() {
                    throw FileIOError(operation: "write", path: file.path, errno: injected)
                }
                try buffer.withUnsafeBytes { (raw) throws in try FileIO.writeAll(fd: file.fd, raw, path: file.path) }
                file.lastWriteMicros = now
                file.writtenSize += Int64(buffer.count)
                touched.append((key: key, file: file, end: file.writtenSize, indices: indices))
            } catch {
                let failure = classify(error)
                for index in indices { failures[index] = failure }
                // Earlier batches' bytes in this file may still be on their way to disk: wait
                // for them, then cut the file back to what is durable.
                if let file = openFiles[key] { retire(key: key, file: file, abandoning: true) }
            }
        }
        let job = SyncJob(lines: batch, files: touched, failures: failures)
        mutex.lock()
        for entry in touched { entry.file.syncsInFlight += 1 }
        inFlight.append(job)
        mutex.unlock()
        if touched.isEmpty {
            complete(job, errors: [])
            return
        }
        syncCondition.lock()
        syncQueue.append(job)
        syncCondition.signal()
        syncCondition.unlock()
    }

    private func classify(_ error: any Error) -> AppendError {
        if let io = error as? FileIOError {
            return io.isDiskFull ? .diskFull(io.description) : .io(io.description)
        }
        return .io("\(error)")
    }

    /// After a failed write or fsync the file's tail is unknown: cut it back to the last durable
    /// size and stop using it. The next line for that hour opens a new sequence number.
    private func abandon(key: FileKey, file: OpenFile) {
        _ = ftruncate(file.fd, off_t(file.durableSize))
        _ = fsync(file.fd)
        close(file.fd)
        openFiles[key] = nil
        logger.warning("raw file abandoned after a failed write", metadata: ["raw.path": "\(file.path)", "raw.bytes": "\(file.durableSize)"])
        if file.durableSize == 0 { unlink(file.path) } else if options.sealEnabled, isPastHour(key.hourIndex, now: UTCTime.nowMicros()) {
            sealer.enqueue(file.path)
        }
    }

    private func openFile(for key: FileKey, adding bytes: Int64, now: Int64) throws -> OpenFile {
        if let file = openFiles[key] {
            mutex.lock()
            let failed = file.failed
            mutex.unlock()
            if failed {
                // An fsync of it failed: cut it back and continue in a new file.
                retire(key: key, file: file)
            } else if file.writtenSize + bytes <= options.fileBytesMax || file.writtenSize == 0 {
                return file
            } else {
                retire(key: key, file: file)
            }
        }
        let directory = layout.hourDirectory(route: key.route, hourIndex: key.hourIndex)
        if !knownDirectories.contains(directory) {
            try makeDurableDirectories(directory)
            knownDirectories.insert(directory)
        }
        let sequence = nextSequence(in: directory)
        let path = directory + "/" + Self.fileName(writerID: options.writerID, sequence: sequence)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError(operation: "create", path: path, errno: errno) }
        try FileIO.fsyncDirectory(directory)
        let file = OpenFile(path: path, fd: fd, size: 0, now: now)
        openFiles[key] = file
        return file
    }

    private func makeDurableDirectories(_ directory: String) throws {
        var missing: [String] = []
        var current = directory
        while !FileIO.isDirectory(current) && current != layout.rawRoot && current.count > 1 {
            missing.append(current)
            current = FileIO.parentDirectory(current)
        }
        try FileIO.makeDirectories(directory)
        // A new folder is only durable once its parent's entry is: fsync each parent.
        for created in missing { try FileIO.fsyncDirectory(FileIO.parentDirectory(created)) }
    }

    static func fileName(writerID: String, sequence: Int) -> String {
        let digits = String(sequence)
        return "\(writerID)-\(String(repeating: "0", count: max(0, 6 - digits.count)))\(digits).ndjson"
    }

    private func nextSequence(in directory: String) -> Int {
        let prefix = options.writerID + "-"
        var highest = 0
        for name in FileIO.list(directory) {
            let base = name.hasPrefix(".tmp-") ? String(name.dropFirst(5)) : name
            guard base.hasPrefix(prefix) else { continue }
            let rest = base.dropFirst(prefix.count)
            if let dot = rest.firstIndex(of: "."), let sequence = Int(rest[..<dot]) { highest = max(highest, sequence) }
        }
        return highest + 1
    }

    private func isPastHour(_ hourIndex: Int64, now: Int64) -> Bool {
        (hourIndex + 1) * 3_600_000_000 + options.sealDelaySeconds * 1_000_000 <= now
    }

    private func closeFinishedHours(nowMicros: Int64) {
        for (key, file) in openFiles where isPastHour(key.hourIndex, now: nowMicros) {
            retire(key: key, file: file)
        }
    }

    // MARK: - Recovery

    /// Cuts torn tails from this writer's plain files and queues finished hours for sealing.
    private func recoverOwnFiles() throws {
        let now = UTCTime.nowMicros()
        let prefix = options.writerID + "-"
        for file in layout.listFiles() where !file.isCompressed && file.canonicalName.hasPrefix(prefix) {
            try RawFileRepair.cutTornTail(path: file.path, logger: logger)
            if options.sealEnabled && isPastHour(file.hourIndex, now: now) { sealer.enqueue(file.path) }
        }
    }
}

public struct RawWriterStartError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

public enum RawFileRepair {
    /// If the file does not end with a newline, truncates it after its last newline (or to
    /// zero) and fsyncs: the torn line was never acknowledged, since acknowledgement waits
    /// for the fsync of the whole line.
    @discardableResult
    public static func cutTornTail(path: String, logger: Logger) throws -> Int64 {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileIOError(operation: "stat", path: path, errno: errno) }
        let size = Int64(info.st_size)
        if size == 0 { return 0 }
        // Scan backwards in blocks for the last newline.
        var end = size
        var keep: Int64 = 0
        var block = [UInt8](repeating: 0, count: 64 * 1024)
        search: while end > 0 {
            let start = max(0, end - Int64(block.count))
            let length = Int(end - start)
            let n = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, length, off_t(start)) }
            guard n == length else { throw FileIOError(operation: "read", path: path, errno: errno) }
            var index = length - 1
            while index >= 0 {
                if block[index] == 0x0A {
                    keep = start + Int64(index) + 1
                    break search
                }
                index -= 1
            }
            end = start
        }
        if keep == size { return 0 }
        guard ftruncate(fd, off_t(keep)) == 0 else { throw FileIOError(operation: "truncate", path: path, errno: errno) }
        guard fsync(fd) == 0 else { throw FileIOError(operation: "fsync", path: path, errno: errno) }
        logger.warning("cut a torn last line left by a crash", metadata: ["raw.path": "\(path)", "raw.bytes_cut": "\(size - keep)"])
        return size - keep
    }
}
