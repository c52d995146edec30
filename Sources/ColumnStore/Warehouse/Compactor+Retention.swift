import Core
import Foundation
import Ingest

/// History retention (`--retention-months N`), run at the end of a compaction:
/// 1. The cutoff is the first day of the month N months before the current UTC month: a month
///    partition before it lies wholly more than N months in the past (the current month and
///    the N before it are kept).
/// 2. One commit, operation `retention`: removes every `events` segment of an older month, and
///    replaces the sites files (base and deltas) of each project holding a site last seen
///    before the cutoff (a file's recorded `last_seen` minimum says so without opening it) by
///    one merged base without those sites (`writeSitesBase`).
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
        // A project whose sites files (base or delta) hold a site last seen before the cutoff
        // (each file's recorded `last_seen` minimum says so without opening it).
        let staleProjects = Set(state.segments.values.filter { ($0.table == .sites || $0.table == .sitesDelta) && $0.receivedAtMin < cutoff }
            .map(\.projectID)).sorted()
        if !dropped.isEmpty || !staleProjects.isEmpty {
            let version = state.version + 1
            var commit = WarehouseCommit(version: version, timestampMicros: UTCTime.nowMicros(), operation: .retention)
            commit.remove = dropped.map(\.path).sorted()
            for projectID in staleProjects {
                let layers = state.sitesLayers(projectID: projectID)
                if let entry = try writeSitesBase(projectID: projectID, layers: layers, version: version, row: { output, columns, row, map in
                    if (columns[map.lastSeen].int64(at: row) ?? Int64.min) >= cutoff { try output.emitOld(columns, row: row, map: map) }
                }) {
                    commit.add.append(entry)
                }
                commit.remove.append(contentsOf: layers.map(\.path))
            }
            try WarehouseLog.append(commit, layout: layout)
            state.apply(commit)
            report.commits += 1
            for entry in commit.add { try publish(entry.path) }
            for path in commit.remove {
                FileIO.removeGradually(layout.absolute(path))
                SubjectKeyIndex.removeSegment(dataDirectory: dataDirectory, relative: path)
            }
            report.segmentsRetired += dropped.count
            logger.info("history retention dropped old months", metadata: ["segments": "\(dropped.count)", "before": "\(cutoffMonth)"])
        }
        var deleted = Set<String>()
        let cutoffHour = cutoff / 3_600_000_000
        for file in files where file.hourIndex < cutoffHour {
            FileIO.removeGradually(file.path)
            SubjectKeyIndex.removeLegacyRaw(dataDirectory: dataDirectory, key: file.key)
            deleted.insert(file.key)
            report.rawFilesDeleted += 1
        }
        try? SubjectKeyIndex.removeRaw(dataDirectory: dataDirectory, keys: Array(deleted))
        return deleted
    }
}
