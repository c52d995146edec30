/// A row group as its stored bytes, for copying it into another file unchanged
/// (`ParquetWriter.append(copied:)`): what the merge of non-overlapping segments uses instead
/// of decoding and encoding every value again.
extension ParquetFileReader {
    /// One column chunk as stored: its bytes (dictionary page first) and its metadata, whose
    /// offsets are this file's.
    struct RawColumnChunk {
        var bytes: [UInt8]
        var metaData: ParquetFormat.ColumnMetaData
    }

    /// The stored chunks of row group `rowGroup`, each checked before it is handed out: every
    /// page header decodes and fits the chunk, every page that carries a CRC matches it, and
    /// the data pages hold exactly the row group's rows — so a copy never carries damage a
    /// decoding read would have refused. Nothing is decompressed.
    func rawRowGroup(_ rowGroup: Int) throws -> [RawColumnChunk] {
        guard rowGroups.indices.contains(rowGroup) else {
            throw ParquetError(.invalidInput, "no row group \(rowGroup)", path: path)
        }
        let rowCount = rowGroups[rowGroup].rowCount
        var chunks: [RawColumnChunk] = []
        chunks.reserveCapacity(leaves.count)
        for column in leaves.indices {
            do {
                guard let meta = metaData.rowGroups[rowGroup].columns[column].metaData else {
                    throw ParquetError(.badMetadata, "column chunk without metadata")
                }
                let bytes = try chunkBytes(meta)
                try Self.verifyPages(bytes, rowCount: rowCount)
                chunks.append(RawColumnChunk(bytes: bytes, metaData: meta))
            } catch var error as ParquetError {
                error.message = "row group \(rowGroup), column '\(leaves[column].column.name)': " + error.message
                throw error.at(path)
            }
        }
        return chunks
    }

    /// Walks a chunk's page headers: sizes in bounds, CRCs that match, `rowCount` values in
    /// its data pages, no bytes after them.
    static func verifyPages(_ chunk: [UInt8], rowCount: Int) throws {
        var position = 0
        var values = 0
        var pageIndex = 0
        while position < chunk.count {
            let (header, body) = try pageHeader(in: chunk, at: position, pageIndex: pageIndex)
            if let crc = header.crc {
                try chunk.withUnsafeBytes { try ParquetPageChecksum.verify(UnsafeRawBufferPointer(rebasing: $0[body]), stored: crc) }
            }
            switch ParquetPageType(rawValue: header.type) {
            case .dataPage:
                guard let dataHeader = header.dataPageHeader else { throw ParquetError(.badPage, "data page without its header") }
                values += Int(dataHeader.numValues)
            case .dataPageV2:
                guard let v2 = header.dataPageHeaderV2 else { throw ParquetError(.badPage, "v2 data page without its header") }
                values += Int(v2.numValues)
            case .dictionaryPage, .indexPage, nil:
                break
            }
            guard values >= 0, values <= rowCount else {
                throw ParquetError(.badPage, "page \(pageIndex) brings the chunk to \(values) values, the row group has \(rowCount)")
            }
            position = body.upperBound
            pageIndex += 1
        }
        guard values == rowCount else {
            throw ParquetError(.badPage, "chunk holds \(values) values, the row group has \(rowCount)")
        }
    }
}
