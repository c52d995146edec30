import Core
import Foundation

/// Step 8: small segments of a partition (one per compaction chunk, e.g. an hour) are merged
/// into month files of up to `segmentRowsTarget` rows, sorted by (received_at, event_id) so
/// time predicates prune row groups.
///
/// 1. Per events partition, take the segments below the target, oldest first, while their
///    total stays within the target. Nothing to do for fewer than two.
/// 2a. When the inputs follow one another in time — each one's newest `received_at` older
///    than the next one's oldest, by the log and by every row group's statistics — and all
///    have the current file schema, their concatenation is already sorted: their row groups
///    are copied into one hidden file as stored (pages checked, not decoded: a backlog's
///    chunks cover successive hours, so this is the common case and costs the bytes' copy).
///    The erase index is the union of the inputs' (their two key columns decoded only for an
///    input whose index is missing or stale).
/// 2b. Else read them, order all rows by (received_at, event_id) through a permutation (no row
///    is copied twice), gather row groups of `rowGroupRows` into one hidden file (per run of
///    rows from one input, column by column).
/// 3. Commit "merge": add the new file, remove the inputs (no data change); publish; delete.
extension Compactor {
    func mergeSmallSegments() throws {
        var partitions: [String: [SegmentEntry]] = [:]
        for segment in state.segments.values where segment.table == .events && segment.rows < options.segmentRowsTarget {
            partitions[FileIO.parentDirectory(segment.path), default: []].append(segment)
        }
        for partition in partitions.keys.sorted() {
            var candidates = partitions[partition]!.sorted { ($0.receivedAtMin, $0.path) < ($1.receivedAtMin, $1.path) }
            if options.mergePolicy == .tiered {
                // Level = log4 of the size: merge a level once it holds four segments.
                var levels: [Int: [SegmentEntry]] = [:]
                for segment in candidates {
                    levels[Int(log(Double(max(segment.rows, 1))) / log(4.0)), default: []].append(segment)
                }
                candidates = levels.keys.sorted().flatMap { level in levels[level]!.count >= 4 ? levels[level]! : [] }
            }
            while candidates.count >= 2 {
                var group: [SegmentEntry] = []
                var total = 0
                while let first = candidates.first, group.isEmpty || total + first.rows <= options.segmentRowsTarget {
                    group.append(first)
                    total += first.rows
                    candidates.removeFirst()
                }
                if group.count < 2 { continue }
                try mergeSegments(group)
            }
        }
    }

    func mergeSegments(_ inputs: [SegmentEntry]) throws {
        let version = state.version + 1
        let first = inputs[0]
        let readers = try inputs.map { try ParquetFileReader(path: layout.absolute($0.path)) }
        let relative = FileIO.parentDirectory(Self.currentPath(of: first)) + "/part-\(Self.versionTag(version))-m.parquet"
        let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
        let writer = try ParquetWriter(path: hidden, schema: WarehouseSchema.eventsFile, options: parquetOptions())
        var keys = SubjectKeySet()
        let merged: (rows: Int, low: Int64, high: Int64)
        if options.mergeByCopy, Self.followInTime(inputs, readers) {
            merged = try copyRowGroups(readers, inputs: inputs, into: writer, keys: &keys)
        } else {
            merged = try mergeRows(readers, projectID: first.projectID, into: writer, keys: &keys)
        }
        try writer.close()
        let size = FileIO.fileSize(hidden) ?? 0
        report.bytesOut += size
        var commit = WarehouseCommit(version: version, timestampMicros: UTCTime.nowMicros(), operation: .merge)
        commit.add = [SegmentEntry(path: relative, table: .events, projectID: first.projectID, month: first.month,
                                   rows: merged.rows, bytes: size, receivedAtMin: merged.low, receivedAtMax: merged.high)]
        commit.remove = inputs.map(\.path)
        SubjectKeyIndex.writeSegment(dataDirectory: dataDirectory, entry: commit.add[0], hashes: keys.sorted())
        assert(merged.rows == inputs.reduce(0) { $0 + $1.rows }, "a merge keeps every row")
        try WarehouseLog.append(commit, layout: layout)
        state.apply(commit)
        report.commits += 1
        report.segmentsMerged += inputs.count
        try publish(relative)
        for path in commit.remove { retire(path) }
    }

    /// Step 2a's test: the current schema everywhere, and each input's rows strictly older
    /// than the next one's — by the log's ranges and by every row group's `received_at`
    /// statistics (absent statistics: no).
    static func followInTime(_ inputs: [SegmentEntry], _ readers: [ParquetFileReader]) -> Bool {
        var newest: Int64? = nil
        for (input, reader) in zip(inputs, readers) {
            guard reader.schema == WarehouseSchema.eventsFile, let time = reader.schema.index(of: "received_at") else { return false }
            if let newest, input.receivedAtMin <= newest { return false }
            var previous = Int64.min
            for group in reader.rowGroups where group.rowCount > 0 {
                guard case .int64(let low)? = group.columns[time].min, case .int64(let high)? = group.columns[time].max,
                      low >= previous, low >= input.receivedAtMin, high <= input.receivedAtMax, low <= high else { return false }
                previous = high
            }
            newest = input.receivedAtMax
        }
        return true
    }

    /// Step 2a: the inputs' row groups in order, as stored. The erase index is the union of
    /// the inputs' (written with them); an input without a valid one has its `site_key` and
    /// `admin_email` decoded.
    func copyRowGroups(_ readers: [ParquetFileReader], inputs: [SegmentEntry], into writer: ParquetWriter,
                       keys: inout SubjectKeySet) throws -> (rows: Int, low: Int64, high: Int64) {
        var rows = 0
        let siteKey = WarehouseSchema.eventsFile.index(of: "site_key")!, adminEmail = WarehouseSchema.eventsFile.index(of: "admin_email")!
        for (input, reader) in zip(inputs, readers) {
            let indexed = SubjectKeyIndex.loadSegment(dataDirectory: dataDirectory, input)
            if let indexed { keys.formUnion(indexed.hashes) }
            for group in reader.rowGroups.indices where reader.rowGroups[group].rowCount > 0 {
                try writer.append(copied: try reader.rawRowGroup(group), rowCount: reader.rowGroups[group].rowCount)
                if indexed == nil {
                    keys.insert(siteKeys: try reader.readColumn(rowGroup: group, column: siteKey),
                                adminEmails: try reader.readColumn(rowGroup: group, column: adminEmail))
                }
                rows += reader.rowGroups[group].rowCount
            }
        }
        return (rows, inputs.first!.receivedAtMin, inputs.last!.receivedAtMax)
    }

    /// Step 2b: every row decoded, ordered and encoded again.
    func mergeRows(_ readers: [ParquetFileReader], projectID: String, into writer: ParquetWriter,
                   keys: inout SubjectKeySet) throws -> (rows: Int, low: Int64, high: Int64) {
        var parts: [[ColumnData]] = []
        var positions: [[Int?]] = []
        for reader in readers {
            let map = WarehouseSchema.eventsBatchColumns.map { reader.schema.index(of: TableSchema.events.columns[$0].name) }
            for group in 0..<reader.rowGroups.count {
                parts.append(try reader.readRowGroup(group))
                positions.append(map)
            }
        }

        let timeColumn = WarehouseSchema.eventsBatchColumns.firstIndex(of: 1)!
        let idColumn = WarehouseSchema.eventsBatchColumns.firstIndex(of: 0)!
        var order: [(part: Int32, row: Int32, time: Int64)] = []
        for (part, columns) in parts.enumerated() {
            let times = columns[positions[part][timeColumn]!]
            for row in 0..<times.count { order.append((Int32(part), Int32(row), times.int64(at: row) ?? 0)) }
        }
        order.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            let x = parts[Int(a.part)][positions[Int(a.part)][idColumn]!].string(at: Int(a.row)) ?? ""
            let y = parts[Int(b.part)][positions[Int(b.part)][idColumn]!].string(at: Int(b.row)) ?? ""
            return x < y
        }
        var start = 0
        while start < order.count {
            let end = min(order.count, start + options.rowGroupRows)
            // Runs of consecutive rows from one input (segments of successive chunks cover
            // successive hours, so a run is usually a whole input row group), each copied
            // column by column with one gather.
            var runs: [(part: Int, rows: [Int32])] = []
            for index in start..<end {
                let part = Int(order[index].part)
                if runs.last?.part != part { runs.append((part, [])) }
                runs[runs.count - 1].rows.append(order[index].row)
            }
            var columns: [ColumnData] = []
            for position in 0..<WarehouseSchema.eventsBatchColumns.count {
                let kind = TableSchema.events.columns[WarehouseSchema.eventsBatchColumns[position]].kind
                var appender = ColumnAppender(kind: kind, capacity: end - start)
                for run in runs {
                    if let source = positions[run.part][position] {
                        run.rows.withUnsafeBufferPointer { appender.append(from: parts[run.part][source], rows: $0) }
                    } else {
                        appender.appendNulls(run.rows.count)
                    }
                }
                columns.append(appender.finish())
            }
            keys.insert(batch: columns)
            try writer.write(rowGroup: WarehouseSchema.fileRowGroup(columns, projectID: projectID))
            start = end
        }
        return (order.count, order.first?.time ?? 0, order.last?.time ?? 0)
    }
}
