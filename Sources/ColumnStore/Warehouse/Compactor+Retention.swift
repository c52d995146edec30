import Core
import Foundation
import Ingest

/// History retention (`--retention-months N`), run at the end of a compaction:
/// 1. The cutoff is the first day of the month N months before the current UTC month: a month
///    partition before it lies wholly more than N months in the past (the current month and
///    the N before it are kept).
/// 2. One commit, operation `retention`: removes every `events` segment of an older month, and
///    replaces each sites snapshot holding a site last seen before the cutoff (the snapshot's
///    recorded `last_seen` minimum says so without opening it) by one without those sites.
///    The replaced files are deleted at once (followers rebuild on `retention`).
/// 3. Raw files of hours before the cutoff are deleted (every route, compacted or not: a
///    late compaction of them would only bring back what retention drops).
/// Remaining sites keep their `first_seen` and `event_count` (they describe the site's whole
/// history, which the vendor saw); only sites not seen in the window leave the index.
extension Compactor {
    static func retentionCutoffMicros(months: Int, nowMicros: Int64) -> Int64 {
        let civil = UTCTime.civil(micros: nowMicros)
        var year = civil.year
        var month = civil.month - months
        while month <= 0 {
            month += 12
            year -= 1
        }
        return Int64(UTCTime.daysFromCivil(year: year, month: month, day: 1)) * 86_400_000_000
    }

    /// Returns the keys of the raw files deleted.
    func applyMonthRetention(months: Int, files: [RawLayout.RawFile]) throws -> Set<String> {
        let cutoff = Self.retentionCutoffMicros(months: max(0, months), nowMicros: UTCTime.nowMicros())
        let cutoffMonth = WarehouseLayout.monthKey(micros: cutoff)
        let dropped = state.segments.values.filter { $0.table == .events && ($0.month ?? cutoffMonth) < cutoffMonth }
        let staleSites = state.segments.values.filter { $0.table == .sites && $0.receivedAtMin < cutoff }
        if !dropped.isEmpty || !staleSites.isEmpty {
            let version = state.version + 1
            var commit = WarehouseCommit(version: version, timestampMicros: UTCTime.nowMicros(), operation: .retention)
            commit.remove = dropped.map(\.path).sorted()
            for snapshot in staleSites.sorted(by: { $0.path < $1.path }) {
                if let entry = try writeSitesSeen(since: cutoff, snapshot: snapshot, version: version) { commit.add.append(entry) }
                commit.remove.append(snapshot.path)
            }
            try WarehouseLog.append(commit, layout: layout)
            state.apply(commit)
            report.commits += 1
            for entry in commit.add { try publish(entry.path) }
            for path in commit.remove { FileIO.removeGradually(layout.absolute(path)) }
            report.segmentsRetired += dropped.count
            logger.info("history retention dropped old months", metadata: ["segments": "\(dropped.count)", "before": "\(cutoffMonth)"])
        }
        var deleted = Set<String>()
        let cutoffHour = cutoff / 3_600_000_000
        for file in files where file.hourIndex < cutoffHour {
            FileIO.removeGradually(file.path)
            deleted.insert(file.key)
            report.rawFilesDeleted += 1
        }
        return deleted
    }

    /// The snapshot without the sites last seen before `cutoff` (nil when none is left).
    func writeSitesSeen(since cutoff: Int64, snapshot: SegmentEntry, version: Int) throws -> SegmentEntry? {
        let reader = try ParquetFileReader(path: layout.absolute(snapshot.path))
        let map = try OldSnapshotColumns(reader: reader)
        let relative = WarehouseLayout.sitesPartition(projectID: snapshot.projectID) + "/snapshot-\(Self.versionTag(version)).parquet"
        let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
        try FileIO.makeDirectories(FileIO.parentDirectory(hidden))
        var output = SitesOutput(writer: try ParquetWriter(path: hidden, schema: WarehouseSchema.sitesFile, options: parquetOptions()),
                                 projectID: snapshot.projectID, rowGroupRows: options.rowGroupRows)
        for group in 0..<reader.rowGroups.count {
            let columns = try reader.readRowGroup(group)
            for row in 0..<reader.rowGroups[group].rowCount where (columns[map.lastSeen].int64(at: row) ?? Int64.min) >= cutoff {
                try output.emitOld(columns, row: row, map: map)
            }
        }
        if output.rows == 0 {
            output.abandon()
            unlink(hidden)
            return nil
        }
        let (rows, low, high) = try output.finish()
        return SegmentEntry(path: relative, table: .sites, projectID: snapshot.projectID, month: nil, rows: rows,
                            bytes: FileIO.fileSize(hidden) ?? 0, receivedAtMin: low, receivedAtMax: high)
    }
}
