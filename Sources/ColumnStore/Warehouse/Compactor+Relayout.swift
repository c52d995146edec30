import Core
import Foundation

/// Step 1a: segments of the first layout (`project_id=<id>` folders, files without a
/// `project_id` column; see `WarehouseLayout`) are rewritten into the current one.
///
/// 1. Find the live segments whose path is in the first layout. Nothing to do when none are.
/// 2. Copy each, row group by row group, into a hidden file of the current layout with the
///    same name: the columns read by name (a column an older file lacks is NULL), `project_id`
///    added. Rows, their order and row groups are unchanged.
/// 3. One commit ("relayout") adds the new files and removes the old ones; publish; the old
///    files are retired like any replaced file. A crash before the commit leaves `.tmp-` files
///    (step 1 deletes them and the next run starts over); after it, step 1 rolls forward.
/// 4. Assert the rows: every copy has the row count of its source.
/// 5. Every run removes the first layout's folders once they are empty (their hidden
///    `.replaced-` copies outlive the commit by `replacedRetentionSeconds`).
extension Compactor {
    func relayoutLegacySegments() throws {
        defer { removeEmptyLegacyFolders() }
        let legacy = state.segments.values.filter { WarehouseLayout.isLegacy($0.path) }.sorted { $0.path < $1.path }
        guard !legacy.isEmpty else { return }
        let version = state.version + 1
        var commit = WarehouseCommit(version: version, timestampMicros: UTCTime.nowMicros(), operation: .relayout)
        for segment in legacy {
            let relative = Self.currentPath(of: segment)
            let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
            try FileIO.makeDirectories(FileIO.parentDirectory(hidden))
            let (schema, batchColumns, columns): (ParquetSchema, [Int], [TableSchema.Column]) = segment.table == .events
                ? (WarehouseSchema.eventsFile, WarehouseSchema.eventsBatchColumns, TableSchema.events.columns)
                : (WarehouseSchema.sitesFile, WarehouseSchema.sitesBatchColumns, TableSchema.sites.columns)
            let reader = try ParquetFileReader(path: layout.absolute(segment.path))
            let positions = batchColumns.map { reader.schema.index(of: columns[$0].name) }
            let writer = try ParquetWriter(path: hidden, schema: schema, options: segment.table == .events ? parquetOptions() : sitesParquetOptions())
            var rows = 0
            for group in 0..<reader.rowGroups.count {
                let data = try reader.readRowGroup(group)
                let count = reader.rowGroups[group].rowCount
                let batch = zip(batchColumns, positions).map { column, position in
                    position.map { data[$0] } ?? ColumnData.nulls(kind: columns[column].kind, count: count)
                }
                try writer.write(rowGroup: WarehouseSchema.fileRowGroup(batch, projectID: segment.projectID))
                rows += count
            }
            try writer.close()
            guard rows == segment.rows else {
                throw WarehouseError(.corruptLog, "\(segment.path) holds \(rows) rows, the commit log says \(segment.rows)")
            }
            var moved = segment
            moved.path = relative
            moved.bytes = FileIO.fileSize(hidden) ?? 0
            report.bytesOut += moved.bytes
            commit.add.append(moved)
            commit.remove.append(segment.path)
        }
        try WarehouseLog.append(commit, layout: layout)
        state.apply(commit)
        report.commits += 1
        for entry in commit.add { try publish(entry.path) }
        for path in commit.remove { retire(path) }
        logger.info("rewrote segments of the first warehouse layout", metadata: ["segments": "\(legacy.count)", "version": "\(version)"])
    }

    /// Step 5: `rmdir` bottom-up; a folder that still holds anything stays.
    func removeEmptyLegacyFolders() {
        for table in ["events", "sites"] {
            let tableDirectory = layout.root + "/" + table
            for name in FileIO.list(tableDirectory) where name.hasPrefix(WarehouseLayout.legacyProjectKey + "=") {
                let project = tableDirectory + "/" + name
                for month in FileIO.list(project) where FileIO.isDirectory(project + "/" + month) {
                    _ = rmdir(project + "/" + month)
                }
                if rmdir(project) == 0 { logger.info("removed an empty folder of the first layout", metadata: ["folder": "\(table)/\(name)"]) }
            }
        }
    }

    /// Where a segment of the first layout lives in the current one (same file name).
    static func currentPath(of segment: SegmentEntry) -> String {
        let name = FileIO.lastComponent(segment.path)
        switch segment.table {
        case .events:
            let month = segment.month ?? WarehouseLayout.monthKey(micros: segment.receivedAtMin)
            return WarehouseLayout.eventsPartition(projectID: segment.projectID, month: month) + "/" + name
        case .sites:
            return WarehouseLayout.sitesPartition(projectID: segment.projectID) + "/" + name
        case .sitesDelta:
            // Deltas came after the first layout: never legacy.
            return WarehouseLayout.sitesDeltaPartition(projectID: segment.projectID) + "/" + name
        }
    }
}

extension ColumnData {
    /// `count` NULLs of a kind.
    static func nulls(kind: ColumnKind, count: Int) -> ColumnData {
        var appender = ColumnAppender(kind: kind, capacity: count)
        for _ in 0..<count { appender.appendNull() }
        return appender.finish()
    }
}
