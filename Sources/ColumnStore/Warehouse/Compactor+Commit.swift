import Core
import Foundation
import Ingest
import Logging

extension Compactor {
    /// Steps 4–7 for one chunk; the chunk is emptied for the next one.
    func commitChunk(_ chunk: inout CompactionChunk) throws {
        if chunk.isEmpty { return }
        do { // a scope of its own: the chunk's rows are released before the fold below
            let rows = chunk.rows.finish()
            try commit(chunk, rows: rows)
        }
        chunk.reset()
        // The chunk's rows are freed: fold the projects whose deltas are due (Compactor+Sites
        // step 5), so a fold never holds its layers' row groups beside a chunk.
        try foldSitesDeltas(atEnd: false)
    }

    private func commit(_ chunk: CompactionChunk, rows: EventColumns) throws {
        let version = state.version + 1
        var commit = WarehouseCommit(version: version, timestampMicros: UTCTime.nowMicros(), operation: .compact)
        var positionsByProject: [String: [Int32]] = [:]
        var segments: [(key: CompactionChunk.PartitionKey, order: [Int32], relative: String)] = []
        var sequence = 0
        let times = rows.receivedAtMicros
        let ids = rows.strings(at: EventColumns.eventIDPosition)
        for key in chunk.partitions.keys.sorted() {
            var order = chunk.partitions[key]!
            times.withUnsafeBufferPointer { times in
                StringRows.with(.strings(ids)) { ids in
                    order.sort { a, b in
                        let timeA = times[Int(a)], timeB = times[Int(b)]
                        if timeA != timeB { return timeA < timeB }
                        return EventColumns.compareEventIDs(ids.value(Int(a)), ids.value(Int(b))) < 0
                    }
                }
            }
            let existing = try existingEventIDs(projectID: key.projectID, month: key.month,
                                                low: times[Int(order.first!)], high: times[Int(order.last!)])
            let before = order.count
            order = Self.firstOccurrences(order, ids: ids, existing: existing)
            report[project: key.projectID].duplicatesDropped += before - order.count
            guard !order.isEmpty else { continue }
            sequence += 1
            let relative = WarehouseLayout.eventsPartition(projectID: key.projectID, month: key.month)
                + "/part-\(Self.versionTag(version))-\(sequence).parquet"
            segments.append((key, order, relative))
            positionsByProject[key.projectID, default: []].append(contentsOf: order)
        }
        // Step 5: the partitions' segments and the projects' sites files are independent
        // files, so they are encoded at once (zstd and dictionary building dominate);
        // results are taken in the sequential order, so the commit is the same either way.
        let projects = positionsByProject.keys.sorted()
        let jobCount = projects.count + segments.count
        var results = [Result<(SegmentEntry, [String])?, Error>?](repeating: nil, count: jobCount)
        let write = { (job: Int) -> Result<(SegmentEntry, [String])?, Error> in
            Result {
                // Sites jobs first: a project's sites file can be the biggest single file.
                if job < projects.count {
                    return try self.writeSites(projectID: projects[job], rows: rows,
                                                       positions: positionsByProject[projects[job]]!, version: version)
                }
                let segment = segments[job - projects.count]
                return (try self.writeEventsSegment(rows: rows, order: segment.order, relative: segment.relative,
                                                    projectID: segment.key.projectID, month: segment.key.month), [])
            }
        }
        if options.parseThreads > 1 && jobCount > 1 {
            results.withUnsafeMutableBufferPointer { results in
                // Job `job` writes only slot `job` (no two threads touch one slot), `write` only
                // reads what it captured, and `forEach` returns after every job ended. Threads of
                // our own, not Dispatch's, which `serve`'s HTTP handlers share on Linux.
                let shared = UncheckedSendableBox((results: results, write: write))
                ParallelFor.forEach(count: jobCount, workersMax: options.parseThreads) { job in
                    shared.value.results[job] = shared.value.write(job)
                }
            }
        } else {
            for job in 0..<jobCount { results[job] = write(job) }
        }
        for (index, segment) in segments.enumerated() {
            let (entry, _) = try results[projects.count + index]!.get()!
            commit.add.append(entry)
            report.bytesOut += entry.bytes
            report[project: segment.key.projectID].eventsOut += segment.order.count
            report.segmentsWritten += 1
        }
        for index in projects.indices {
            if let (entry, replaced) = try results[index]!.get() {
                commit.add.append(entry)
                commit.remove.append(contentsOf: replaced)
                report.bytesOut += entry.bytes
                if entry.table == .sitesDelta { report.sitesDeltas += 1 } else { report.sitesSnapshots += 1 }
            }
        }
        commit.raw = chunk.raw
        try WarehouseLog.append(commit, layout: layout)
        state.apply(commit)
        report.commits += 1
        for entry in commit.add { try publish(entry.path) }
        for path in commit.remove { retire(path) }
    }

    static func versionTag(_ version: Int) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// `order` without the rows whose event id came earlier in `order` or is in `existing`
    /// (step 4). Ids are compared as `String`s (`==` is canonical equivalence); when all are
    /// ASCII that is byte equality, checked in a hash set of the bytes (no `String` per row).
    static func firstOccurrences(_ order: [Int32], ids: StringColumn, existing: Set<String>) -> [Int32] {
        StringRows.with(.strings(ids)) { ids in
            let allASCII = order.allSatisfy { EventColumns.isASCII(ids.value(Int($0))) }
            var seenBytes = StringDictionaryBuilder(entriesMax: Int.max, plainBytesMax: Int.max)
            var seenStrings = Set<String>()
            var kept: [Int32] = []
            kept.reserveCapacity(order.count)
            for row in order {
                let id = ids.value(Int(row))
                let isFirst: Bool
                if allASCII {
                    let count = seenBytes.count
                    _ = seenBytes.id(of: id)
                    isFirst = seenBytes.count > count
                } else {
                    isFirst = seenStrings.insert(String(decoding: id, as: UTF8.self)).inserted
                }
                if isFirst && (existing.isEmpty || !existing.contains(String(decoding: id, as: UTF8.self))) { kept.append(row) }
            }
            return kept
        }
    }

    /// Ids already committed in this partition within [low, high] of received_at (pruned by
    /// the commit's time range and by row-group statistics).
    func existingEventIDs(projectID: String, month: String, low: Int64, high: Int64) throws -> Set<String> {
        var ids = Set<String>()
        for segment in state.segments(table: .events, projectID: projectID)
        where segment.month == month && segment.receivedAtMax >= low && segment.receivedAtMin <= high {
            let reader = try ParquetFileReader(path: layout.absolute(segment.path))
            guard let idColumn = reader.schema.index(of: "event_id"), let timeColumn = reader.schema.index(of: "received_at") else { continue }
            for (index, group) in reader.rowGroups.enumerated() {
                let stats = group.columns[timeColumn]
                if case .int64(let groupMin)? = stats.min, case .int64(let groupMax)? = stats.max,
                   groupMax < low || groupMin > high { continue }
                let column = try reader.readColumn(rowGroup: index, column: idColumn)
                for row in 0..<column.count { if let id = column.string(at: row) { ids.insert(id) } }
            }
        }
        return ids
    }

    /// Writes rows (already sorted and deduped) to the hidden name of `relative`. Runs
    /// concurrently with other segment and snapshot writes: it must not touch `report` or `state`.
    func writeEventsSegment(rows: EventColumns, order: [Int32], relative: String, projectID: String, month: String) throws -> SegmentEntry {
        let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
        try FileIO.makeDirectories(FileIO.parentDirectory(hidden))
        let writer = try ParquetWriter(path: hidden, schema: WarehouseSchema.eventsFile, options: parquetOptions())
        var keys = SubjectKeySet()
        var start = 0
        while start < order.count {
            let end = min(order.count, start + options.rowGroupRows)
            // Column by column: a gather of the row group's rows from the chunk's columns.
            let columns = order.withUnsafeBufferPointer { order in
                let group = UnsafeBufferPointer(rebasing: order[start..<end])
                return rows.columns.map { source in
                    var appender = ColumnAppender(kind: source.kind, capacity: end - start)
                    appender.append(from: source, rows: group)
                    return appender.finish()
                }
            }
            keys.insert(batch: columns)
            try writer.write(rowGroup: WarehouseSchema.fileRowGroup(columns, projectID: projectID))
            start = end
        }
        try writer.close()
        let size = FileIO.fileSize(hidden) ?? 0
        let times = rows.receivedAtMicros
        let entry = SegmentEntry(path: relative, table: .events, projectID: projectID, month: month, rows: order.count, bytes: size,
                                 receivedAtMin: times[Int(order.first!)], receivedAtMax: times[Int(order.last!)])
        SubjectKeyIndex.writeSegment(dataDirectory: dataDirectory, entry: entry, hashes: keys.sorted())
        return entry
    }

    func parquetOptions() -> ParquetWriter.Options {
        var parquet = ParquetWriter.Options()
        parquet.rowGroupRowsMax = options.rowGroupRows
        parquet.zstdLevel = options.zstdLevel
        // A commit writes a segment and a sites file at once; on their own threads each
        // file's columns are encoded on the compaction's threads too, so the cores stay busy
        // when the shorter of the two has ended (and the parse lookahead is full).
        parquet.encodeThreads = max(1, options.parseThreads)
        parquet.plainStringColumns = ["event_id"]
        // Dictionaries that repeat may grow: a plugins list (~250 bytes of JSON) repeats
        // across a site's weekly events, yet a row group's distinct lists pass 1 MiB; past it
        // the chunk went PLAIN, 2.7× the bytes DuckDB writes for the column (and more to
        // compress). A column of nearly unique values (a million sites' lists in one row
        // group) still stops at 1 MiB: there a larger dictionary made the files larger.
        parquet.dictionaryBytesMaxRepeating = 16 << 20
        parquet.dictionaryEntriesMaxRepeating = 1 << 18
        parquet.allPlainWhenFewRepeats = true
        parquet.zstdLevelLongStrings = options.zstdLevelLongStrings
        return parquet
    }

    /// Deletes raw files that are fully compacted and whose hour is older than `days`, then
    /// the hour folders (and day, month, year folders) that this left empty, so a year of
    /// retention does not leave ~26,000 empty folders behind. A folder is removed only once
    /// its hour ended over a day ago: ingest writes only the current hour (and the previous one
    /// during its seal grace), and `rmdir` fails on a folder that is not empty.
    /// `files`: the run's listing of the raw tree. Returns the keys of the files deleted.
    func applyRawRetention(days: Int, files: [RawLayout.RawFile]) -> Set<String> {
        let now = UTCTime.nowMicros()
        let cutoff = now - Int64(days) * 86_400_000_000
        var emptiedFolders = Set<String>()
        var deleted = Set<String>()
        for file in files where state.raw[file.key]?.complete == true {
            if (file.hourIndex + 1) * 3_600_000_000 <= cutoff {
                FileIO.removeGradually(file.path)
                SubjectKeyIndex.removeLegacyRaw(dataDirectory: dataDirectory, key: file.key)
                deleted.insert(file.key)
                report.rawFilesDeleted += 1
                if (file.hourIndex + 25) * 3_600_000_000 <= now {
                    emptiedFolders.insert(String(file.path[..<(file.path.lastIndex(of: "/") ?? file.path.endIndex)]))
                }
            }
        }
        try? SubjectKeyIndex.removeRaw(dataDirectory: dataDirectory, keys: Array(deleted))
        for hourFolder in emptiedFolders.sorted() {
            var folder = hourFolder
            // hour, day, month, year: stop at the first folder that still holds something.
            for _ in 0..<4 {
                guard rmdir(folder) == 0, let slash = folder.lastIndex(of: "/") else { break }
                folder = String(folder[..<slash])
            }
        }
        return deleted
    }
}
