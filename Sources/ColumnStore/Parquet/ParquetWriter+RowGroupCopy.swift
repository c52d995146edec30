/// Appending a row group copied byte for byte from another file (`ParquetFileReader.rawRowGroup`):
/// its pages, encodings, dictionaries, statistics and CRCs stay as they are; only the chunks'
/// offsets in the footer move. For concatenating sorted files whose row groups need no
/// re-encoding (the merge of segments that do not overlap in time).
extension ParquetWriter {
    func append(copied chunks: [ParquetFileReader.RawColumnChunk], rowCount: Int) throws {
        guard !isClosed else { throw ParquetError(.invalidInput, "write after close", path: path) }
        guard chunks.count == schema.columns.count else {
            throw ParquetError(.invalidInput, "a copied row group has \(chunks.count) columns, the file \(schema.columns.count)", path: path)
        }
        guard rowCount > 0 else { return }
        let groupStart = offset
        var group = ParquetFormat.RowGroup()
        group.numRows = Int64(rowCount)
        group.ordinal = Int16(truncatingIfNeeded: rowGroups.count)
        for (index, chunk) in chunks.enumerated() {
            var meta = chunk.metaData
            let spec = schema.columns[index]
            guard meta.pathInSchema == [spec.name], meta.type == spec.kind.physicalType,
                  meta.codec == .zstd || meta.codec == .uncompressed, meta.numValues == Int64(rowCount),
                  meta.totalCompressedSize == Int64(chunk.bytes.count) else {
                throw ParquetError(.invalidInput, "copied column chunk \(meta.pathInSchema.joined(separator: ".")) does not fit column '\(spec.name)' of \(rowCount) rows", path: path)
            }
            // The chunk starts at its dictionary page when it has one, else at its first data page.
            let oldStart = min(meta.dataPageOffset, meta.dictionaryPageOffset ?? meta.dataPageOffset)
            let shift = offset - oldStart
            meta.dataPageOffset += shift
            if let dictionaryOffset = meta.dictionaryPageOffset { meta.dictionaryPageOffset = dictionaryOffset + shift }
            try append(chunk.bytes)
            group.columns.append(ParquetFormat.ColumnChunk(filePath: nil, fileOffset: 0, metaData: meta))
            group.totalByteSize += meta.totalUncompressedSize
        }
        group.fileOffset = groupStart
        group.totalCompressedSize = offset - groupStart
        rowGroups.append(group)
        self.rowCount += Int64(rowCount)
    }
}
