/// Page-level inspection, for tests and debugging tools (`readColumn` does not need it).
public struct ParquetPageInfo: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case dictionary, dataV1, dataV2, index, unknown
    }

    public var kind: Kind
    /// Value encoding of the page (PLAIN for dictionary pages).
    public var encoding: ParquetEncoding
    /// Values including nulls (entries for dictionary pages).
    public var valueCount: Int
    public var compressedByteCount: Int
    public var uncompressedByteCount: Int
    /// DataPageV2 only: whether the values section is compressed.
    public var isCompressed: Bool?
    /// The page CRC-32 from the header, nil when the writer recorded none.
    public var checksum: UInt32?
}

extension ParquetFileReader {
    /// Lists the page headers of one column chunk without decoding values.
    public func pages(rowGroup: Int, column: Int) throws -> [ParquetPageInfo] {
        guard rowGroups.indices.contains(rowGroup), leaves.indices.contains(column) else {
            throw ParquetError(.invalidInput, "no column \(column) in row group \(rowGroup)", path: path)
        }
        do {
            let meta = metaData.rowGroups[rowGroup].columns[column].metaData!
            let range = try Self.chunkRange(meta, footerStart: footerStart)
            let chunk = try source.read(offset: range.lowerBound, count: range.count)
            var pages: [ParquetPageInfo] = []
            var position = 0
            while position < chunk.count {
                var reader = ThriftCompactReader(bytes: chunk, start: position)
                let header = try ParquetFormat.PageHeader.decode(&reader)
                let size = Int(header.compressedPageSize)
                guard size >= 0, size <= chunk.count - reader.position else {
                    throw ParquetError(.badPage, "page at chunk byte \(position) overruns the chunk")
                }
                position = reader.position + size
                var info = ParquetPageInfo(kind: .unknown, encoding: .plain, valueCount: 0, compressedByteCount: size,
                                           uncompressedByteCount: Int(header.uncompressedPageSize), isCompressed: nil,
                                           checksum: header.crc.map { UInt32(bitPattern: $0) })
                if let dictionary = header.dictionaryPageHeader, header.type == ParquetPageType.dictionaryPage.rawValue {
                    info.kind = .dictionary
                    info.encoding = dictionary.encoding
                    info.valueCount = Int(dictionary.numValues)
                } else if let data = header.dataPageHeader, header.type == ParquetPageType.dataPage.rawValue {
                    info.kind = .dataV1
                    info.encoding = data.encoding
                    info.valueCount = Int(data.numValues)
                } else if let data = header.dataPageHeaderV2, header.type == ParquetPageType.dataPageV2.rawValue {
                    info.kind = .dataV2
                    info.encoding = data.encoding
                    info.valueCount = Int(data.numValues)
                    info.isCompressed = data.isCompressed
                } else if header.type == ParquetPageType.indexPage.rawValue {
                    info.kind = .index
                }
                pages.append(info)
            }
            return pages
        } catch let error as ParquetError {
            throw error.at(path)
        }
    }
}
