/// Column chunk decoding: walks the pages of one chunk, decompresses them and feeds a
/// `ParquetColumnBuilder`.
extension ParquetFileReader {
    /// Largest page we decompress; larger claims are corruption (Arrow caps pages at 1 MiB by default).
    static let pageBytesMax = 512 << 20

    func readChunk(_ meta: ParquetFormat.ColumnMetaData, leaf: ParquetLeaf, rowCount: Int) throws -> ColumnData {
        let chunk = try chunkBytes(meta)
        var builder = ParquetColumnBuilder(leaf: leaf, rowCount: rowCount)
        var levels: [UInt32] = []
        var position = 0
        var pageIndex = 0
        try ZstdDecompressor.pooled { decompressor in
            while builder.rows < rowCount {
                guard position < chunk.count else {
                    throw ParquetError(.badPage, "chunk ends after \(builder.rows) of \(rowCount) values")
                }
                let (header, body) = try Self.pageHeader(in: chunk, at: position, pageIndex: pageIndex)
                position = body.upperBound
                try decodePage(header, in: chunk, body: body, pageIndex: pageIndex, codec: meta.codec, builder: &builder,
                               levels: &levels, decompressor: decompressor)
                pageIndex += 1
            }
        }
        return builder.finish()
    }

    /// The compressed bytes of a chunk (dictionary page first), after checking the codec is one we read.
    func chunkBytes(_ meta: ParquetFormat.ColumnMetaData) throws -> [UInt8] {
        guard meta.codec == .zstd || meta.codec == .uncompressed else {
            throw ParquetError(.unsupported, "compression codec \(meta.codec) (only ZSTD and UNCOMPRESSED are read)")
        }
        let range = try Self.chunkRange(meta, footerStart: footerStart)
        return try source.read(offset: range.lowerBound, count: range.count)
    }

    /// Decodes the header of page `pageIndex` at byte `position` of `chunk` and checks that
    /// the page fits the chunk; returns the header and the byte range of the page body.
    /// Header decoding only: nothing is decompressed. Shared by `readChunk` and the row-range
    /// read (`readColumn(rowGroup:column:rows:)`).
    static func pageHeader(in chunk: [UInt8], at position: Int,
                           pageIndex: Int) throws -> (header: ParquetFormat.PageHeader, body: Range<Int>) {
        var reader = ThriftCompactReader(bytes: chunk, start: position)
        let header: ParquetFormat.PageHeader
        do {
            header = try ParquetFormat.PageHeader.decode(&reader)
        } catch var error as ParquetError {
            error.message = "page \(pageIndex) header at chunk byte \(position): " + error.message
            throw error
        }
        let bodyStart = reader.position
        let compressedSize = Int(header.compressedPageSize), uncompressedSize = Int(header.uncompressedPageSize)
        guard compressedSize >= 0, compressedSize <= chunk.count - bodyStart,
              uncompressedSize >= 0, uncompressedSize <= Self.pageBytesMax else {
            throw ParquetError(.badPage, "page \(pageIndex) sizes (\(compressedSize) compressed, \(uncompressedSize) uncompressed) do not fit the chunk's \(chunk.count - bodyStart) remaining bytes")
        }
        return (header, bodyStart..<bodyStart + compressedSize)
    }

    /// Decodes page `pageIndex` (header `header`, body `chunk[body]`) into `builder`; errors
    /// name the page. A page whose header carries a CRC is checked before anything is
    /// decompressed, so damage is reported as damage, not as a zstd or decoding error (or,
    /// worse, as different values); pages without one (older files, other writers) are
    /// read as before.
    func decodePage(_ header: ParquetFormat.PageHeader, in chunk: [UInt8], body: Range<Int>, pageIndex: Int,
                    codec: ParquetCodec, builder: inout ParquetColumnBuilder, levels: inout [UInt32],
                    decompressor: ZstdDecompressor) throws {
        do {
            try chunk.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[body])
                if let crc = header.crc { try ParquetPageChecksum.verify(bytes, stored: crc) }
                try decodePage(header, body: bytes, codec: codec, builder: &builder,
                               levels: &levels, decompressor: decompressor)
            }
        } catch var error as ParquetError {
            error.message = "page \(pageIndex) at chunk byte \(body.lowerBound): " + error.message
            throw error
        }
    }

    private func decodePage(_ header: ParquetFormat.PageHeader, body: UnsafeRawBufferPointer, codec: ParquetCodec,
                            builder: inout ParquetColumnBuilder, levels: inout [UInt32],
                            decompressor: ZstdDecompressor) throws {
        let maxLevel = builder.leaf.maxDefinitionLevel
        switch ParquetPageType(rawValue: header.type) {
        case .dictionaryPage:
            guard let dictionaryHeader = header.dictionaryPageHeader else { throw ParquetError(.badPage, "dictionary page without its header") }
            guard dictionaryHeader.encoding == .plain || dictionaryHeader.encoding == .plainDictionary else {
                throw ParquetError(.unsupported, "dictionary page encoding \(dictionaryHeader.encoding)")
            }
            try withDecompressed(body, size: Int(header.uncompressedPageSize), codec: codec, decompressor) { values in
                try builder.setDictionary(values, count: Int(dictionaryHeader.numValues))
            }
        case .dataPage:
            guard let dataHeader = header.dataPageHeader else { throw ParquetError(.badPage, "data page without its header") }
            let rows = Int(dataHeader.numValues)
            guard rows >= 0, rows <= builder.rowCount - builder.rows else {
                throw ParquetError(.badPage, "page of \(rows) values, \(builder.rowCount - builder.rows) left in the chunk")
            }
            try withDecompressed(body, size: Int(header.uncompressedPageSize), codec: codec, decompressor) { page in
                let (levelBytes, values) = try Self.splitV1Page(page, dataHeader, hasLevels: maxLevel > 0)
                let allPresent = try levelBytes.map { try decodeLevels($0, count: rows, into: &levels) } ?? true
                try appendValues(builder: &builder, rows: rows, levels: allPresent ? nil : levels,
                                 encoding: dataHeader.encoding, values: values)
            }
        case .dataPageV2:
            guard let v2 = header.dataPageHeaderV2 else { throw ParquetError(.badPage, "v2 data page without its header") }
            let rows = Int(v2.numValues)
            guard rows >= 0, rows <= builder.rowCount - builder.rows else {
                throw ParquetError(.badPage, "page of \(rows) values, \(builder.rowCount - builder.rows) left in the chunk")
            }
            let (levelBytes, valuesCompressed, valuesSize) = try Self.splitV2Page(body, header, v2)
            var allPresent = true
            if maxLevel > 0 {
                allPresent = try decodeLevels(levelBytes, count: rows, into: &levels)
                let nulls = allPresent ? 0 : levels.reduce(0) { $0 + ($1 == UInt32(maxLevel) ? 0 : 1) }
                guard nulls == Int(v2.numNulls) else {
                    throw ParquetError(.badPage, "v2 page says \(v2.numNulls) nulls, levels hold \(nulls)")
                }
            } else if v2.numNulls != 0 {
                throw ParquetError(.badPage, "v2 page has \(v2.numNulls) nulls in a REQUIRED column")
            }
            try withDecompressed(valuesCompressed, size: valuesSize, codec: v2.isCompressed ? codec : .uncompressed, decompressor) { values in
                try appendValues(builder: &builder, rows: rows, levels: allPresent ? nil : levels,
                                 encoding: v2.encoding, values: values)
            }
        case .indexPage, nil:
            break // not needed for reading values; skipped
        }
    }

    /// A decompressed v1 data page split into its definition levels (RLE, after a 4-byte
    /// length; nil for a REQUIRED column, which has none) and its values.
    static func splitV1Page(_ page: UnsafeRawBufferPointer, _ dataHeader: ParquetFormat.DataPageHeader,
                            hasLevels: Bool) throws -> (levels: UnsafeRawBufferPointer?, values: UnsafeRawBufferPointer) {
        guard hasLevels else { return (nil, page) }
        guard dataHeader.definitionLevelEncoding == .rle else {
            throw ParquetError(.unsupported, "definition level encoding \(dataHeader.definitionLevelEncoding)")
        }
        guard page.count >= 4 else { throw ParquetError(.badPage, "definition levels lack their length prefix") }
        let length = Int(UInt32(littleEndian: page.loadUnaligned(as: UInt32.self)))
        guard length <= page.count - 4 else { throw ParquetError(.badPage, "definition levels length \(length) past the page end") }
        return (UnsafeRawBufferPointer(rebasing: page[4..<4 + length]), UnsafeRawBufferPointer(rebasing: page[(4 + length)...]))
    }

    /// A v2 data page's body split into its definition levels (never compressed, no length
    /// prefix; repetition levels skipped) and its values (compressed when the header says so)
    /// with their uncompressed size, after checking the sizes fit.
    static func splitV2Page(_ body: UnsafeRawBufferPointer, _ header: ParquetFormat.PageHeader, _ v2: ParquetFormat.DataPageHeaderV2) throws
        -> (levels: UnsafeRawBufferPointer, values: UnsafeRawBufferPointer, valuesSize: Int) {
        let repetitionBytes = Int(v2.repetitionLevelsByteLength), definitionBytes = Int(v2.definitionLevelsByteLength)
        guard v2.numNulls >= 0, v2.numNulls <= v2.numValues, repetitionBytes >= 0, definitionBytes >= 0,
              repetitionBytes + definitionBytes <= body.count,
              repetitionBytes + definitionBytes <= Int(header.uncompressedPageSize) else {
            throw ParquetError(.badPage, "v2 page level sizes do not fit the page")
        }
        return (UnsafeRawBufferPointer(rebasing: body[repetitionBytes..<repetitionBytes + definitionBytes]),
                UnsafeRawBufferPointer(rebasing: body[(repetitionBytes + definitionBytes)...]),
                Int(header.uncompressedPageSize) - repetitionBytes - definitionBytes)
    }

    private func appendValues(builder: inout ParquetColumnBuilder, rows: Int, levels: [UInt32]?,
                              encoding: ParquetEncoding, values: UnsafeRawBufferPointer) throws {
        if let levels {
            try levels.withUnsafeBufferPointer { levels in
                try builder.appendPage(rowCount: rows, levels: levels, encoding: encoding, values: values)
            }
        } else {
            try builder.appendPage(rowCount: rows, levels: nil, encoding: encoding, values: values)
        }
    }

    /// Definition levels of a flat OPTIONAL column (bit width 1). Returns true, without
    /// filling `levels`, when one RLE run marks every row present (the common case), so
    /// value decoding can take its bulk paths.
    func decodeLevels(_ data: UnsafeRawBufferPointer, count: Int, into levels: inout [UInt32]) throws -> Bool {
        guard count <= Self.rowGroupRowsMax else { throw ParquetError(.badPage, "page of \(count) values") }
        if count == 0 { return true }
        var decoder = try RleHybridDecoder(data, bitWidth: 1)
        if try decoder.startsWithRun(of: 1, covering: count) { return true }
        levels = [UInt32](repeating: 0, count: count)
        try levels.withUnsafeMutableBufferPointer { try decoder.decode(into: $0.baseAddress!, count: count) }
        return false
    }

    func withDecompressed<R>(_ body: UnsafeRawBufferPointer, size: Int, codec: ParquetCodec, _ decompressor: ZstdDecompressor,
                                     _ use: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard size >= 0 else { throw ParquetError(.badPage, "negative uncompressed size") }
        if codec == .uncompressed {
            guard body.count == size else {
                throw ParquetError(.badPage, "uncompressed page of \(body.count) bytes, header says \(size)")
            }
            return try use(body)
        }
        let output = try decompressor.decompress(body, size: size)
        return try output.withUnsafeBytes { try use($0) }
    }
}
