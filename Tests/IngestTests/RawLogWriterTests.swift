import Core
import Synchronization
import XCTest
@testable import Ingest

final class RawLogWriterTests: XCTestCase {
    func envelope(_ index: Int, micros: Int64, route: Envelope.Route = .track) -> Envelope {
        Envelope(id: "id-\(index)", receivedAtMicros: micros, route: route, ip: "127.0.0.1", userAgent: nil,
                 payload: JSONObject([("hash", .string("h")), ("n", .string(String(index)))]))
    }

    func testConcurrentAppendsAreAllDurableAndGroupCommitted() async throws {
        let directory = makeTemporaryDirectory()
        let writer = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: .init(writerID: "w1"), logger: quietLogger)
        try writer.start()
        let now = UTCTime.nowMicros()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<500 {
                let e = envelope(index, micros: now, route: index % 3 == 0 ? .deactivate : .track)
                group.addTask { try await writer.append(line: e.line(), route: e.route, receivedAtMicros: now) }
            }
            try await group.waitForAll()
        }
        writer.shutdown()
        let stored = try readAllEnvelopes(directory)
        XCTAssertEqual(stored.count, 500)
        XCTAssertEqual(Set(stored.map(\.id)).count, 500)
        XCTAssertEqual(stored.filter { $0.route == .deactivate }.count, 167)
        let files = RawLayout(dataDirectory: directory).listFiles()
        XCTAssertTrue(files.allSatisfy { $0.canonicalName.hasPrefix("w1-") })
    }

    /// Sequential and burst traffic over 4 lanes: at most one file per lane for the hour, each
    /// with its own sequence number, and every line stored exactly once.
    func testLanesWriteTheirOwnFilesAndStoreEveryLineOnce() async throws {
        let directory = makeTemporaryDirectory()
        var options = RawLogWriter.Options(writerID: "w1")
        options.lanes = 4
        let writer = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: options, logger: quietLogger)
        try writer.start()
        let now = UTCTime.nowMicros()
        for index in 0..<20 {
            let e = envelope(index, micros: now)
            try await writer.append(line: e.line(), route: .track, receivedAtMicros: now)
        }
        // Mostly lane 0 (the lowest idle lane is woken), but a lane that just finished may not
        // have marked itself idle when the next line arrives.
        XCTAssertLessThanOrEqual(RawLayout(dataDirectory: directory).listFiles().count, 4)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 20..<2020 {
                let e = envelope(index, micros: now)
                group.addTask { try await writer.append(line: e.line(), route: .track, receivedAtMicros: now) }
            }
            try await group.waitForAll()
        }
        writer.shutdown()
        let files = RawLayout(dataDirectory: directory).listFiles()
        XCTAssertLessThanOrEqual(files.count, 4)
        XCTAssertEqual(Set(files.map(\.canonicalName)).count, files.count, "each lane has its own sequence number")
        let stored = try readAllEnvelopes(directory)
        XCTAssertEqual(stored.count, 2020)
        XCTAssertEqual(Set(stored.map(\.id)), Set((0..<2020).map { "id-\($0)" }))
    }

    /// Step 2a of the writer: a lone sequential client never waits; when lines pile up during
    /// a batch's fsync the next batch waits out the commit interval, unless the target is
    /// reached first.
    func testCommitIntervalSpacesBatchesOnlyUnderConcurrency() async throws {
        let directory = makeTemporaryDirectory()
        var options = RawLogWriter.Options(writerID: "w1")
        options.lanes = 1
        options.commitIntervalMicros = 2_000_000
        options.delayAfterBatchLines = 2
        options.batchLinesTarget = 4
        let writer = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: options, logger: quietLogger)
        // While `stall` is set, the next fsync sleeps 150 ms so that appends pile up behind it.
        let stall = LockedFlag(false)
        writer.fsyncFaultInjector = {
            if stall.take() { usleep(150_000) }
            return nil
        }
        try writer.start()
        let now = UTCTime.nowMicros()
        var next = 0
        func seconds(_ body: () async throws -> Void) async rethrows -> Double {
            let started = DispatchTime.now().uptimeNanoseconds
            try await body()
            return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        }
        /// One line stalled in its fsync, then `behind` more appended while it stalls.
        func pileUp(behind: Int) async throws {
            stall.value = true
            let first = envelope(next, micros: now)
            let others = (1...behind).map { envelope(next + $0, micros: now) }
            next += 1 + behind
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await writer.append(line: first.line(), route: .track, receivedAtMicros: now) }
                try await Task.sleep(nanoseconds: 50_000_000)  // the first is in its stalled fsync
                for e in others { group.addTask { try await writer.append(line: e.line(), route: .track, receivedAtMicros: now) } }
                try await group.waitForAll()
            }
        }
        func appendOne() async throws {
            let e = envelope(next, micros: now)
            next += 1
            try await writer.append(line: e.line(), route: .track, receivedAtMicros: now)
        }

        let sequential = try await seconds { for _ in 0..<5 { try await appendOne() } }
        XCTAssertLessThan(sequential, 1.0, "nothing arrives during a lone client's fsyncs: no waiting")

        let spaced = try await seconds { try await pileUp(behind: 2) }
        XCTAssertGreaterThan(spaced, 1.0, "two lines arrived during the stalled fsync: their batch waits out the interval")
        let afterSpaced = try await seconds { try await appendOne() }
        XCTAssertLessThan(afterSpaced, 1.0, "nothing arrived during the spaced batch: no more waiting")

        let targetReached = try await seconds { try await pileUp(behind: 4) }
        XCTAssertLessThan(targetReached, 1.0, "four pending lines (the target) start the batch at once")
        writer.shutdown()
        XCTAssertEqual(try readAllEnvelopes(directory).count, next)
    }

    /// The sealer yields to request threads (`SCHED_IDLE`) and is findable by name.
    func testSealerThreadRunsInTheIdleClassUnderItsName() throws {
        #if os(Linux)
        XCTAssertNotNil(FileIO.currentThreadID().flatMap { FileIO.isDirectory("/proc/self/task/\($0)") ? $0 : nil })
        let sealer = RawFileSealer(logger: quietLogger)
        sealer.start()
        defer { sealer.stop() }
        var policy: String? = nil
        // The thread names itself first and switches class right after: poll for the switch.
        for _ in 0..<200 where policy != "5" {
            for task in FileIO.list("/proc/self/task") {
                guard let comm = try? FileIO.readFile("/proc/self/task/\(task)/comm"),
                      String(decoding: comm, as: UTF8.self).hasPrefix("th-raw-sealer"),
                      let stat = try? FileIO.readFile("/proc/self/task/\(task)/stat") else { continue }
                // Fields after "(comm)"; the scheduling policy is field 41 of the line.
                let text = String(decoding: stat, as: UTF8.self)
                guard let close = text.lastIndex(of: ")") else { continue }
                let fields = text[text.index(after: close)...].split(separator: " ")
                if fields.count > 38 { policy = String(fields[38]) }
            }
            if policy != "5" { usleep(10_000) }
        }
        XCTAssertEqual(policy, "5", "SCHED_IDLE is policy 5")
        #endif
    }

    func testLinesGoToTheirReceiveHourAndPastHoursGetSealed() async throws {
        let directory = makeTemporaryDirectory()
        let writer = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: .init(writerID: "w1"), logger: quietLogger)
        try writer.start()
        let old = UTCTime.parseISO("2025-03-04T05:06:07Z")!
        let e = envelope(1, micros: old)
        try await writer.append(line: e.line(), route: .track, receivedAtMicros: old)
        writer.shutdown()
        let files = RawLayout(dataDirectory: directory).listFiles()
        XCTAssertEqual(files.count, 1)
        XCTAssertTrue(files[0].path.hasSuffix("/raw/track/2025/03/04/05/w1-000001.ndjson.gz"), files[0].path)
        XCTAssertTrue(files[0].isCompressed)
        XCTAssertEqual(try readAllEnvelopes(directory), [e])
        // The plain file is gone once sealed.
        XCTAssertFalse(FileIO.exists(String(files[0].path.dropLast(3))))
    }

    func testDiskFullFailsTheBatchThenRecovers() async throws {
        let directory = makeTemporaryDirectory()
        let writer = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: .init(writerID: "w1"), logger: quietLogger)
        let failing = LockedFlag(true)
        writer.faultInjector = { failing.value ? ENOSPC : nil }
        try writer.start()
        let now = UTCTime.nowMicros()
        do {
            try await writer.append(line: envelope(1, micros: now).line(), route: .track, receivedAtMicros: now)
            XCTFail("append must fail while the disk is full")
        } catch RawLogWriter.AppendError.diskFull {
        }
        failing.value = false
        try await writer.append(line: envelope(2, micros: now).line(), route: .track, receivedAtMicros: now)
        writer.shutdown()
        XCTAssertEqual(try readAllEnvelopes(directory).map(\.id), ["id-2"])
    }

    /// A full disk fails every append; the "raw file abandoned" warning is logged once per
    /// interval with a count, not once per request (~20,000 lines a second before).
    func testDiskFullIsLoggedOncePerIntervalNotPerRequest() async throws {
        let directory = makeTemporaryDirectory()
        let lines = RecordingLogHandler.Lines()
        let writer = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: .init(writerID: "w1"),
                                  logger: RecordingLogHandler.logger(lines))
        writer.faultInjector = { ENOSPC }
        try writer.start()
        let now = UTCTime.nowMicros()
        var refused = 0
        for index in 0..<200 {
            do {
                try await writer.append(line: envelope(index, micros: now).line(), route: .track, receivedAtMicros: now)
            } catch RawLogWriter.AppendError.diskFull {
                refused += 1
            }
        }
        writer.shutdown()
        XCTAssertEqual(refused, 200)
        let abandoned = lines.all.filter { $0.contains("abandoned") }
        XCTAssertGreaterThanOrEqual(abandoned.count, 1, "the first failure is logged")
        XCTAssertLessThanOrEqual(abandoned.count, 2, "\(abandoned.count) warnings for 200 refused appends")
    }

    func testFailedFsyncAnswersAnErrorCutsTheLinesAndRecovers() async throws {
        let directory = makeTemporaryDirectory()
        let writer = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: .init(writerID: "w1"), logger: quietLogger)
        let failing = LockedFlag(false)
        writer.fsyncFaultInjector = { failing.value ? EIO : nil }
        try writer.start()
        let now = UTCTime.nowMicros()
        try await writer.append(line: envelope(1, micros: now).line(), route: .track, receivedAtMicros: now)
        failing.value = true
        do {
            try await writer.append(line: envelope(2, micros: now).line(), route: .track, receivedAtMicros: now)
            XCTFail("an append whose fsync failed must not succeed")
        } catch RawLogWriter.AppendError.io {
        }
        failing.value = false
        try await writer.append(line: envelope(3, micros: now).line(), route: .track, receivedAtMicros: now)
        writer.shutdown()
        // The acknowledged lines are on disk; the one whose fsync failed was cut back out.
        XCTAssertEqual(try readAllEnvelopes(directory).map(\.id).sorted(), ["id-1", "id-3"])
    }

    func testRestartCutsTornTailAndNeverAppendsToOldFiles() async throws {
        let directory = makeTemporaryDirectory()
        let layout = RawLayout(dataDirectory: directory)
        let now = UTCTime.nowMicros()
        let hourDirectory = layout.hourDirectory(route: .track, hourIndex: RawLayout.hourIndex(micros: now))
        try FileIO.makeDirectories(hourDirectory)
        let good = envelope(1, micros: now).line()
        try FileIO.writeFileAtomically(hourDirectory + "/w1-000001.ndjson", good + Array(#"{"v":1,"id":"torn"#.utf8))
        let writer = RawLogWriter(layout: layout, options: .init(writerID: "w1"), logger: quietLogger)
        try writer.start()
        XCTAssertEqual(try FileIO.readFile(hourDirectory + "/w1-000001.ndjson"), good)
        try await writer.append(line: envelope(2, micros: now).line(), route: .track, receivedAtMicros: now)
        writer.shutdown()
        // The earlier run's file is never appended to; shutdown seals it with this run's files.
        let old = hourDirectory + "/w1-000001.ndjson"
        XCTAssertEqual(FileIO.exists(old) ? try FileIO.readFile(old) : try Gzip.inflate(try FileIO.readFile(old + ".gz"), outputBytesMax: 1 << 20), good)
        // Shutdown seals what it closed, so the new file may already be gzipped.
        XCTAssertTrue(FileIO.exists(hourDirectory + "/w1-000002.ndjson") || FileIO.exists(hourDirectory + "/w1-000002.ndjson.gz"))
        XCTAssertEqual(Set(try readAllEnvelopes(directory).map(\.id)), ["id-1", "id-2"])
    }

    /// Files that rotate within their hour stay plain while the hour is open (gzip would take
    /// CPU from the requests at their busiest) up to the backlog limit, beyond which the
    /// oldest are sealed at once; shutdown seals the rest. Every line is stored once.
    func testRotatedFilesWaitForTheirHourUpToTheBacklogLimit() async throws {
        // Sealing is asynchronous and the sealer runs in the idle scheduling class, so on a busy
        // machine it may get no CPU for a while: look at the files until `settled` holds or
        // `waitSeconds` have passed.
        func run(deferredSealBytesMax: Int64, waitSeconds: Double,
                 settled: @escaping (_ sealed: Int, _ plain: Int) -> Bool) async throws
            -> (sealedWhileRunning: Int, plainWhileRunning: Int, directory: String) {
            let directory = makeTemporaryDirectory()
            var options = RawLogWriter.Options(writerID: "w1")
            options.fileBytesMax = 4096
            options.deferredSealBytesMax = deferredSealBytesMax
            let writer = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: options, logger: quietLogger)
            try writer.start()
            let now = UTCTime.nowMicros()
            for index in 0..<200 {
                let e = envelope(index, micros: now)
                try await writer.append(line: e.line(), route: .track, receivedAtMicros: now)
            }
            let deadline = Date().addingTimeInterval(waitSeconds)
            var files = RawLayout(dataDirectory: directory).listFiles()
            while Date() < deadline && !settled(files.filter(\.isCompressed).count, files.filter { !$0.isCompressed }.count) {
                try await Task.sleep(nanoseconds: 50_000_000)
                files = RawLayout(dataDirectory: directory).listFiles()
            }
            let result = (files.filter(\.isCompressed).count, files.filter { !$0.isCompressed }.count, directory)
            writer.shutdown()
            let after = RawLayout(dataDirectory: directory).listFiles()
            XCTAssertTrue(after.allSatisfy(\.isCompressed), "shutdown leaves plain files")
            let stored = try readAllEnvelopes(directory)
            XCTAssertEqual(stored.count, 200)
            XCTAssertEqual(Set(stored.map(\.id)).count, 200)
            return result
        }
        // Under the limit nothing may be sealed: watch for half a second that nothing is.
        let waiting = try await run(deferredSealBytesMax: 1 << 30, waitSeconds: 0.5) { sealed, _ in sealed > 0 }
        XCTAssertGreaterThan(waiting.plainWhileRunning, 5, "the hour's files rotated")
        XCTAssertEqual(waiting.sealedWhileRunning, 0, "a rotated file of an open hour was sealed under the limit")
        let limited = try await run(deferredSealBytesMax: 3 * 4096, waitSeconds: 30) { sealed, plain in sealed > 0 && plain <= 5 }
        XCTAssertGreaterThan(limited.sealedWhileRunning, 0, "past the backlog limit nothing was sealed")
        XCTAssertLessThanOrEqual(limited.plainWhileRunning, 5, "the plain backlog passed its limit")
    }

    /// A full disk releases the rotated files waiting for their hour to the sealer at once:
    /// gzip frees most of their space.
    func testDiskFullSealsTheWaitingRotatedFiles() async throws {
        let directory = makeTemporaryDirectory()
        var options = RawLogWriter.Options(writerID: "w1")
        options.fileBytesMax = 4096
        let writer = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: options, logger: quietLogger)
        let failing = LockedFlag(false)
        writer.faultInjector = { failing.value ? ENOSPC : nil }
        try writer.start()
        let now = UTCTime.nowMicros()
        for index in 0..<100 {
            try await writer.append(line: envelope(index, micros: now).line(), route: .track, receivedAtMicros: now)
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertEqual(RawLayout(dataDirectory: directory).listFiles().filter(\.isCompressed).count, 0)
        failing.value = true
        do {
            try await writer.append(line: envelope(100, micros: now).line(), route: .track, receivedAtMicros: now)
            XCTFail("append must fail while the disk is full")
        } catch RawLogWriter.AppendError.diskFull {
        }
        failing.value = false
        var sealed = 0
        // The sealer runs in the idle class: allow a busy machine up to 30 s.
        for _ in 0..<300 where sealed == 0 {
            try await Task.sleep(nanoseconds: 100_000_000)
            sealed = RawLayout(dataDirectory: directory).listFiles().filter(\.isCompressed).count
        }
        XCTAssertGreaterThan(sealed, 0, "a full disk left the rotated files plain")
        writer.shutdown()
        XCTAssertEqual(try readAllEnvelopes(directory).count, 100)
    }

    /// A sealer that falls behind (another file waiting) seals at gzip level 1, else at 6;
    /// every sealed file holds exactly the plain lines.
    func testSealerUsesTheFastLevelWhileFilesWait() throws {
        let directory = makeTemporaryDirectory()
        var random = SystemRandomNumberGenerator()
        var text = ""
        for line in 0..<4_000 {
            text += #"{"v":1,"id":"id-\#(line)","n":\#(UInt32.random(in: 0...999_999, using: &random)),"payload":{"php":"8.\#(line % 4)"}}"# + "\n"
        }
        let lines = Array(text.utf8)
        let sealer = RawFileSealer(logger: quietLogger)
        for name in ["a", "b", "c", "d"] {
            try FileIO.writeFileAtomically(directory + "/w-\(name).ndjson", lines)
        }
        // All wait before the sealer starts; "d" rotated within its hour (heavy traffic).
        for name in ["a", "b", "c"] { sealer.enqueue(directory + "/w-\(name).ndjson") }
        XCTAssertEqual(RawFileSealer.level(backlogFiles: 3, rotated: false), 1)
        XCTAssertEqual(RawFileSealer.level(backlogFiles: 1, rotated: false), 6)
        XCTAssertEqual(RawFileSealer.level(backlogFiles: 1, rotated: true), 1)
        sealer.start()
        sealer.stop()  // seals everything queued first
        var sizes: [String: Int64] = [:]
        for name in ["a", "b", "c"] {
            let sealed = directory + "/w-\(name).ndjson.gz"
            XCTAssertFalse(FileIO.exists(directory + "/w-\(name).ndjson"))
            XCTAssertEqual(try Gzip.inflate(try FileIO.readFile(sealed), outputBytesMax: 1 << 24), lines)
            sizes[name] = FileIO.fileSize(sealed)
        }
        XCTAssertEqual(sizes["a"], sizes["b"], "both sealed while another file waited: level 1")
        XCTAssertGreaterThan(sizes["b"]!, sizes["c"]!, "the last one, with nothing waiting, at level 6")
        // A rotated file alone in the queue is still sealed at level 1.
        let rotatedSealer = RawFileSealer(logger: quietLogger)
        rotatedSealer.enqueue(directory + "/w-d.ndjson", rotated: true)
        rotatedSealer.start()
        rotatedSealer.stop()
        XCTAssertEqual(try Gzip.inflate(try FileIO.readFile(directory + "/w-d.ndjson.gz"), outputBytesMax: 1 << 24), lines)
        XCTAssertEqual(FileIO.fileSize(directory + "/w-d.ndjson.gz"), sizes["a"], "a rotated file: level 1")
    }

    /// The sealer frees plain files in steps (a one-shot unlink of 256 MB stalls the lanes'
    /// fsyncs); the file must still end up gone, whatever its size relative to the step.
    func testGradualRemovalDeletesLargeSmallAndMissingFiles() throws {
        let directory = makeTemporaryDirectory()
        for (name, size) in [("large", 5 * 1024 * 1024 + 123), ("exact", 2 * 1024 * 1024), ("small", 10), ("empty", 0)] {
            let path = directory + "/" + name
            try FileIO.writeFileAtomically(path, [UInt8](repeating: 0x61, count: size))
            XCTAssertEqual(FileIO.fileSize(path), Int64(size))
            FileIO.removeGradually(path, stepBytes: 1024 * 1024, pauseMicros: 100)
            XCTAssertFalse(FileIO.exists(path), name)
        }
        FileIO.removeGradually(directory + "/never-existed")  // no crash, nothing to do
        XCTAssertEqual(FileIO.list(directory), [])
    }

    /// A crash while sealing frees the plain file leaves it, cut short, next to the `.gz`;
    /// listing hides it, so the next start must remove it (else the disk leaks), and the
    /// sealed lines stay readable exactly once.
    func testRestartRemovesAPlainFileLeftBesideItsSealedCopy() async throws {
        let directory = makeTemporaryDirectory()
        let layout = RawLayout(dataDirectory: directory)
        let old = UTCTime.parseISO("2025-03-04T05:06:07Z")!
        let lines = (0..<3).map { envelope($0, micros: old) }
        let hourDirectory = layout.hourDirectory(route: .track, hourIndex: RawLayout.hourIndex(micros: old))
        try FileIO.makeDirectories(hourDirectory)
        let plain = lines.flatMap { $0.line() }
        try FileIO.writeFileAtomically(hourDirectory + "/w1-000001.ndjson.gz", Gzip.deflate(plain))
        try FileIO.writeFileAtomically(hourDirectory + "/w1-000001.ndjson", Array(plain.prefix(plain.count / 2)))
        // Another writer's pair is not ours to touch.
        try FileIO.writeFileAtomically(hourDirectory + "/w2-000001.ndjson.gz", Gzip.deflate(plain))
        try FileIO.writeFileAtomically(hourDirectory + "/w2-000001.ndjson", plain)
        let writer = RawLogWriter(layout: layout, options: .init(writerID: "w1"), logger: quietLogger)
        try writer.start()
        writer.shutdown()
        XCTAssertFalse(FileIO.exists(hourDirectory + "/w1-000001.ndjson"))
        XCTAssertTrue(FileIO.exists(hourDirectory + "/w1-000001.ndjson.gz"))
        XCTAssertTrue(FileIO.exists(hourDirectory + "/w2-000001.ndjson"))
        let ours = layout.listFiles().filter { $0.canonicalName.hasPrefix("w1-") }
        XCTAssertEqual(ours.count, 1)
        var count = 0
        try RawFileReader.forEachLine(path: ours[0].path) { _ in count += 1 }
        XCTAssertEqual(count, 3)
    }

    func testSecondWriterWithTheSameIDIsRefused() throws {
        let directory = makeTemporaryDirectory()
        let first = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: .init(writerID: "w1"), logger: quietLogger)
        try first.start()
        let second = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: .init(writerID: "w1"), logger: quietLogger)
        XCTAssertThrowsError(try second.start())
        first.shutdown()
    }

    func testAppendAfterShutdownIsRefused() async throws {
        let directory = makeTemporaryDirectory()
        let writer = RawLogWriter(layout: RawLayout(dataDirectory: directory), options: .init(writerID: "w1"), logger: quietLogger)
        try writer.start()
        writer.shutdown()
        do {
            try await writer.append(line: envelope(1, micros: 0).line(), route: .track, receivedAtMicros: 0)
            XCTFail("must refuse")
        } catch RawLogWriter.AppendError.shuttingDown {}
    }
}

final class LockedFlag: Sendable {
    private let state: Mutex<Bool>
    init(_ value: Bool) { state = Mutex(value) }
    var value: Bool {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
    /// Returns the value and clears it: a one-shot signal to the writer's thread.
    func take() -> Bool {
        state.withLock { value in
            let was = value
            value = false
            return was
        }
    }
}

