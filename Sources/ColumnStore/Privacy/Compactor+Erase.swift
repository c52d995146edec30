import Core
import Foundation
import Ingest

/// `trackhouse privacy erase` / `POST …/privacy/erase` (CONTRACT §9): removes one subject
/// (an email or a site of one project) from raw files, `events`, `sites`, as one warehouse
/// operation.
///
/// Algorithm (under the compaction lock, so no compaction or other erase interleaves):
/// 1. Load the log and recover like compaction (step 1 of `Compactor`). If the erase journal
///    (`EraseJournal`) exists: another subject's → refuse (run that erase again first); this
///    subject's → take over its durable work (its counts, and in phase `raw` its raw offset
///    corrections, applied to the in-memory raw progress of files still being its copies).
/// 2. Raw: with a live writer in this process (the admin API), pause its sealer and make its
///    lanes close their open files (`RawLogWriter.pauseSealing`, `rotateOpenFiles`), so no
///    file read here is appended to or gzipped meanwhile; new lines go to new files.
///    Each raw file (plain or gz) whose erase index (`SubjectKeyIndex`) does not clear it is
///    searched for the subject's needle (a cleared file's lines past its index alone are);
///    files with a subject line are rewritten without those lines into a hidden temp
///    (fsynced), with the index of the new content. The new
///    compaction offset of each rewritten file = its old offset minus the bytes of removed
///    lines before it (offsets are in content bytes and always at a line boundary).
/// 3. Journal (phase `raw`): the new offsets and the temps' inodes, written atomically
///    BEFORE any rename: a crash from here on leaves offsets a rerun or a compaction can fix.
/// 4. Delete the file's index durably, rename each temp over its file, fsync the folder, write
///    the new index (a `.ndjson` shadowed by its `.gz`, a sealing crash's leftover, is deleted:
///    the `.gz` holds its lines). Resume the writer.
/// 5. Events: per live segment of the project whose index does not clear it (a segment over
///    the time of a raw line that named the subject only in `user_email` is always read; one
///    without an index is read whole once and gets one), only the columns that can show the subject
///    are read (site_key, pruned by row-group min/max first; admin_email, deciding on the
///    dictionary page before any row; event_id only when a raw match's time falls in the
///    row group's received_at range): files without a match are not touched. Files with one
///    are rewritten without those rows (order kept) under new names.
/// 6. Sites: the project's sites files (base and deltas) become one new base in which the rows
///    of affected sites are dropped (`--site`) or, for an email,
///    recomputed from the events that remain (latest event, first/last seen, count) — the row
///    a compaction without the erased events would have made — or dropped if none remain.
/// 7. One commit, operation `erase`: adds the new files, removes the replaced ones, records
///    the raw offsets of step 3. Publish; the replaced files, and any hidden `.replaced-`
///    copies in the project's folders, are deleted at once (followers rebuild on `erase`).
/// 8. Journal phase `committed` with the counts; the caller's other stores (the integrations
///    outbox) drop the subject; audit line (`<data>/privacy/audit.ndjson`:
///    time, project, sha256 of the subject, counts); remove the journal.
/// A crash at any point: before 3 leaves only temps (deleted by the rerun's recovery or
/// overwritten); between 3 and 7 the journal keeps the offsets right and the rerun finds the
/// rest of the subject where it still is; after 7 the rerun finds nothing and writes the audit
/// line. A rerun of a finished erase finds nothing and reports zeros.
extension Compactor {
    /// The erase's test hook: `options.eraseCrashAfterStep` = K makes the process SIGKILL
    /// itself right after point K (1 journal, 2 first raw rename, 3 raw done, 4 Parquet
    /// temps written, 5 commit, 6 publish, 7 journal committed, 8 audit).
    func crashPoint(_ step: Int) {
        if options.eraseCrashAfterStep == step { kill(getpid(), SIGKILL) }
    }

    /// Waits for the compaction lock (a running compaction finishes first) up to `seconds`.
    func acquireLock(waitingUpTo seconds: Double) throws -> CompactionLock {
        try FileIO.makeDirectories(layout.logDirectory)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds) * 1e9)
        while true {
            do { return try CompactionLock(path: layout.root + "/.compact.lock") } catch let error as WarehouseError where error.code == .locked {
                if DispatchTime.now().uptimeNanoseconds >= deadline { throw error }
                usleep(100_000)
            }
        }
    }

    /// `dropFromOtherStores`: erases the subject from stores above ColumnStore (the
    /// integrations outbox), called on every run after the commit and before the audit line,
    /// so a rerun after a crash calls it again (it must be idempotent).
    public func erase(projectID: String, subject: PrivacySubject, writer: RawLogWriter? = nil,
                      lockWaitSeconds: Double = 600,
                      dropFromOtherStores: ((String, PrivacySubject) throws -> Void)? = nil) throws -> EraseReport {
        let started = DispatchTime.now().uptimeNanoseconds
        let lock = try acquireLock(waitingUpTo: lockWaitSeconds)
        defer { lock.release() }
        registry = try loadRegistry()
        guard registry.project(id: projectID) != nil else {
            throw WarehouseError(.io, "no project with id \"\(projectID)\" in \(dataDirectory)/projects.json")
        }
        state = try WarehouseLog.load(layout: layout)
        try recover()
        try relayoutLegacySegments()

        // Step 1: an interrupted erase.
        var carried = EraseReport()
        var carriedUserEmailEvents: [(id: String, micros: Int64)] = []
        var corrections: [String: EraseJournal.RawEntry] = [:]
        if let journal = try EraseJournal.load(dataDirectory: dataDirectory) {
            guard journal.projectID == projectID && journal.subjectSHA256 == subject.sha256 else {
                throw WarehouseError(.locked, "an erase of another subject (project \(journal.projectID), subject sha256 \(journal.subjectSHA256)) was interrupted; run that erase again to finish it first")
            }
            carried = journal.counts
            carriedUserEmailEvents = journal.userEmailEvents
            let valid = Set(journal.rawCorrections().map(\.key))
            for entry in journal.raw where valid.contains(entry.key) {
                corrections[entry.key] = entry
                state.raw[entry.key] = entry.progress
            }
        }
        var counts = EraseReport()
        let matcher = RawSubjectMatcher(projectID: projectID, subject: subject, registry: registry)
        let subjectHash = SubjectKeyIndex.hash(subject: subject)

        // Steps 2–4.
        var rawMatches: [String: Int64] = [:]
        // Times of raw matches whose event may not carry the subject in an indexed column
        // (only `user_email` named it): segments over these times are read whatever their index says.
        var unindexedMatchTimes: [Int64] = []
        var userEmailEvents = carriedUserEmailEvents
        for event in carriedUserEmailEvents {
            rawMatches[event.id] = event.micros
            unindexedMatchTimes.append(event.micros)
        }
        do {
            writer?.pauseSealing()
            defer { writer?.resumeSealing() }
            let files = rawLayout.listFiles()
            writer?.rotateOpenFiles()
            var rewrites: [(file: RawLayout.RawFile, temp: String?, entry: EraseJournal.RawEntry?, index: SubjectKeyIndex?)] = []
            var packs = RawKeyIndexReader(dataDirectory: dataDirectory)
            for file in files {
                // The file's index may clear it (Privacy/SubjectKeyIndex.swift); lines past
                // what it covers are searched on their own.
                if case .absent(let covered, let tail) = SubjectKeyIndex.verdict(reader: &packs, file: file, hash: subjectHash) {
                    counts.reads.rawFilesSkipped += 1
                    guard tail else { continue }
                    counts.reads.rawTailsRead += 1
                    let grownLines = try FileIO.readFile(file.path, fromOffset: covered)
                    guard !matcher.matches(in: grownLines).isEmpty else { continue }
                }
                counts.reads.rawFilesRead += 1
                guard let rewrite = try rewriteRawFile(file, matcher: matcher) else { continue }
                counts.rawLinesRemoved += rewrite.removedLines
                for match in rewrite.matches {
                    guard let id = match.eventID else { continue }
                    rawMatches[id] = match.receivedAtMicros ?? 0
                    if !match.inIndexedColumn {
                        unindexedMatchTimes.append(match.receivedAtMicros ?? 0)
                        userEmailEvents.append((id, match.receivedAtMicros ?? 0))
                    }
                }
                var entry: EraseJournal.RawEntry?
                if let progress = rewrite.progress, let temp = rewrite.temp, let inode = EraseJournal.inode(temp) {
                    entry = EraseJournal.RawEntry(key: file.key, path: file.path, inode: inode, progress: progress)
                }
                rewrites.append((file, rewrite.temp, entry, rewrite.index))
            }
            if !rewrites.isEmpty {
                for rewrite in rewrites { if let entry = rewrite.entry { corrections[entry.key] = entry } }
                counts.rawFilesRewritten = rewrites.count
                try writeJournal(projectID: projectID, subject: subject, phase: .raw, raw: Array(corrections.values), counts: carried + counts,
                                 userEmailEvents: userEmailEvents)
                crashPoint(1)
                for (index, rewrite) in rewrites.enumerated() {
                    if let temp = rewrite.temp {
                        // The old index goes durably first: it must never describe the new content.
                        try SubjectKeyIndex.removeRaw(dataDirectory: dataDirectory, keys: [rewrite.file.key], durably: true)
                        guard rename(temp, rewrite.file.path) == 0 else { throw FileIOError(operation: "rename", path: rewrite.file.path, errno: errno) }
                        try FileIO.fsyncDirectory(FileIO.parentDirectory(rewrite.file.path))
                        if let index = rewrite.index {
                            _ = try? RawKeyIndexPack.update(dataDirectory: dataDirectory, [rewrite.file.key: index], durable: false)
                        }
                    }
                    if let entry = rewrite.entry { state.raw[entry.key] = entry.progress }
                    if index == 0 { crashPoint(2) }
                }
                crashPoint(3)
            }
            // Temps of an interrupted run whose file needed no rewrite this time.
            for path in FileIO.walkFiles(rawLayout.rawRoot, includeHidden: true)
            where FileIO.lastComponent(path).hasPrefix(".tmp-erase-") {
                FileIO.remove(path)
            }
            for file in files where file.isCompressed {
                let shadowed = String(file.path.dropLast(3))
                if FileIO.exists(shadowed) {
                    FileIO.removeGradually(shadowed)
                    try FileIO.fsyncDirectory(FileIO.parentDirectory(shadowed))
                }
            }
        }
        counts.filesRewritten = counts.rawFilesRewritten

        // Steps 5–7.
        let version = state.version + 1
        var commit = WarehouseCommit(version: version, timestampMicros: UTCTime.nowMicros(), operation: .erase)
        var affectedSites = Set<String>()
        var sequence = 0
        let liveSegments = state.segments(table: .events, projectID: projectID)
        for segment in liveSegments {
            let index = SubjectKeyIndex.loadSegment(dataDirectory: dataDirectory, segment)
            if let index, !index.contains(subjectHash),
               !unindexedMatchTimes.contains(where: { $0 >= segment.receivedAtMin && $0 <= segment.receivedAtMax }) {
                counts.reads.segmentsSkipped += 1
                continue
            }
            counts.reads.segmentsRead += 1
            var keys: SubjectKeySet? = index == nil ? SubjectKeySet() : nil
            let hits = try subjectRows(in: segment, subject: subject, rawMatches: rawMatches, collecting: &keys)
            if let keys {
                // Read whole anyway: the next erase need not (a segment never changes).
                SubjectKeyIndex.writeSegment(dataDirectory: dataDirectory, entry: segment, hashes: keys.sorted())
                counts.reads.segmentIndexesBuilt += 1
            }
            guard !hits.isEmpty else { continue }
            sequence += 1
            let relative = FileIO.parentDirectory(segment.path) + "/part-\(Self.versionTag(version))-e\(sequence).parquet"
            let result = try rewriteSegment(segment, removing: hits, relative: relative)
            counts.eventsRemoved += result.removed
            counts.filesRewritten += 1
            affectedSites.formUnion(result.siteKeys)
            if let entry = result.entry { commit.add.append(entry) }
            commit.remove.append(segment.path)
        }
        if case .site(let key) = subject { affectedSites.insert(key) }
        let sitesLayers = state.sitesLayers(projectID: projectID)
        if !sitesLayers.isEmpty {
            let removedPaths = Set(commit.remove)
            let remaining = state.segments(table: .events, projectID: projectID).filter { !removedPaths.contains($0.path) }
                .map { layout.absolute($0.path) } + commit.add.map { layout.absolute(WarehouseLayout.temporaryName($0.path)) }
            if case .email = subject {
                for layer in sitesLayers { affectedSites.formUnion(try sitesNamingSubject(layer, subject: subject)) }
            }
            if !affectedSites.isEmpty,
               let result = try rewriteSitesSnapshot(sitesLayers, affected: affectedSites, subject: subject, eventFiles: remaining, version: version) {
                counts.sitesRemoved += result.removed
                counts.filesRewritten += 1
                if let entry = result.entry { commit.add.append(entry) }
                commit.remove.append(contentsOf: sitesLayers.map(\.path))
            }
        }
        crashPoint(4)
        commit.raw = corrections.values.map(\.progress).sorted { $0.key < $1.key }
        if !commit.add.isEmpty || !commit.remove.isEmpty || !commit.raw.isEmpty {
            try WarehouseLog.append(commit, layout: layout)
            state.apply(commit)
            crashPoint(5)
            for entry in commit.add { try publish(entry.path) }
            for path in commit.remove { FileIO.removeGradually(layout.absolute(path)) }
            crashPoint(6)
        }
        // Also after a rerun that found nothing left: an interrupted run may have committed
        // before it got here.
        removeReplacedCopies(projectID: projectID)
        SubjectKeyIndex.sweepSegments(dataDirectory: dataDirectory, projectID: projectID,
                                      live: Set(state.segments(table: .events, projectID: projectID).map(\.path)))
        let total = carried + counts
        try writeJournal(projectID: projectID, subject: subject, phase: .committed, raw: [], counts: total)
        crashPoint(7)
        try dropFromOtherStores?(projectID, subject)
        try appendAudit(projectID: projectID, subject: subject, counts: total)
        crashPoint(8)
        try EraseJournal.remove(dataDirectory: dataDirectory)
        var report = total
        report.reads = counts.reads
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        report.warehouseVersion = state.version
        logger.info("erased a privacy subject", metadata: ["project": "\(projectID)", "subject.sha256": "\(subject.sha256)",
                                                          "erase.events": "\(report.eventsRemoved)", "erase.files": "\(report.filesRewritten)",
                                                          "erase.reads": "\(report.reads.text)"])
        return report
    }

    private func writeJournal(projectID: String, subject: PrivacySubject, phase: EraseJournal.Phase,
                              raw: [EraseJournal.RawEntry], counts: EraseReport, userEmailEvents: [(id: String, micros: Int64)] = []) throws {
        var journal = EraseJournal(projectID: projectID, subjectSHA256: subject.sha256, phase: phase)
        journal.raw = raw.sorted { $0.key < $1.key }
        journal.userEmailEvents = userEmailEvents
        journal.counts = counts
        try journal.write(dataDirectory: dataDirectory)
    }

    /// Applies an interrupted erase's raw offsets (journal phase `raw`) to the loaded state,
    /// so a compaction that runs before the erase is finished reads rewritten files from the
    /// right place (`EraseJournal`).
    func applyInterruptedEraseCorrections() {
        guard let journal = try? EraseJournal.load(dataDirectory: dataDirectory) else { return }
        for progress in journal.rawCorrections() { state.raw[progress.key] = progress }
    }

    // MARK: - Raw files

    struct RawRewrite {
        var temp: String?
        var removedLines: Int
        var progress: RawProgress?
        var matches: [RawSubjectMatcher.Match]
        /// The index of the rewritten content.
        var index: SubjectKeyIndex?
    }

    /// Step 2 for one file: nil when it holds no subject line; else its rewritten copy in a
    /// fsynced hidden temp and its new compaction offset (when it had one).
    func rewriteRawFile(_ file: RawLayout.RawFile, matcher: RawSubjectMatcher) throws -> RawRewrite? {
        var content = try FileIO.readFile(file.path)
        if file.isCompressed {
            do { content = try Gzip.inflate(content) } catch {
                logger.error("raw file cannot be inflated; the erase cannot read it", metadata: ["raw.path": "\(file.path)", "error": "\(error)"])
                return nil
            }
        }
        let matches = matcher.matches(in: content)
        guard !matches.isEmpty else { return nil }
        var kept: [UInt8] = []
        kept.reserveCapacity(content.count)
        var position = 0
        var removedBefore: Int64 = 0
        let oldProgress = state.raw[file.key]
        for match in matches {
            kept.append(contentsOf: content[position..<match.range.lowerBound])
            position = match.range.upperBound + 1
            if let oldProgress, Int64(position) <= oldProgress.bytes { removedBefore += Int64(position - match.range.lowerBound) }
        }
        kept.append(contentsOf: content[position...])
        let bytes = file.isCompressed ? Gzip.deflate(kept) : kept
        let temp = FileIO.parentDirectory(file.path) + "/.tmp-erase-" + FileIO.lastComponent(file.path)
        try FileIO.writeFile(temp) { fd, path in
            try bytes.withUnsafeBytes { (buffer) throws in try FileIO.writeAll(fd: fd, buffer, path: path) }
        }
        let progress = oldProgress.map { RawProgress(key: $0.key, bytes: $0.bytes - removedBefore, complete: $0.complete) }
        if let progress { assert(progress.bytes >= 0 && progress.bytes <= Int64(kept.count), "a rewritten offset lies in the new content") }
        return RawRewrite(temp: temp, removedLines: matches.count, progress: progress, matches: matches, index: rawIndex(of: kept))
    }

    /// The index of a rewritten raw file's content: every complete line's keys, as compaction
    /// collects them.
    func rawIndex(of content: [UInt8]) -> SubjectKeyIndex? {
        var normalizer = EventLineNormalizer(registry: registry)
        var keys = SubjectKeySet()
        return content.withUnsafeBytes { buffer in
            let end = RawFileReader.forEachLine(in: buffer) { line in
                guard !line.bytes.isEmpty else { return }
                if case .event(let row, _) = normalizer.normalize(line: line.bytes) {
                    keys.insert(line: line.bytes, row: row)
                } else {
                    keys.insert(line: line.bytes, row: nil)
                }
            }
            return SubjectKeyIndex.extendRaw(previous: nil, bytes: buffer, base: 0, from: 0, to: end, keys: keys)
        }
    }

    // MARK: - Events

    /// Step 5: the rows of `segment` that are the subject's (by row group), empty when none.
    /// `collecting` (non-nil): also gathers the keys of every row, for the segment's index.
    func subjectRows(in segment: SegmentEntry, subject: PrivacySubject, rawMatches: [String: Int64],
                     collecting keys: inout SubjectKeySet?) throws -> [Int: [Bool]] {
        let reader = try ParquetFileReader(path: layout.committedPath(segment.path))
        let siteKeyIndex = reader.schema.index(of: "site_key")
        let adminEmailIndex = reader.schema.index(of: "admin_email")
        let idTimes = rawMatches.values.filter { $0 >= segment.receivedAtMin && $0 <= segment.receivedAtMax }
        var hits: [Int: [Bool]] = [:]
        for group in 0..<reader.rowGroups.count {
            let rowCount = reader.rowGroups[group].rowCount
            var marks: [Bool]?
            func mark(_ row: Int) {
                if marks == nil { marks = [Bool](repeating: false, count: rowCount) }
                marks![row] = true
            }
            var siteKeys: ColumnData?
            var adminEmails: ColumnData?
            if keys != nil {
                siteKeys = try siteKeyIndex.map { try reader.readColumn(rowGroup: group, column: $0) }
                adminEmails = try adminEmailIndex.map { try reader.readColumn(rowGroup: group, column: $0) }
                keys!.insert(siteKeys: siteKeys, adminEmails: adminEmails)
            }
            switch subject {
            case .site(let key):
                if let index = siteKeyIndex, Self.mayContain(reader.rowGroups[group].columns[index], key) {
                    let column = try siteKeys ?? reader.readColumn(rowGroup: group, column: index)
                    Self.forEachMatch(column, { $0 == key }, mark)
                }
            case .email(let email):
                if let index = adminEmailIndex {
                    let column = try adminEmails ?? reader.readColumn(rowGroup: group, column: index)
                    Self.forEachMatch(column, { PrivacySubject.normalizedEmail($0) == email }, mark)
                }
            }
            if !idTimes.isEmpty, let timeIndex = reader.schema.index(of: "received_at"), let idIndex = reader.schema.index(of: "event_id") {
                let stats = reader.rowGroups[group].columns[timeIndex]
                var overlaps = true
                if case .int64(let low)? = stats.min, case .int64(let high)? = stats.max {
                    overlaps = idTimes.contains { $0 >= low && $0 <= high }
                }
                if overlaps {
                    let ids = try reader.readColumn(rowGroup: group, column: idIndex)
                    for row in 0..<ids.count { if let id = ids.string(at: row), rawMatches[id] != nil { mark(row) } }
                }
            }
            if let marks { hits[group] = marks }
        }
        return hits
    }

    /// Whether a string chunk's min/max statistics allow `value` (no statistics: yes).
    static func mayContain(_ chunk: ParquetColumnChunkInfo, _ value: String) -> Bool {
        guard case .bytes(let low)? = chunk.min, case .bytes(let high)? = chunk.max else { return chunk.nullCount != chunk.valueCount }
        let bytes = Array(value.utf8)
        return !bytes.lexicographicallyPrecedes(low) && !high.lexicographicallyPrecedes(bytes)
    }

    /// Calls `body` for each row whose string satisfies `test`; a dictionary chunk tests each
    /// entry once and skips the rows when no entry passes.
    static func forEachMatch(_ column: ColumnData, _ test: (String) -> Bool, _ body: (Int) -> Void) {
        switch column.storage {
        case .dictionary(let dictionary, let codes):
            var passing = Set<UInt32>()
            for entry in 0..<dictionary.count where test(dictionary[entry]) { passing.insert(UInt32(entry)) }
            guard !passing.isEmpty else { return }
            for row in 0..<column.count where column.isValid(row) && passing.contains(codes[row]) { body(row) }
        default:
            for row in 0..<column.count { if let value = column.string(at: row), test(value) { body(row) } }
        }
    }

    /// Step 5's rewrite of one segment without the marked rows, into the hidden name of
    /// `relative` (no file when no row is left).
    func rewriteSegment(_ segment: SegmentEntry, removing hits: [Int: [Bool]], relative: String)
        throws -> (entry: SegmentEntry?, removed: Int, siteKeys: Set<String>) {
        let reader = try ParquetFileReader(path: layout.committedPath(segment.path))
        let schema = WarehouseSchema.eventsFile
        let positions = schema.columns.map { reader.schema.index(of: $0.name) }
        let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
        var writer: ParquetWriter?
        var rows = 0
        var removed = 0
        var siteKeys = Set<String>()
        var low = Int64.max
        var high = Int64.min
        var keys = SubjectKeySet()
        for group in 0..<reader.rowGroups.count {
            let data = try reader.readRowGroup(group)
            let count = reader.rowGroups[group].rowCount
            let marks = hits[group] ?? []
            var keep: [Int32] = []
            keep.reserveCapacity(count)
            for row in 0..<count {
                if row < marks.count && marks[row] {
                    removed += 1
                    if let index = reader.schema.index(of: "site_key"), let key = data[index].string(at: row) { siteKeys.insert(key) }
                } else {
                    keep.append(Int32(row))
                }
            }
            guard !keep.isEmpty else { continue }
            if let index = reader.schema.index(of: "received_at") {
                low = min(low, data[index].int64(at: Int(keep.first!)) ?? low)
                high = max(high, data[index].int64(at: Int(keep.last!)) ?? high)
            }
            // Row by row: read chunks may be dictionary-encoded, which the bulk gather does not take.
            let columns = zip(schema.columns, positions).map { column, position -> ColumnData in
                guard let position else { return ColumnData.nulls(kind: column.kind, count: keep.count) }
                var appender = ColumnAppender(kind: column.kind, capacity: keep.count)
                for row in keep { appender.append(from: data[position], row: Int(row)) }
                return appender.finish()
            }
            if writer == nil {
                try FileIO.makeDirectories(FileIO.parentDirectory(hidden))
                writer = try ParquetWriter(path: hidden, schema: schema, options: parquetOptions())
            }
            keys.insert(siteKeys: schema.index(of: "site_key").map { columns[$0] }, adminEmails: schema.index(of: "admin_email").map { columns[$0] })
            try writer!.write(rowGroup: columns)
            rows += keep.count
        }
        assert(rows + removed == segment.rows, "an erase keeps every row it does not remove")
        guard let writer else { return (nil, removed, siteKeys) }
        try writer.close()
        let entry = SegmentEntry(path: relative, table: .events, projectID: segment.projectID, month: segment.month, rows: rows,
                                 bytes: FileIO.fileSize(hidden) ?? 0, receivedAtMin: low, receivedAtMax: high)
        SubjectKeyIndex.writeSegment(dataDirectory: dataDirectory, entry: entry, hashes: keys.sorted())
        return (entry, removed, siteKeys)
    }

    // MARK: - Sites

    /// Site keys of the rows of a sites file (base or delta) whose latest event carries the email.
    func sitesNamingSubject(_ snapshot: SegmentEntry, subject: PrivacySubject) throws -> Set<String> {
        let reader = try ParquetFileReader(path: layout.committedPath(snapshot.path))
        guard let emailIndex = reader.schema.index(of: "admin_email"), let keyIndex = reader.schema.index(of: "site_key") else { return [] }
        var keys = Set<String>()
        for group in 0..<reader.rowGroups.count {
            let emails = try reader.readColumn(rowGroup: group, column: emailIndex)
            var rows: [Int] = []
            Self.forEachMatch(emails, { subject.matches(siteKey: nil, adminEmail: $0) }, { rows.append($0) })
            guard !rows.isEmpty else { continue }
            let siteKeys = try reader.readColumn(rowGroup: group, column: keyIndex)
            for row in rows { if let key = siteKeys.string(at: row) { keys.insert(key) } }
        }
        return keys
    }

    /// One site recomputed from the events that remain: what compaction would hold for it.
    struct SiteSummary {
        var firstSeen = Int64.max
        var lastSeen = Int64.min
        var count: Int64 = 0
        var latestTime = Int64.min
        var latestID = ""
        var latest: (file: Int, group: Int, row: Int) = (0, 0, 0)
    }

    /// Step 6: the project's sites (base and deltas, `layers`) as one new base without
    /// (`--site`) or with recomputed (email) rows of `affected` sites; nil when no row changes.
    func rewriteSitesSnapshot(_ layers: [SegmentEntry], affected: Set<String>, subject: PrivacySubject, eventFiles: [String],
                              version: Int) throws -> (entry: SegmentEntry?, removed: Int)? {
        let projectID = layers[0].projectID
        // Summaries of the affected sites over the remaining events (an erased site has none).
        var summaries: [String: SiteSummary] = [:]
        var readers: [ParquetFileReader] = []
        if case .email = subject {
            let sortedKeys = affected.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for path in eventFiles {
                let reader = try ParquetFileReader(path: path)
                readers.append(reader)
                guard let keyIndex = reader.schema.index(of: "site_key"), let timeIndex = reader.schema.index(of: "received_at"),
                      let idIndex = reader.schema.index(of: "event_id") else { continue }
                for group in 0..<reader.rowGroups.count {
                    let chunk = reader.rowGroups[group].columns[keyIndex]
                    if case .bytes(let low)? = chunk.min, case .bytes(let high)? = chunk.max,
                       !sortedKeys.contains(where: { key in let bytes = Array(key.utf8); return !bytes.lexicographicallyPrecedes(low) && !high.lexicographicallyPrecedes(bytes) }) {
                        continue
                    }
                    let keys = try reader.readColumn(rowGroup: group, column: keyIndex)
                    var rows: [Int] = []
                    Self.forEachMatch(keys, { affected.contains($0) }, { rows.append($0) })
                    guard !rows.isEmpty else { continue }
                    let times = try reader.readColumn(rowGroup: group, column: timeIndex)
                    let ids = try reader.readColumn(rowGroup: group, column: idIndex)
                    for row in rows {
                        let key = keys.string(at: row)!
                        let time = times.int64(at: row) ?? 0
                        let id = ids.string(at: row) ?? ""
                        var summary = summaries[key] ?? SiteSummary()
                        summary.firstSeen = min(summary.firstSeen, time)
                        summary.lastSeen = max(summary.lastSeen, time)
                        summary.count += 1
                        if time > summary.latestTime || (time == summary.latestTime && id > summary.latestID) {
                            summary.latestTime = time
                            summary.latestID = id
                            summary.latest = (readers.count - 1, group, row)
                        }
                        summaries[key] = summary
                    }
                }
            }
        }
        // The latest rows, one row group read per (file, group).
        var latestRows: [String: (columns: [ColumnData], row: Int, schema: ParquetSchema)] = [:]
        var groups: [String: [ColumnData]] = [:]
        for (key, summary) in summaries {
            let reader = readers[summary.latest.file]
            let groupKey = "\(summary.latest.file)/\(summary.latest.group)"
            if groups[groupKey] == nil { groups[groupKey] = try reader.readRowGroup(summary.latest.group) }
            latestRows[key] = (groups[groupKey]!, summary.latest.row, reader.schema)
        }

        // The project's sites (base and deltas merged) with the affected rows recomputed or
        // dropped, through the compactor's one way of writing a sites base.
        var removed = 0
        var changed = 0
        let entry = try writeSitesBase(projectID: projectID, layers: layers, version: version, row: { output, columns, row, map in
            guard let key = columns[map.siteKey].string(at: row), affected.contains(key) else {
                return try output.emitOld(columns, row: row, map: map)
            }
            changed += 1
            if let summary = summaries[key], let latest = latestRows[key] {
                try output.emitRecomputed(latest.columns, schema: latest.schema, row: latest.row, summary: summary)
            } else {
                removed += 1
            }
        })
        guard changed > 0 else {
            if let entry { unlink(layout.absolute(WarehouseLayout.temporaryName(entry.path))) }
            return nil
        }
        return (entry, removed)
    }

    /// Deletes the hidden copies earlier commits kept of replaced files in the project's
    /// folders: they may hold the subject, and an erase keeps nothing for followers.
    func removeReplacedCopies(projectID: String) {
        for folder in [WarehouseLayout.eventsPartition(projectID: projectID, month: "x"), WarehouseLayout.sitesPartition(projectID: projectID),
                       WarehouseLayout.sitesDeltaPartition(projectID: projectID)] {
            let root = layout.absolute(folder.hasSuffix("/month=x") ? String(folder.dropLast(8)) : folder)
            for path in FileIO.walkFiles(root, includeHidden: true) where FileIO.lastComponent(path).hasPrefix(WarehouseLayout.replacedPrefix) {
                FileIO.removeGradually(path)
            }
        }
    }

    // MARK: - Audit

    /// Appends `{"time","project","subject_kind","subject_sha256",counts…}` to
    /// `<data>/privacy/audit.ndjson` and fsyncs it: never the subject itself.
    func appendAudit(projectID: String, subject: PrivacySubject, counts: EraseReport) throws {
        let path = dataDirectory + "/privacy/audit.ndjson"
        try FileIO.makeDirectories(FileIO.parentDirectory(path))
        var object = JSONObject()
        object["time"] = .string(UTCTime.formatISO(micros: UTCTime.nowMicros()))
        object["project"] = .string(projectID)
        object["subject_kind"] = .string(subject.kind)
        object["subject_sha256"] = .string(subject.sha256)
        if case .object(let fields) = counts.json { for (key, value) in zip(fields.keys, fields.values) { object[key] = value } }
        var line = JSONWriter.serialize(.object(object))
        line.append(0x0A)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        try line.withUnsafeBytes { (buffer) throws in try FileIO.writeAll(fd: fd, buffer, path: path) }
        try FileIO.fsyncFile(fd: fd, path: path)
    }
}

extension SitesOutput {
    /// A site row from an events-file row (its latest event) and its recomputed summary.
    mutating func emitRecomputed(_ columns: [ColumnData], schema: ParquetSchema, row: Int, summary: Compactor.SiteSummary) throws {
        let positions = WarehouseSchema.sitesBatchColumns.prefix(eventColumnCount).map { schema.index(of: TableSchema.sites.columns[$0].name) }
        emitEventColumns(columns, positions: positions, row: row)
        let event = schema.index(of: "event").flatMap { columns[$0].string(at: row) }
        appendSummary(firstSeen: summary.firstSeen, lastSeen: summary.lastSeen, count: summary.count, event: event)
        try rowDone()
    }
}
