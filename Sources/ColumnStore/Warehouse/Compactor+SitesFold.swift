import Core
import Foundation

/// The fold of a project's sites layers into a new base (Compactor+Sites step 5) on several
/// threads. A fold reads every row of every layer, so on a backlog (one base and dozens of
/// deltas, each holding a share of the sites) it is the longest single-threaded step of a
/// `trackhouse compact`.
///
/// 1. Cut the key space into `parts` ranges at row-group boundaries of the largest layer (its
///    row groups' `site_key` minimums, by statistics): each range holds about as many rows.
/// 2. Per range, on its own thread, merge the layers' rows with keys in the range
///    (`SitesLayerMerger.forEachRow(lower:upper:)`: row groups wholly outside are not read)
///    into a hidden part file of its own, as the one-thread fold would write them.
/// 3. Concatenate the parts' row groups, in range order, into the hidden base file, copied as
///    stored (`ParquetWriter.append(copied:)`): the ranges are disjoint and ordered, so the
///    base is sorted by site_key as a one-thread fold's. Delete the part files.
/// The result is the same rows as `writeSitesBase(projectID:layers:version:)`, the reference
/// (equivalence test: SitesDeltaTests); only the row-group boundaries differ.
extension Compactor {
    func foldSitesLayers(projectID: String, layers: [SegmentEntry], version: Int, parts requested: Int) throws -> SegmentEntry? {
        let readers = try layers.map { try ParquetFileReader(path: layout.committedPath($0.path)) }
        let bounds = Self.foldBounds(readers, parts: requested)
        guard bounds.count > 1 else {
            return try writeSitesBase(projectID: projectID, layers: layers, version: version, encodeThreads: requested)
        }
        let relative = WarehouseLayout.sitesPartition(projectID: projectID) + "/snapshot-\(Self.versionTag(version)).parquet"
        let hidden = layout.absolute(WarehouseLayout.temporaryName(relative))
        try FileIO.makeDirectories(FileIO.parentDirectory(hidden))
        let partPaths = bounds.indices.map { layout.absolute(WarehouseLayout.temporaryName(relative.replacingOccurrences(of: ".parquet", with: "-part\($0).parquet"))) }
        defer { for path in partPaths { unlink(path) } }

        // Step 2.
        var results = [Result<(rows: Int, lastSeenMin: Int64, lastSeenMax: Int64), Error>?](repeating: nil, count: bounds.count)
        // Each part on its own thread: its columns are encoded on that thread alone.
        var parquet = sitesParquetOptions()
        parquet.encodeThreads = 1
        let groupRows = sitesRowGroupRows
        results.withUnsafeMutableBufferPointer { results in
            // Part `index` writes only slot `index`; readers are immutable and read with pread.
            let shared = UncheckedSendableBox((results: results, readers: readers, bounds: bounds, paths: partPaths))
            ParallelFor.forEach(count: bounds.count, workersMax: bounds.count) { index in
                let context = shared.value
                context.results[index] = Result {
                    var output = SitesOutput(writer: try ParquetWriter(path: context.paths[index], schema: WarehouseSchema.sitesFile, options: parquet),
                                             projectID: projectID, rowGroupRows: groupRows)
                    do {
                        try SitesLayerMerger.forEachRow(context.readers, lower: context.bounds[index].lower, upper: context.bounds[index].upper) { columns, row, map in
                            try output.emitOld(columns, row: row, map: map)
                        }
                        if output.rows == 0 { output.abandon(); return (0, .max, .min) }
                        return try output.finish()
                    } catch {
                        output.abandon()
                        throw error
                    }
                }
            }
        }
        let written = try results.map { try $0!.get() }
        let rows = written.reduce(0) { $0 + $1.rows }
        guard rows > 0 else { return nil }

        // Step 3.
        let writer = try ParquetWriter(path: hidden, schema: WarehouseSchema.sitesFile, options: parquet)
        do {
            for (index, part) in written.enumerated() where part.rows > 0 {
                let reader = try ParquetFileReader(path: partPaths[index])
                guard reader.schema == WarehouseSchema.sitesFile, reader.rowCount == part.rows else {
                    throw ParquetError(.invalidInput, "sites fold part \(index) reads back as \(reader.rowCount) rows, \(part.rows) were written (an internal error; nothing was committed)", path: partPaths[index])
                }
                for group in reader.rowGroups.indices where reader.rowGroups[group].rowCount > 0 {
                    try writer.append(copied: try reader.rawRowGroup(group), rowCount: reader.rowGroups[group].rowCount)
                }
            }
            try writer.close()
        } catch {
            _ = try? writer.close()
            unlink(hidden)
            throw error
        }
        return SegmentEntry(path: relative, table: .sites, projectID: projectID, month: nil, rows: rows,
                            bytes: FileIO.fileSize(hidden) ?? 0,
                            receivedAtMin: written.map(\.lastSeenMin).min()!, receivedAtMax: written.map(\.lastSeenMax).max()!)
    }

    /// Step 1: `lower..<upper` key ranges (nil: open), in key order, covering every key; one
    /// range (no cut) when the largest layer has too few row groups or no key statistics.
    static func foldBounds(_ readers: [ParquetFileReader], parts: Int) -> [(lower: [UInt8]?, upper: [UInt8]?)] {
        guard parts > 1, let largest = readers.max(by: { $0.rowCount < $1.rowCount }),
              let siteKey = largest.schema.index(of: "site_key") else { return [(nil, nil)] }
        var minimums: [[UInt8]] = []
        for group in largest.rowGroups.dropFirst() where group.rowCount > 0 {
            guard case .bytes(let low)? = group.columns[siteKey].min else { return [(nil, nil)] }
            minimums.append(low)
        }
        let count = min(parts, minimums.count + 1)
        guard count > 1 else { return [(nil, nil)] }
        // Cuts at evenly spaced row-group starts (strictly increasing: the file is sorted).
        var cuts: [[UInt8]] = []
        for part in 1..<count {
            let cut = minimums[(part * (minimums.count + 1)) / count - 1]
            if cuts.last.map({ $0.lexicographicallyPrecedes(cut) }) ?? true { cuts.append(cut) }
        }
        var bounds: [(lower: [UInt8]?, upper: [UInt8]?)] = []
        var lower: [UInt8]? = nil
        for cut in cuts {
            bounds.append((lower, cut))
            lower = cut
        }
        bounds.append((lower, nil))
        return bounds
    }
}
