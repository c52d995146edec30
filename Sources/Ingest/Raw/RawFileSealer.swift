import Core
import Foundation
import Logging
import Metrics

/// Gzips closed raw files in the background.
///
/// 1. Repair the file's tail (a crash may have torn it) so the sealed copy holds whole lines.
/// 2. Stream it into `.tmp-<name>.gz` in the same folder and fsync it.
/// 3. Rename to `<name>.gz` and fsync the folder: from here readers prefer the `.gz`.
/// 4. Remove the plain file (truncated in steps first, see `FileIO.removeGradually`) and fsync
///    the folder again.
/// A crash between 3 and 4 leaves both forms (the plain one possibly cut short by step 4);
/// listing prefers the `.gz` and the next run of step 4 removes the plain one.
///
/// `@unchecked Sendable` (not a `Mutex`: `stop` and the sealer thread wait on the
/// `NSCondition`): `queue`, `stopping`, `running` and `threadID` are only touched with
/// `condition` held; `thread` is written only by `start()`, called once by the writer's
/// `start()` before any file is enqueued; the rest are `let`s of Sendable types.
final class RawFileSealer: @unchecked Sendable {
    private let logger: Logger
    private let condition = NSCondition()
    /// Files to gzip, in order; the head stays until it is sealed, so the count is the backlog.
    private var queue: [(path: String, rotated: Bool)] = []
    private var stopping = false
    private var running = false
    /// `pause()` calls not yet matched by `resume()`: no seal starts while above 0.
    private var pauses = 0
    /// A seal is in progress (the head of `queue`).
    private var sealing = false
    private var thread: Thread?
    /// `queue.count`: under sustained load the idle-priority sealer can fall behind, and this
    /// is where an operator sees it.
    private let backlog = Gauge(label: "trackhouse_ingest_seal_backlog_files")

    init(logger: Logger) {
        self.logger = logger
    }

    func start() {
        condition.lock()
        running = true
        condition.unlock()
        let thread = Thread { [weak self] in
            FileIO.nameCurrentThread("th-raw-sealer")
            self?.loop()
        }
        self.thread = thread
        thread.start()
    }

    /// `rotated`: a file that rotated within its hour and is sealed before its hour ends
    /// because the writer's backlog of such files passed its limit (sustained heavy traffic),
    /// so it is sealed at the cheap level.
    func enqueue(_ path: String, rotated: Bool = false) {
        condition.lock()
        queue.append((path: path, rotated: rotated))
        backlog.record(queue.count)
        condition.signal()
        condition.unlock()
    }

    /// Returns once no seal is in progress; none starts until `resume()` (a privacy erase
    /// rewrites raw files meanwhile, and a seal reading one would bring back what it removes).
    func pause() {
        condition.lock()
        pauses += 1
        while sealing && running { condition.wait() }
        condition.unlock()
    }

    func resume() {
        condition.lock()
        pauses = max(0, pauses - 1)
        condition.broadcast()
        condition.unlock()
    }

    /// Seals what is queued, then stops. The sealer finishes at normal priority: as an idle
    /// thread on a machine kept busy by other work, one 256 MB seal could hold shutdown for
    /// minutes.
    func stop() {
        condition.lock()
        stopping = true
        let thread = threadID
        condition.broadcast()
        condition.unlock()
        if let thread { Self.restoreNormalPriority(threadID: thread) }
        condition.lock()
        while running { condition.wait() }
        condition.unlock()
    }

    /// The sealer thread's kernel id (set by the thread itself), for `stop`.
    private var threadID: Int32?

    private func loop() {
        let ownID = FileIO.currentThreadID()
        // Under the lock, so `stop` either sees the id after the yield or finds us stopping.
        condition.lock()
        threadID = ownID
        if !stopping { Self.yieldToRequestThreads() }
        condition.unlock()
        while true {
            condition.lock()
            while (queue.isEmpty || pauses > 0) && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            let (path, rotated) = queue[0]
            let level = Self.level(backlogFiles: queue.count, rotated: rotated)
            sealing = true
            condition.unlock()
            do {
                try Self.seal(path: path, level: level, logger: logger)
            } catch {
                logger.error("sealing a raw file failed; it stays plain and readable", metadata: ["raw.path": "\(path)", "error": "\(error)"])
            }
            condition.lock()
            queue.removeFirst()
            sealing = false
            backlog.record(queue.count)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Sealing is background work: gzip at level 6 runs at ~75 MB/s, so at 25k requests/s
    /// (~50 MB/s of raw lines, a 256 MB rotation every few seconds) it would take most of a
    /// core from the request path. As `SCHED_IDLE` it runs in the time requests leave idle and
    /// is preempted as soon as a request thread wakes (at nice 19 it still took 11–20% of a
    /// core during the ingest benchmark, and delayed wake-ups); CFS still gives it a sliver
    /// under full load, so it progresses. Plain files are complete and readable until sealed.
    /// (On Linux the policy is per thread; pid 0 is the calling thread.)
    static func yieldToRequestThreads() {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = 0
        let schedIdle: Int32 = 5  // SCHED_IDLE, not exported to Swift's Glibc module
        if sched_setscheduler(0, schedIdle, &parameters) != 0 {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        }
        #endif
    }

    static func restoreNormalPriority(threadID: Int32) {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = 0
        _ = sched_setscheduler(threadID, 0 /* SCHED_OTHER */, &parameters)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(threadID), 0)
        #endif
    }

    /// The gzip level for the next file: 6 (the usual ratio) for a finished hour while the
    /// sealer keeps up; 1 for a rotated file sealed early (sustained heavy traffic, see
    /// `RawLogWriter` step 5a) or when another file is already waiting. At idle priority the sealer only has the CPU
    /// requests leave over, yet under load it still takes that CPU from them nearly one for
    /// one (cache, wake-up preemption): level 6 (~75–180 MB/s on a whole core) against
    /// ~50 MB/s of lines took 22–24% of a core in the ingest benchmark and 12% of durable
    /// throughput; level 1 runs ~3x faster (files ~40% larger than level 6 on real payloads,
    /// still ~3.5x smaller than plain). See BENCHMARKS.md.
    static func level(backlogFiles: Int, rotated: Bool) -> Int32 {
        rotated || backlogFiles >= 2 ? 1 : 6
    }

    static func seal(path: String, level: Int32 = 6, logger: Logger) throws {
        guard FileIO.exists(path) else { return }
        let directory = FileIO.parentDirectory(path)
        let sealed = path + ".gz"
        if FileIO.exists(sealed) {
            FileIO.removeGradually(path)
            try FileIO.fsyncDirectory(directory)
            return
        }
        try RawFileRepair.cutTornTail(path: path, logger: logger)
        if FileIO.fileSize(path) == 0 {
            unlink(path)
            try FileIO.fsyncDirectory(directory)
            return
        }
        let temp = directory + "/.tmp-" + FileIO.lastComponent(sealed)
        do {
            try Gzip.compressFile(source: path, target: temp, level: level)
        } catch {
            unlink(temp)
            throw error
        }
        guard rename(temp, sealed) == 0 else {
            let code = errno
            unlink(temp)
            throw FileIOError(operation: "rename", path: sealed, errno: code)
        }
        try FileIO.fsyncDirectory(directory)
        // Gradually: a one-shot unlink of a rotated 256 MB file stalls the lanes' fsyncs. A
        // crash midway leaves a shortened plain file next to the `.gz`, which listing ignores
        // and the next seal of it removes (the branch above).
        FileIO.removeGradually(path)
        try FileIO.fsyncDirectory(directory)
        logger.debug("sealed raw file", metadata: ["raw.path": "\(sealed)"])
    }
}
