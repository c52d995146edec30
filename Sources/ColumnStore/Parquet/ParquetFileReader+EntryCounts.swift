/// Rows per dictionary entry of one string column chunk, counted from its pages without a
/// code per row: what `count(*) … GROUP BY <that column>` needs of a row group.
public struct ParquetEntryCounts: Sendable {
    /// The chunk's dictionary.
    public var entries: StringColumn
    /// Rows per entry, one counter per entry of `entries`.
    public var counts: [Int64]
    /// Rows that are NULL.
    public var nulls: Int64
}

/// The counting walk over a chunk's pages. It checks what `readChunk` checks (page CRCs,
/// sizes, levels, ids inside the dictionary), and declines (nil) rather than decide what it
/// does not read itself: a data page in another encoding than the dictionary's (a writer's
/// PLAIN fallback), a dictionary of another type. `readColumn` and counting its codes is the
/// reference; the query tests compare the two on files with NULLs, several pages and
/// fallback pages.
extension ParquetFileReader {
    /// Counts per entry of column `column` in row group `rowGroup`, or nil when the chunk is
    /// not a string column every data page of which is dictionary-encoded (read it instead).
    public func countEntries(rowGroup: Int, column: Int) throws -> ParquetEntryCounts? {
        guard rowGroups.indices.contains(rowGroup), leaves.indices.contains(column) else {
            throw ParquetError(.invalidInput, "no column \(column) in row group \(rowGroup)", path: path)
        }
        let leaf = leaves[column]
        guard leaf.column.kind == .string, let meta = metaData.rowGroups[rowGroup].columns[column].metaData else { return nil }
        do {
            let counted = try countChunkEntries(meta, leaf: leaf, rowCount: rowGroups[rowGroup].rowCount)
            // Invariant: every row was counted once, under an entry or as NULL.
            if let counted, counted.counts.reduce(counted.nulls, &+) != Int64(rowGroups[rowGroup].rowCount) {
                throw ParquetError(.badPage, "counted \(counted.counts.reduce(counted.nulls, &+)) rows of \(rowGroups[rowGroup].rowCount)")
            }
            return counted
        } catch var error as ParquetError {
            error.message = "row group \(rowGroup), column '\(leaf.column.name)': " + error.message
            throw error.at(path)
        }
    }

    private func countChunkEntries(_ meta: ParquetFormat.ColumnMetaData, leaf: ParquetLeaf, rowCount: Int) throws -> ParquetEntryCounts? {
        let chunk = try chunkBytes(meta)
        var dictionaryPage = ParquetColumnBuilder(leaf: leaf, rowCount: 0)
        var entries: StringColumn?
        var counts: [Int64] = []
        var rows = 0
        var nulls: Int64 = 0
        var levels: [UInt32] = []
        var position = 0
        var pageIndex = 0
        let maxLevel = leaf.maxDefinitionLevel

        /// Counts a page's values (`present` of them); returns false for a page not in the dictionary.
        func countValues(_ values: UnsafeRawBufferPointer, present: Int, encoding: ParquetEncoding) throws -> Bool {
            guard encoding == .rleDictionary || encoding == .plainDictionary, entries != nil else { return false }
            guard present > 0 else { return true }
            var decoder = try ParquetColumnBuilder.dictionaryIdDecoder(values)
            try counts.withUnsafeMutableBufferPointer { try decoder.count(present, into: $0) }
            return true
        }
        /// Rows of a page that are present, from its definition levels.
        func presentRows(_ levelBytes: UnsafeRawBufferPointer, rows: Int) throws -> Int {
            if try decodeLevels(levelBytes, count: rows, into: &levels) { return rows }
            return levels.reduce(0) { $0 + ($1 == UInt32(maxLevel) ? 1 : 0) }
        }

        return try ZstdDecompressor.pooled { decompressor -> ParquetEntryCounts? in
            while rows < rowCount {
                guard position < chunk.count else {
                    throw ParquetError(.badPage, "chunk ends after \(rows) of \(rowCount) values")
                }
                let (header, body) = try Self.pageHeader(in: chunk, at: position, pageIndex: pageIndex)
                position = body.upperBound
                let countable: Bool
                do {
                    countable = try chunk.withUnsafeBytes { raw -> Bool in
                        let bytes = UnsafeRawBufferPointer(rebasing: raw[body])
                        if let crc = header.crc { try ParquetPageChecksum.verify(bytes, stored: crc) }
                        switch ParquetPageType(rawValue: header.type) {
                        case .dictionaryPage:
                            guard let dictionaryHeader = header.dictionaryPageHeader,
                                  dictionaryHeader.encoding == .plain || dictionaryHeader.encoding == .plainDictionary else { return false }
                            try withDecompressed(bytes, size: Int(header.uncompressedPageSize), codec: meta.codec, decompressor) { values in
                                try dictionaryPage.setDictionary(values, count: Int(dictionaryHeader.numValues))
                            }
                            // More entries than rows cannot all be used: declined, so counters never
                            // outgrow the rows (a hostile header's claim costs the reference's memory, not 2× it).
                            guard case .strings(let column)? = dictionaryPage.dictionary, column.count <= rowCount else { return false }
                            entries = column
                            counts = [Int64](repeating: 0, count: column.count)
                            return true
                        case .dataPage:
                            guard let dataHeader = header.dataPageHeader else { throw ParquetError(.badPage, "data page without its header") }
                            let pageRows = Int(dataHeader.numValues)
                            guard pageRows >= 0, pageRows <= rowCount - rows else {
                                throw ParquetError(.badPage, "page of \(pageRows) values, \(rowCount - rows) left in the chunk")
                            }
                            guard dataHeader.encoding == .rleDictionary || dataHeader.encoding == .plainDictionary else { return false }
                            let counted = try withDecompressed(bytes, size: Int(header.uncompressedPageSize), codec: meta.codec, decompressor) { page -> Bool in
                                let (levelBytes, values) = try Self.splitV1Page(page, dataHeader, hasLevels: maxLevel > 0)
                                let present = try levelBytes.map { try presentRows($0, rows: pageRows) } ?? pageRows
                                guard try countValues(values, present: present, encoding: dataHeader.encoding) else { return false }
                                nulls += Int64(pageRows - present)
                                return true
                            }
                            rows += pageRows
                            return counted
                        case .dataPageV2:
                            guard let v2 = header.dataPageHeaderV2 else { throw ParquetError(.badPage, "v2 data page without its header") }
                            let pageRows = Int(v2.numValues)
                            guard pageRows >= 0, pageRows <= rowCount - rows else {
                                throw ParquetError(.badPage, "page of \(pageRows) values, \(rowCount - rows) left in the chunk")
                            }
                            let (levelBytes, valuesCompressed, valuesSize) = try Self.splitV2Page(bytes, header, v2)
                            guard v2.encoding == .rleDictionary || v2.encoding == .plainDictionary else { return false }
                            var present = pageRows
                            if maxLevel > 0 {
                                present = try presentRows(levelBytes, rows: pageRows)
                                guard pageRows - present == Int(v2.numNulls) else {
                                    throw ParquetError(.badPage, "v2 page says \(v2.numNulls) nulls, levels hold \(pageRows - present)")
                                }
                            } else if v2.numNulls != 0 {
                                throw ParquetError(.badPage, "v2 page has \(v2.numNulls) nulls in a REQUIRED column")
                            }
                            let counted = try withDecompressed(valuesCompressed, size: valuesSize, codec: v2.isCompressed ? meta.codec : .uncompressed,
                                                               decompressor) { values in
                                try countValues(values, present: present, encoding: v2.encoding)
                            }
                            nulls += Int64(pageRows - present)
                            rows += pageRows
                            return counted
                        case .indexPage, nil:
                            return true
                        }
                    }
                } catch var error as ParquetError {
                    error.message = "page \(pageIndex) at chunk byte \(body.lowerBound): " + error.message
                    throw error
                }
                if !countable { return nil }
                pageIndex += 1
            }
            guard let entries else { return rowCount == 0 ? ParquetEntryCounts(entries: StringColumn(), counts: [], nulls: 0) : nil }
            return ParquetEntryCounts(entries: entries, counts: counts, nulls: nulls)
        }
    }
}
