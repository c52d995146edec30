import Core
import Foundation
import Ingest

/// What one raw file contributes to compaction (step 3): its new rows in line order and
/// its counters. Built off the committing thread, applied in plan order by `Compactor.apply`.
struct ParsedRawFile: Sendable {
    /// The new rows, as columns.
    var rows = EventColumns(columns: [], projectIDs: [])
    var linesRead = 0
    var linesInvalid = 0
    var unknownProjectEvents = 0
    var castFailures = 0
    var rawBytesIn: Int64 = 0
    /// Set when a gzip file cannot be inflated (the file is skipped, not failed).
    var unreadable: String?
    var tornTail = false
    var progress: RawProgress?
    /// The erase index of the lines read so far (`SubjectKeyIndex`), for the committing
    /// thread to write in its day's pack; nil when not indexing or nothing new was read.
    var keyIndex: SubjectKeyIndex?
}

/// Reads the not yet compacted lines of one raw file and normalizes them. Pure apart from
/// reading the file, so several threads can run it on different files at once.
struct RawFileParser: Sendable {
    let registry: ProjectRegistry
    let sealGraceSeconds: Int64
    /// The data folder whose erase index (`SubjectKeyIndex`) gets each parsed file's keys; nil: none.
    var indexDataDirectory: String?

    func parse(_ file: RawLayout.RawFile, done: Int64, normalizer: inout EventLineNormalizer) throws -> ParsedRawFile {
        var parsed = ParsedRawFile()
        // `content` holds the file's uncompressed bytes from offset `base`: a plain file is
        // read only past what is already compacted (open hours are re-read every few
        // seconds in `serve`); a gzip file must be inflated from its start.
        let content: [UInt8]
        let base: Int
        if file.isCompressed {
            let compressed = try FileIO.readFile(file.path)
            parsed.rawBytesIn = Int64(compressed.count)
            do { content = try Gzip.inflate(compressed) } catch {
                parsed.unreadable = "\(error)"
                return parsed
            }
            base = 0
        } else {
            content = try FileIO.readFile(file.path, fromOffset: done)
            parsed.rawBytesIn = Int64(content.count)
            base = Int(done)
        }
        let nowMicros = UTCTime.nowMicros()
        let hourEnd = (file.hourIndex + 1) * 3_600_000_000
        // A plain file of an hour past the writer's seal delay can no longer grow.
        let final = file.isCompressed || hourEnd + sealGraceSeconds * 1_000_000 <= nowMicros
        // Positions below are relative to `content`; `consumed` ends up as the end of the
        // last complete line.
        var consumed = min(content.count, max(0, Int(done) - base))
        // About 1.4 KB of raw line per event.
        var rows = EventColumnsBuilder(capacity: (content.count - consumed) / 1_400 + 1)
        var keys = SubjectKeySet()
        let indexing = indexDataDirectory != nil
        let from = consumed
        content.withUnsafeBytes { buffer in
            consumed = RawFileReader.forEachLine(in: buffer, from: consumed) { line in
                if line.bytes.isEmpty { return }
                parsed.linesRead += 1
                switch normalizer.normalize(line: line.bytes) {
                case .invalid:
                    parsed.linesInvalid += 1
                    if indexing { keys.insert(line: line.bytes, row: nil) }
                case .unknownProject:
                    parsed.unknownProjectEvents += 1
                    if indexing { keys.insert(line: line.bytes, row: nil) }
                case .event(let row, let castFailures):
                    parsed.castFailures += castFailures
                    if indexing { keys.insert(line: line.bytes, row: row) }
                    rows.append(row)
                }
            }
            // The erase index of the lines read (Privacy/SubjectKeyIndex.swift), extending the
            // file's entry in its day's pack (read here, written by the committing thread).
            if let directory = indexDataDirectory, consumed > from {
                var packs = RawKeyIndexReader(dataDirectory: directory)
                parsed.keyIndex = SubjectKeyIndex.extendRaw(previous: packs.index(key: file.key), bytes: buffer, base: base,
                                                            from: base + from, to: base + consumed, keys: keys)
            }
        }
        parsed.rows = rows.finish()
        // A torn tail (no newline) is left for later: it is either completed by its writer
        // or cut by the writer's recovery; it was never acknowledged.
        if final && consumed < content.count { parsed.tornTail = true }
        parsed.progress = RawProgress(key: file.key, bytes: Int64(base + consumed), complete: final)
        return parsed
    }
}

extension Compactor {
    /// Calls `body` with every planned file's `ParsedRawFile`, in plan order, on the calling
    /// thread. With `parseThreads` > 1, worker threads parse files ahead (claimed in plan
    /// order) while `body` commits; they stop claiming once about half a chunk of rows is
    /// waiting, which bounds the memory to the chunk plus that lookahead.
    func forEachParsedFile(_ plan: [RawLayout.RawFile], done: [Int64], reader: RawFileParser,
                           _ body: (Int, ParsedRawFile) throws -> Void) throws {
        if options.parseThreads <= 1 || plan.count < 2 {
            var normalizer = EventLineNormalizer(registry: reader.registry)
            for index in plan.indices {
                try body(index, try reader.parse(plan[index], done: done[index], normalizer: &normalizer))
            }
            return
        }
        let pipeline = ParsePipeline(count: plan.count, bufferedRowsMax: max(1, options.chunkEventsMax / 2))
        let workers = min(options.parseThreads, plan.count)
        let finished = DispatchGroup()
        for _ in 0..<workers {
            finished.enter()
            Thread.detachNewThread {
                var normalizer = EventLineNormalizer(registry: reader.registry)
                while let index = pipeline.claim() {
                    let result = Result { try reader.parse(plan[index], done: done[index], normalizer: &normalizer) }
                    pipeline.deliver(index, result)
                }
                finished.leave()
            }
        }
        // Whatever happens in `body`, stop the workers and wait for them before returning.
        defer {
            pipeline.cancel()
            finished.wait()
        }
        for index in plan.indices {
            try body(index, try pipeline.take(index).get())
        }
    }
}

/// The hand-over between parse workers and the committing thread: slots by plan index.
/// `@unchecked Sendable` (not a `Mutex`: `claim` and `take` wait on the `NSCondition`): every
/// `var` (`results`, `nextToClaim`, `bufferedRows`, `cancelled`) is only touched with
/// `condition` held; `bufferedRowsMax` is a `let`.
final class ParsePipeline: @unchecked Sendable {
    private let condition = NSCondition()
    private var results: [Result<ParsedRawFile, Error>?]
    private var nextToClaim = 0
    private var bufferedRows = 0
    private let bufferedRowsMax: Int
    private var cancelled = false

    init(count: Int, bufferedRowsMax: Int) {
        results = Array(repeating: nil, count: count)
        self.bufferedRowsMax = bufferedRowsMax
    }

    /// The next file to parse, once the lookahead has room; nil when all are claimed or the
    /// run is over. Claims go in plan order, so the file the committer waits for is always
    /// claimed (and finishes) whatever the lookahead.
    func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled && nextToClaim < results.count && bufferedRows >= bufferedRowsMax { condition.wait() }
        guard !cancelled, nextToClaim < results.count else { return nil }
        nextToClaim += 1
        return nextToClaim - 1
    }

    func deliver(_ index: Int, _ result: Result<ParsedRawFile, Error>) {
        condition.lock()
        if case .success(let parsed) = result { bufferedRows += parsed.rows.count }
        results[index] = result
        condition.broadcast()
        condition.unlock()
    }

    func take(_ index: Int) -> Result<ParsedRawFile, Error> {
        condition.lock()
        defer { condition.unlock() }
        while results[index] == nil { condition.wait() }
        let result = results[index]!
        results[index] = nil
        if case .success(let parsed) = result { bufferedRows -= parsed.rows.count }
        condition.broadcast()
        return result
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
