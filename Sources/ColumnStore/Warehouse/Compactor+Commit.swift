import Foundation
import Ingest
import Logging

extension Compactor {
    /// Steps 4–7 for one chunk.
    func commitChunk(_ chunk: inout CompactionChunk) throws {
        if chunk.isEmpty { return }
        let version = state.version + 1
        var commit = WarehouseCommit(version: version, timestampMicros: UTCTime.nowMicros(), operation: "compact")
        var rowsByProject: [String: [EventRow]] = [:]
        var sequence = 0
        for key in chunk.partitions.keys.sorted() {
            var rows = chunk.partitions[key]!
            rows.sort { ($0.receivedAtMicros, $0.eventID) < ($1.receivedAtMicros, $1.eventID) }
            let existing = try existingEventIDs(projectID: key.projectID, month: key.month,
                                                low: rows.first!.receivedAtMicros, high: rows.last!.receivedAtMicros)
            var seen = Set<String>()
            seen.reserveCapacity(rows.count)
            let before = rows.count
            rows.removeAll { !seen.insert($0.eventID).inserted || existing.contains($0.eventID) }
            report[project: key.projectID].duplicatesDropped += before - rows.count
            guard !rows.isEmpty else { continue }
            sequence += 1
            let relative = WarehouseLayout.eventsPartition(projectID: key.projectID, month: key.month)
                + "/part-\(Self.versionTag(version))-\(sequence).parquet"
            let entry = try writeEventsSegment(rows: rows[...], relative: relative, projectID: key.projectID, month: key.month)
            commit.add.append(entry)
            report[project: key.projectID].eventsOut += rows.count
            report.segmentsWritten += 1
            rowsByProject[key.projectID, default: []].append(contentsOf: rows)
        }
        for projectID in rowsByProject.keys.sorted() {
            if let (entry, replaced) = try writeSitesSnapshot(projectID: projectID, newRows: rowsByProject[projectID]!, version: version) {
                commit.add.append(entry)
                commit.remove.append(contentsOf: replaced)
                report.sitesSnapshots += 1
            }
        }
        commit.raw = chunk.raw
        try WarehouseLog.append(commit, layout: layout)
        state.apply(commit)
        report.commits += 1
        for entry in commit.add { try publish(entry.path) }
        for path in commit.remove { retire(path) }
        chunk = CompactionChunk()
    }

    static func versionTag(_ version: Int) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
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

    /// Writes rows (already sorted and deduped) to the hidden name of `relative`.
    func writeEventsSegment(rows: ArraySlice<EventRow>, relative: String, projectID: String, month: String) throws -> SegmentEntry {
        let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
        try FileIO.makeDirectories(FileIO.parentDirectory(hidden))
        let writer = try ParquetWriter(path: hidden, schema: WarehouseSchema.eventsFile, options: parquetOptions())
        var start = rows.startIndex
        while start < rows.endIndex {
            let end = min(rows.endIndex, start + options.rowGroupRows)
            var columns: [ColumnData] = []
            columns.reserveCapacity(WarehouseSchema.eventsFileColumns.count)
            // Row by row, all columns at once: each EventRow is read in place, once (per
            // column access would copy the 46-field struct and retain its strings every time).
            var appenders = WarehouseSchema.eventsFileColumns.map {
                ColumnAppender(kind: EventSchema.events[$0].kind.columnKind, capacity: end - start)
            }
            for index in start..<end {
                rows[index].append(to: &appenders, columns: WarehouseSchema.eventsFileColumns)
            }
            for position in appenders.indices { columns.append(appenders[position].finish()) }
            try writer.write(rowGroup: columns)
            start = end
        }
        try writer.close()
        let size = FileIO.fileSize(hidden) ?? 0
        report.bytesOut += size
        return SegmentEntry(path: relative, table: .events, projectID: projectID, month: month, rows: rows.count, bytes: size,
                            receivedAtMin: rows.first!.receivedAtMicros, receivedAtMax: rows.last!.receivedAtMicros)
    }

    func parquetOptions() -> ParquetWriter.Options {
        var parquet = ParquetWriter.Options()
        parquet.rowGroupRowsMax = options.rowGroupRows
        parquet.zstdLevel = options.zstdLevel
        return parquet
    }

    /// Deletes raw files that are fully compacted and whose hour is older than `days`.
    func applyRawRetention(days: Int) {
        let cutoff = UTCTime.nowMicros() - Int64(days) * 86_400_000_000
        for file in rawLayout.listFiles() where state.raw[file.key]?.complete == true {
            if (file.hourIndex + 1) * 3_600_000_000 <= cutoff {
                FileIO.remove(file.path)
            }
        }
    }
}
