/// Appending a row group copied byte for byte from another file (`ParquetFileReader.rawRowGroup`):
/// its pages, encodings, dictionaries, statistics and CRCs stay as they are; only the chunks'
/// offsets in the footer move. For concatenating sorted files whose row groups need no
/// re-encoding (the merge of segments that do not overlap in time, the halves of a fold).
extension ParquetWriter {
    func append(copied chunks: [ParquetFileReader.RawColumnChunk], rowCount: Int) throws {
        guard !isClosed else { throw ParquetError(.invalidInput, "write after close", path: path) }
        guard chunks.count == schema.columns.count else {
            throw ParquetError(.invalidInput, "a copied row group has \(chunks.count) columns, the file \(schema.columns.count)", path: path)
        }
        guard rowCount > 0 else { return }
        let relative = try zip(chunks, schema.columns).map { chunk, spec in
            var meta = chunk.metaData
            guard meta.pathInSchema == [spec.name], meta.type == spec.kind.physicalType,
                  meta.codec == .zstd || meta.codec == .uncompressed, meta.numValues == Int64(rowCount),
                  meta.totalCompressedSize == Int64(chunk.bytes.count) else {
                throw ParquetError(.invalidInput, "copied column chunk \(meta.pathInSchema.joined(separator: ".")) does not fit column '\(spec.name)' of \(rowCount) rows", path: path)
            }
            // Offsets relative to the chunk, which starts at its dictionary page when it has one.
            let start = min(meta.dataPageOffset, meta.dictionaryPageOffset ?? meta.dataPageOffset)
            meta.dataPageOffset -= start
            if let dictionaryOffset = meta.dictionaryPageOffset { meta.dictionaryPageOffset = dictionaryOffset - start }
            return EncodedChunk(bytes: chunk.bytes, metaData: meta)
        }
        try appendRowGroup(relative, rowCount: rowCount)
    }
}
