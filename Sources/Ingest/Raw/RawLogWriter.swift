import Core
import Foundation
import Logging
import Metrics

/// The durable front door: appends envelope lines to hourly raw files with group commit.
///
/// Algorithm:
/// 1. `append` hands a line to the pending queue and suspends the request's task. If the
///    line starts a new batch and a lane is idle, the lowest-numbered idle lane is woken.
/// 2. A lane (a thread, not the async pool: fsync blocks) takes *everything* pending as a
///    batch, writes each line to its own open file of the line's (route, UTC hour) with one
///    `write` per file, fsyncs every file the batch touched, and resumes the batch's
///    requests. A new file or folder also fsyncs its parent folder before the first write.
/// 2a. Commit interval: when `delayAfterBatchLines` or more lines arrived while the previous
///    batch was written and fsynced (many concurrent clients), a lane that finds lines pending
///    less than `commitIntervalMicros` after the previous batch (any lane) started waits out
///    the rest of the interval, unless `batchLinesTarget` lines are already waiting (the
///    append that reaches the target wakes it). An idle writer, or one serving a handful of
///    clients, commits at once; under sustained load from many clients the fsyncs are spaced
///    and each carries more lines. Off by default (`commitIntervalMicros` 0): on the
///    reference VM 1 ms took batches from ~12 to ~20–29 lines and saved 3–5 µs of server CPU
///    per request at 64 clients, for no throughput gain there and a 10–30% loss with 16–32
///    closed-loop clients. It is for disks where fsyncs are the scarce resource (IOPS-limited
///    volumes); see BENCHMARKS.md.
/// 3. With more than one lane (default 1), batches run in parallel, up to `lanes` at once,
///    and each lane writes its own files
///    (`<writer>-<seq>.ndjson`, sequence numbers taken under one lock), so the fsyncs of
///    different lanes never wait for each other and need no ordering between them. A lane
///    that finishes a batch takes whatever piled up meanwhile: under load the batches grow
///    instead of the queue of fsyncs. Preferring the lowest idle lane keeps light traffic on
///    lane 0, so a quiet hour still gets one file per route.
///    Each lane writes, fsyncs and resumes by itself: a thread hand-off on a busy 2-core
///    machine costs scheduling latency.
/// 3a. A lane handles one batch at a time, so a `200` always means "on disk" and each file's
///    durable size only moves forward over a gap-free prefix.
///    `fdatasync`, not `fsync`: every append changes the file size, which `fdatasync` must
///    persist with the data ("metadata needed for a subsequent data retrieval", fdatasync(2)),
///    so a 200 means the same; it skips only the timestamps. On the reference VM it cost less
///    CPU per sync and gave +0.03 of the ingest ratio over 16 paired rounds (measured 2026-12-03, git
///    history of BENCHMARKS.md). The metrics keep their names (`trackhouse_ingest_fsync_seconds`, …).
/// 4. A failed write or fsync (disk full) fails only the lines of that file in that batch; the
///    lane truncates the file back to its last durable size and stops using it (the server
///    answers 503). The writer stays usable: the next batch tries a new file, so the server
///    recovers when space returns.
/// 5. Files rotate per hour and at `fileBytesMax`. At most once a second each lane closes its
///    files whose hour ended more than `sealDelay` ago and hands them to the sealer, which
///    gzips them (temp + fsync + rename) and removes the plain file.
/// 5a. A file that rotated at `fileBytesMax` within its hour is complete and readable, but
///    it is sealed with its hour, not at once: gzip is background work that, even at idle
///    priority, takes its CPU from the requests nearly one for one (BENCHMARKS.md), and a
///    rotation within the hour means the requests are at their busiest. The lane keeps such
///    files aside and hands them over once their hour is sealed, or at once (oldest first,
///    at the cheap level) while more than `deferredSealBytesMax` of them wait, so the plain
///    backlog on disk stays bounded, or when the lane stops.
/// 5b. `rotateOpenFiles` (a privacy erase about to rewrite raw files): every lane closes its
///    open files as in 5a before its next batch, and the call returns once all lanes have;
///    later lines go to new files, so a file renamed over by the erase loses no append.
/// 6. On start, files of this writer that a crash left behind are repaired: a torn last line
///    (no newline) is cut; those of past hours are queued for sealing, the others wait for
///    their hour with lane 0's deferred files (5a). Appends never go to a file of an earlier
///    run: each run opens new sequence numbers, so a repaired file is never written again.
/// 6a. Recovery lists only hours from the writer's settled hour (`raw/.writer-<id>.settled`),
///    below which the writer has no plain file: a start costs the recent hours, not years of
///    raw folders. Invariant: every plain file of this writer (and every plain copy left next
///    to its `.gz`) lies in an hour at or after the settled hour on disk. Kept by (i) after
///    recovery, writing min(the oldest plain file found, the current hour) — the files found
///    stay plain until sealed and this run creates files from the current hour on — and
///    (ii) lowering the file first (written and fsynced) before creating a file in an earlier
///    hour (a clock stepped back). No file, or one that does not parse, lists everything.
///
/// `@unchecked Sendable` (not a `Mutex`: the lanes and `shutdown` wait on the `NSCondition`):
/// `pending`, `idleLanes`, `delayingLanes`, `lastBatchStartNanos`, `arrivedDuringLastBatch`,
/// `stopping`, `lanesRunning`, `rotationGeneration` and `rotationAcks` are only touched with `mutex` held; `knownDirectories` and
/// `settledHour` only with `creation` held (and by `start()` before the lanes exist); a `Lane`'s fields only by its own thread; `lanes`,
/// `recoveredUnsealed`, `lockFD` and the fault injectors are written only by `start()` before
/// the lane threads exist (and by test set-up before it), and `lockFD` again by `shutdown()`
/// after every lane has stopped; everything else is a `let` of a Sendable type.
public final class RawLogWriter: @unchecked Sendable {
    public struct Options: Sendable {
        public var writerID: String
        /// Lanes: batches that may be written and fsynced at the same time, each by its own
        /// thread into its own files. 1 (the default) is the classic serial group commit,
        /// which measured the least CPU per request; more lanes keep batches moving while one
        /// fsync is slow (`serve --commit-lanes`).
        public var lanes: Int = 1
        /// Commit interval (step 2a): under sustained load a batch does not start sooner than
        /// this after the previous batch started (any lane), unless `batchLinesTarget` lines
        /// are already waiting. An idle writer commits a new line at once. 0 disables it
        /// (`serve --commit-interval-us`).
        public var commitIntervalMicros: Int = 0
        /// The commit interval applies only when at least this many lines arrived while the
        /// previous batch was written and fsynced: a sign of enough concurrent clients to keep
        /// the cores busy while the next batch fills. With fewer (closed-loop benchmarks with
        /// 2–16 clients) waiting only idles them: 1 ms cost 10–50% of their throughput.
        public var delayAfterBatchLines: Int = 6
        /// Lines that start a batch before the commit interval has passed.
        public var batchLinesTarget: Int = 32
        public var fileBytesMax: Int64 = 256 << 20
        /// Step 5a: rotated files of unfinished hours wait at most this many bytes per writer
        /// (split between the lanes) before the oldest is sealed anyway.
        public var deferredSealBytesMax: Int64 = 2 << 30
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
    /// Files abandoned one after another (a full disk) are logged once per 10 s with a count.
    let abandonLog = LogThrottle(intervalSeconds: 10)

    /// Guards `pending`, `idleLanes`, `stopping` and `lanesRunning`.
    private let mutex = NSCondition()
    private var pending: [PendingLine] = []
    /// Bit i set: lane i waits for work on its semaphore.
    private var idleLanes: UInt64 = 0
    /// Bit i set: lane i holds back a small batch until the commit interval has passed.
    private var delayingLanes: UInt64 = 0
    /// Monotonic start of the latest batch (any lane), for the commit interval.
    private var lastBatchStartNanos: UInt64 = 0
    /// Lines that arrived while the latest batch was written and fsynced: the batch size
    /// without any commit interval, so the measure of concurrency is not inflated by the
    /// interval itself (step 2a).
    private var arrivedDuringLastBatch = 0
    private var stopping = false
    private var lanesRunning = 0
    /// `rotateOpenFiles`: each request bumps the generation; a lane that has closed its open
    /// files for it records it in its `rotationSeen` and counts itself in `rotationAcks`.
    private var rotationGeneration = 0
    private var rotationAcks = 0
    private var lanes: [Lane] = []
    /// Guards creating folders and files (sequence numbers are shared by the lanes).
    private let creation = NSLock()
    private var knownDirectories = Set<String>()
    /// The hour on disk in `settledPath` (step 6a).
    private var settledHour: Int64 = .min
    private var lockFD: Int32 = -1
    /// Files of earlier runs whose hour is not over yet, found by recovery (step 6).
    private var recoveredUnsealed: [DeferredSeal] = []
    private let sealer: RawFileSealer

    private let bytesWritten = Counter(label: "trackhouse_ingest_bytes_written_total")
    private let fsyncTimer = Metrics.Timer(label: "trackhouse_ingest_fsync_seconds")
    private let batchSize = Recorder(label: "trackhouse_ingest_group_commit_batch_size")
    private let fsyncCount = Counter(label: "trackhouse_ingest_fsyncs_total")

    struct PendingLine {
        var key: FileKey
        var bytes: [UInt8]
        var waiter: Waiter
    }

    /// Who waits for a line: every pending line is completed exactly once, by `writeBatch`
    /// (each lane drains `pending` before it stops).
    enum Waiter {
        /// A suspended task (`append(line:route:receivedAtMicros:) async`). Unchecked: the
        /// checked form costs an allocation per request.
        case task(UnsafeContinuation<Void, any Error>)
        /// A callback run on the lane's thread (`append(line:route:receivedAtMicros:completion:)`).
        case callback(@Sendable (AppendError?) -> Void)

        func complete(_ failure: AppendError?) {
            switch self {
            case .task(let continuation):
                if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
            case .callback(let callback):
                callback(failure)
            }
        }
    }

    /// A closed file whose hour is still open, waiting to be sealed with it (step 5a).
    struct DeferredSeal {
        var path: String
        var hourIndex: Int64
        var bytes: Int64
    }

    struct FileKey: Hashable {
        var route: Envelope.Route
        var hourIndex: Int64
    }

    /// A file one lane appends to; only that lane's thread touches it.
    final class OpenFile {
        let path: String
        let fd: Int32
        /// Bytes known durable; a failed write or fsync is truncated back to this.
        var durableSize: Int64
        /// Bytes written (durable or not), for rotation.
        var writtenSize: Int64
        init(path: String, fd: Int32) {
            self.path = path
            self.fd = fd
            self.durableSize = 0
            self.writtenSize = 0
        }
    }

    /// One lane: its thread's wake-up signal and its open files (touched by its thread only).
    final class Lane {
        let index: Int
        let wake = DispatchSemaphore(value: 0)
        var openFiles: [FileKey: OpenFile] = [:]
        /// Step 5a: rotated files waiting for their hour to be sealed, oldest first.
        var deferredSeals: [DeferredSeal] = []
        var deferredSealBytes: Int64 = 0
        var lastHourCheckMicros: Int64 = 0
        var rotationSeen = 0
        init(index: Int) { self.index = index }
    }

    public init(layout: RawLayout, options: Options, logger: Logger) {
        self.layout = layout
        self.options = options
        self.logger = logger
        self.sealer = RawFileSealer(logger: logger)
    }

    /// Takes the writer lock, repairs files a crash left, queues past hours for sealing and
    /// starts the lanes.
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
        let oldestPlainHour = try recoverOwnFiles(fromHour: readSettledHour())
        try writeSettledHour(min(oldestPlainHour ?? .max, RawLayout.hourIndex(micros: UTCTime.nowMicros())))
        if options.sealEnabled { sealer.start() }
        let count = min(64, max(1, options.lanes))
        lanes = (0..<count).map { Lane(index: $0) }
        lanes[0].deferredSeals = recoveredUnsealed
        lanes[0].deferredSealBytes = recoveredUnsealed.reduce(0) { $0 + $1.bytes }
        recoveredUnsealed = []
        lanesRunning = count
        for lane in lanes {
            // The thread looks its lane up by index: `Lane` is not Sendable (its mutable
            // fields belong to that thread alone), and `lanes` is not written after this loop.
            let index = lane.index
            let thread = Thread { [self] in
                FileIO.nameCurrentThread("th-raw-lane-\(index)")
                laneLoop(lanes[index])
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Appends one line durably. Returns once it is fsynced; not cancellable on purpose: a
    /// client that hangs up after sending a complete request still gets its data stored.
    public func append(line: [UInt8], route: Envelope.Route, receivedAtMicros: Int64) async throws {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            enqueue(line: line, route: route, receivedAtMicros: receivedAtMicros, waiter: .task(continuation))
        }
    }

    /// Appends one line durably and calls `completion` once it is fsynced (nil) or failed, on
    /// a lane's thread: the callback must only hand the result on (an event loop's `execute`),
    /// never block. The front door that answers on the event loop uses this form: no task to
    /// suspend and resume per request.
    public func append(line: [UInt8], route: Envelope.Route, receivedAtMicros: Int64,
                       completion: @escaping @Sendable (AppendError?) -> Void) {
        enqueue(line: line, route: route, receivedAtMicros: receivedAtMicros, waiter: .callback(completion))
    }

    private func enqueue(line: [UInt8], route: Envelope.Route, receivedAtMicros: Int64, waiter: Waiter) {
        let key = FileKey(route: route, hourIndex: RawLayout.hourIndex(micros: receivedAtMicros))
        mutex.lock()
        if stopping {
            mutex.unlock()
            waiter.complete(.shuttingDown)
            return
        }
        pending.append(PendingLine(key: key, bytes: line, waiter: waiter))
        // Only the first line of a batch wakes a lane: a busy lane looks at `pending`
        // before it idles, so later lines are picked up without a wake-up each.
        var woken: Lane? = nil
        if pending.count == 1 && idleLanes != 0 {
            let index = idleLanes.trailingZeroBitCount
            idleLanes &= ~(1 << UInt64(index))
            woken = lanes[index]
        } else if pending.count == options.batchLinesTarget && delayingLanes != 0 {
            let index = delayingLanes.trailingZeroBitCount
            delayingLanes &= ~(1 << UInt64(index))
            woken = lanes[index]
        }
        mutex.unlock()
        woken?.wake.signal()
    }

    /// Refuses new appends, writes what is pending, closes files and seals past hours.
    public func shutdown() {
        mutex.lock()
        if !stopping {
            stopping = true
            idleLanes = 0
            mutex.unlock()
            for lane in lanes { lane.wake.signal() }
            mutex.lock()
        }
        while lanesRunning > 0 { mutex.wait() }
        mutex.unlock()
        sealer.stop()
        if lockFD >= 0 { close(lockFD); lockFD = -1 }
    }

    /// Makes every lane close the files it appends to (they are sealed with their hour, like
    /// files rotated at the size limit) and returns once all have: from then on no file that
    /// existed before the call is appended to; new lines go to new files. A privacy erase
    /// rewrites raw files after this (with sealing paused): a rename over a file a lane still
    /// held open would lose the lines appended to it afterwards.
    public func rotateOpenFiles() {
        mutex.lock()
        guard !stopping, lanesRunning > 0 else {
            mutex.unlock()
            return
        }
        rotationGeneration += 1
        rotationAcks = 0
        mutex.unlock()
        for lane in lanes { lane.wake.signal() }
        mutex.lock()
        while rotationAcks < lanes.count && !stopping { mutex.wait() }
        mutex.unlock()
    }

    /// No raw file is gzipped between `pauseSealing()` and `resumeSealing()` (a seal in
    /// progress finishes first).
    public func pauseSealing() { sealer.pause() }
    public func resumeSealing() { sealer.resume() }

    public var isStopping: Bool {
        mutex.lock(); defer { mutex.unlock() }
        return stopping
    }

    // MARK: - Lanes

    private func laneLoop(_ lane: Lane) {
        while true {
            let now = UTCTime.nowMicros()
            if now - lane.lastHourCheckMicros >= 1_000_000 {
                lane.lastHourCheckMicros = now
                closeFinishedHours(lane, nowMicros: now)
            }
            mutex.lock()
            if lane.rotationSeen != rotationGeneration {
                let generation = rotationGeneration
                mutex.unlock()
                for (key, file) in lane.openFiles { retire(lane, key: key, file: file, rotated: true) }
                mutex.lock()
                lane.rotationSeen = generation
                if generation == rotationGeneration { rotationAcks += 1 }
                mutex.broadcast()
            }
            if pending.isEmpty {
                if stopping {
                    mutex.unlock()
                    break
                }
                idleLanes |= 1 << UInt64(lane.index)
                mutex.unlock()
                // Wake at least every second to close and seal finished hours. A signal that
                // arrives after a timeout is consumed by the next wait: one futile loop.
                _ = lane.wake.wait(timeout: .now() + .seconds(1))
                mutex.lock()
                idleLanes &= ~(1 << UInt64(lane.index))
                mutex.unlock()
                continue
            }
            // Step 2a: space the batches under sustained load. Many lines arriving during the
            // previous batch's fsync is the sign of many concurrent clients; a lone client or
            // a handful never wait.
            if options.commitIntervalMicros > 0 && arrivedDuringLastBatch >= options.delayAfterBatchLines
                && pending.count < options.batchLinesTarget && !stopping {
                let notBefore = lastBatchStartNanos &+ UInt64(options.commitIntervalMicros) &* 1000
                if DispatchTime.now().uptimeNanoseconds < notBefore {
                    delayingLanes |= 1 << UInt64(lane.index)
                    mutex.unlock()
                    // Woken early by the append that reaches the target (or by a stale signal):
                    // the loop re-checks either way.
                    _ = lane.wake.wait(timeout: DispatchTime(uptimeNanoseconds: notBefore))
                    mutex.lock()
                    delayingLanes &= ~(1 << UInt64(lane.index))
                    mutex.unlock()
                    continue
                }
            }
            lastBatchStartNanos = DispatchTime.now().uptimeNanoseconds
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            mutex.unlock()
            writeBatch(batch, lane: lane)
            mutex.lock()
            arrivedDuringLastBatch = pending.count
            mutex.unlock()
        }
        // Every append has been written and fsynced: close this lane's files.
        for (key, file) in lane.openFiles { retire(lane, key: key, file: file) }
        lane.openFiles.removeAll()
        releaseDeferredSeals(lane, nowMicros: nil)
        mutex.lock()
        lanesRunning -= 1
        mutex.broadcast()
        mutex.unlock()
    }

    /// Writes, fsyncs and completes one batch on `lane` (its thread only).
    private func writeBatch(_ batch: [PendingLine], lane: Lane) {
        batchSize.record(batch.count)
        // Group lines by file, keeping arrival order within each file.
        var order: [FileKey] = []
        var groups: [FileKey: [Int]] = [:]
        for (index, line) in batch.enumerated() {
            if groups[line.key] == nil { order.append(line.key) }
            groups[line.key, default: []].append(index)
        }
        var failures: [AppendError?] = Array(repeating: nil, count: batch.count)
        var touched: [(key: FileKey, file: OpenFile, indices: [Int])] = []
        for key in order {
            let indices = groups[key]!
            var buffer: [UInt8] = []
            buffer.reserveCapacity(indices.reduce(0) { $0 + batch[$1].bytes.count })
            for index in indices { buffer.append(contentsOf: batch[index].bytes) }
            do {
                let file = try openFile(lane, for: key, adding: Int64(buffer.count))
                do {
                    if let injected = faultInjector?() {
                        throw FileIOError(operation: "write", path: file.path, errno: injected)
                    }
                    try buffer.withUnsafeBytes { (raw) throws in try FileIO.writeAll(fd: file.fd, raw, path: file.path) }
                    file.writtenSize += Int64(buffer.count)
                    touched.append((key: key, file: file, indices: indices))
                } catch {
                    // The file's tail is unknown after a failed write: cut it back and stop using it.
                    abandon(lane, key: key, file: file)
                    throw error
                }
            } catch {
                let failure = classify(error)
                for index in indices { failures[index] = failure }
            }
        }
        var durableBytes = 0
        for entry in touched {
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                if let injected = fsyncFaultInjector?() {
                    throw FileIOError(operation: "fsync", path: entry.file.path, errno: injected)
                }
                try FileIO.fdatasyncFile(fd: entry.file.fd, path: entry.file.path)
                fsyncTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
                fsyncCount.increment()
                durableBytes += Int(entry.file.writtenSize - entry.file.durableSize)
                entry.file.durableSize = entry.file.writtenSize
            } catch {
                let failure = classify(error)
                for index in entry.indices { failures[index] = failure }
                abandon(lane, key: entry.key, file: entry.file)
            }
        }
        if durableBytes > 0 { bytesWritten.increment(by: durableBytes) }
        // A full disk: gzip the rotated files waiting for their hour now, which frees ~4/5 of
        // their space (step 5a), so the writer recovers sooner.
        if !lane.deferredSeals.isEmpty, failures.contains(where: { if case .diskFull = $0 { return true } else { return false } }) {
            releaseDeferredSeals(lane, nowMicros: nil)
        }
        for (index, line) in batch.enumerated() { line.waiter.complete(failures[index]) }
    }

    private func classify(_ error: any Error) -> AppendError {
        if let io = error as? FileIOError {
            return io.isDiskFull ? .diskFull(io.description) : .io(io.description)
        }
        return .io("\(error)")
    }

    /// Closes an intact file and hands it to the sealer; a file closed at the size limit
    /// within its hour (`rotated`) waits for its hour instead (step 5a).
    private func retire(_ lane: Lane, key: FileKey, file: OpenFile, rotated: Bool = false) {
        close(file.fd)
        if lane.openFiles[key] === file { lane.openFiles[key] = nil }
        guard options.sealEnabled else { return }
        if rotated {
            lane.deferredSeals.append(DeferredSeal(path: file.path, hourIndex: key.hourIndex, bytes: file.writtenSize))
            lane.deferredSealBytes += file.writtenSize
            releaseDeferredSeals(lane, nowMicros: UTCTime.nowMicros())
        } else {
            sealer.enqueue(file.path)
        }
    }

    /// Hands deferred rotated files to the sealer: those whose hour is past, then the oldest
    /// while the lane's share of `deferredSealBytesMax` is exceeded (sealed at the cheap level:
    /// traffic is still heavy). `nowMicros` nil: all of them (the lane stops).
    private func releaseDeferredSeals(_ lane: Lane, nowMicros: Int64?) {
        guard !lane.deferredSeals.isEmpty else { return }
        let laneBytesMax = max(options.fileBytesMax, options.deferredSealBytesMax / Int64(max(1, lanes.count)))
        var kept: [DeferredSeal] = []
        for entry in lane.deferredSeals {
            if let now = nowMicros, !isPastHour(entry.hourIndex, now: now) {
                kept.append(entry)
            } else {
                sealer.enqueue(entry.path)
                lane.deferredSealBytes -= entry.bytes
            }
        }
        while lane.deferredSealBytes > laneBytesMax, !kept.isEmpty {
            let oldest = kept.removeFirst()
            sealer.enqueue(oldest.path, rotated: true)
            lane.deferredSealBytes -= oldest.bytes
        }
        lane.deferredSeals = kept
    }

    /// After a failed write or fsync the file's tail is unknown: cut it back to the last durable
    /// size and stop using it. The next line for that hour opens a new sequence number.
    private func abandon(_ lane: Lane, key: FileKey, file: OpenFile) {
        _ = ftruncate(file.fd, off_t(file.durableSize))
        _ = fsync(file.fd)
        close(file.fd)
        if lane.openFiles[key] === file { lane.openFiles[key] = nil }
        let (log, repeats) = abandonLog.admit("abandoned")
        if log {
            logger.warning("raw file abandoned after a failed write", metadata: ["raw.path": "\(file.path)", "raw.bytes": "\(file.durableSize)", "repeats": "\(repeats)"])
        }
        if file.durableSize == 0 { unlink(file.path) } else if options.sealEnabled {
            if isPastHour(key.hourIndex, now: UTCTime.nowMicros()) {
                sealer.enqueue(file.path)
            } else {
                // Its hour is still open: sealed with it (step 5a), like a rotated file.
                lane.deferredSeals.append(DeferredSeal(path: file.path, hourIndex: key.hourIndex, bytes: file.durableSize))
                lane.deferredSealBytes += file.durableSize
            }
        }
    }

    private func openFile(_ lane: Lane, for key: FileKey, adding bytes: Int64) throws -> OpenFile {
        if let file = lane.openFiles[key] {
            if file.writtenSize + bytes <= options.fileBytesMax || file.writtenSize == 0 { return file }
            retire(lane, key: key, file: file, rotated: true)
        }
        // Lanes share the folders and the sequence numbers in them.
        creation.lock()
        defer { creation.unlock() }
        if key.hourIndex < settledHour { try writeSettledHour(key.hourIndex) }  // step 6a (ii)
        let directory = layout.hourDirectory(route: key.route, hourIndex: key.hourIndex)
        if !knownDirectories.contains(directory) {
            try makeDurableDirectories(directory)
            // Only the current hours' folders are asked for again: a server's life of hours
            // (3 routes × 24 a day) is not kept.
            if knownDirectories.count >= 256 { knownDirectories.removeAll(keepingCapacity: true) }
            knownDirectories.insert(directory)
        }
        let sequence = nextSequence(in: directory)
        let path = directory + "/" + Self.fileName(writerID: options.writerID, sequence: sequence)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError(operation: "create", path: path, errno: errno) }
        do { try FileIO.fsyncDirectory(directory) } catch {
            close(fd)
            unlink(path)
            throw error
        }
        let file = OpenFile(path: path, fd: fd)
        lane.openFiles[key] = file
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

    private func closeFinishedHours(_ lane: Lane, nowMicros: Int64) {
        releaseDeferredSeals(lane, nowMicros: nowMicros)
        for (key, file) in lane.openFiles where isPastHour(key.hourIndex, now: nowMicros) {
            retire(lane, key: key, file: file)
        }
    }

    // MARK: - Recovery

    private var settledPath: String { layout.rawRoot + "/.writer-\(options.writerID).settled" }

    /// Step 6a: the settled hour on disk, nil when there is none (a first start, an older
    /// version's folder) or it does not parse.
    private func readSettledHour() -> Int64? {
        guard let bytes = try? FileIO.readFile(settledPath), bytes.count <= 32 else { return nil }
        return Int64(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func writeSettledHour(_ hour: Int64) throws {
        try FileIO.writeFileAtomically(settledPath, Array("\(hour)\n".utf8))
        settledHour = hour
    }

    /// Cuts torn tails from this writer's plain files and queues finished hours for sealing.
    /// A plain file left next to its `.gz` (a crash during sealing's last step; listing hides
    /// it) is removed: the `.gz` holds all its lines. Lists hours from `fromHour` (step 6a);
    /// returns the hour of the oldest plain file left (they stay until sealed).
    private func recoverOwnFiles(fromHour: Int64?) throws -> Int64? {
        let now = UTCTime.nowMicros()
        let prefix = options.writerID + "-"
        var oldestPlainHour: Int64?
        for file in layout.listFiles(fromHour: fromHour) where file.canonicalName.hasPrefix(prefix) {
            if file.isCompressed {
                let shadowed = String(file.path.dropLast(3))
                guard FileIO.exists(shadowed) else { continue }
                oldestPlainHour = min(oldestPlainHour ?? .max, file.hourIndex)
                if options.sealEnabled { sealer.enqueue(shadowed) } else { FileIO.removeGradually(shadowed) }
                continue
            }
            oldestPlainHour = min(oldestPlainHour ?? .max, file.hourIndex)
            try RawFileRepair.cutTornTail(path: file.path, logger: logger)
            guard options.sealEnabled else { continue }
            if isPastHour(file.hourIndex, now: now) {
                sealer.enqueue(file.path)
            } else {
                // An earlier run's file of an hour still open: lane 0 seals it with its hour
                // (step 5a; no lane of this run will ever close it).
                recoveredUnsealed.append(DeferredSeal(path: file.path, hourIndex: file.hourIndex, bytes: FileIO.fileSize(file.path) ?? 0))
            }
        }
        return oldestPlainHour
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
        try FileIO.withOpenFile(path, flags: O_RDWR) { fd, size in try cutTornTail(fd: fd, size: size, path: path, logger: logger) }
    }

    private static func cutTornTail(fd: Int32, size: Int64, path: String, logger: Logger) throws -> Int64 {
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
