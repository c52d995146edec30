import Core

/// Encodes one column chunk: optional dictionary page, then data pages.
extension ParquetWriter {
    struct EncodedChunk {
        var bytes: [UInt8]
        /// Offsets are relative to the chunk start until the caller rebases them.
        var metaData: ParquetFormat.ColumnMetaData
    }

    /// Chunk bytes plus the bookkeeping needed for ColumnMetaData.
    struct ChunkAssembler {
        var bytes: [UInt8] = []
        var uncompressedSize: Int64 = 0
        var dictionaryPages = 0
        var plainPages = 0
        var dictionaryDataPages = 0

        mutating func add(_ page: EncodedPage) {
            bytes.append(contentsOf: page.bytes)
            uncompressedSize += Int64(page.headerSize + page.uncompressedBodySize)
        }
    }

    func encodeChunk(_ column: ColumnData, spec: ParquetColumn, rows: Range<Int>) throws -> EncodedChunk {
        var chunk = ChunkAssembler()
        var dictionaryPage: EncodedPage?
        var distinctStrings: StringColumn?
        switch column.storage {
        case .int64(let values):
            try values.withUnsafeBytes { raw in
                try encodeFixedWidthPages(column, spec: spec, rows: rows, width: 8, values: raw, into: &chunk)
            }
        case .double(let values):
            try values.withUnsafeBytes { raw in
                try encodeFixedWidthPages(column, spec: spec, rows: rows, width: 8, values: raw, into: &chunk)
            }
        case .bool(let values):
            try encodeBoolPages(column, spec: spec, rows: rows, values: values, into: &chunk)
        case .strings, .dictionary:
            (dictionaryPage, distinctStrings) = try encodeStringPages(column, spec: spec, rows: rows, into: &chunk)
        }

        var output: [UInt8] = []
        var metaData = ParquetFormat.ColumnMetaData()
        metaData.type = spec.kind.physicalType
        metaData.pathInSchema = [spec.name]
        metaData.codec = .zstd
        metaData.numValues = Int64(rows.count)
        var uncompressedSize = chunk.uncompressedSize
        var encodings: [ParquetEncoding] = []
        var encodingStats: [ParquetFormat.PageEncodingStats] = []
        if let dictionaryPage {
            output.reserveCapacity(dictionaryPage.bytes.count + chunk.bytes.count)
            output.append(contentsOf: dictionaryPage.bytes)
            uncompressedSize += Int64(dictionaryPage.headerSize + dictionaryPage.uncompressedBodySize)
            metaData.dictionaryPageOffset = 0
            encodingStats.append(.init(pageType: ParquetPageType.dictionaryPage.rawValue, encoding: .plain, count: 1))
        }
        metaData.dataPageOffset = Int64(output.count)
        output.append(contentsOf: chunk.bytes)
        if dictionaryPage != nil || chunk.plainPages > 0 { encodings.append(.plain) }
        if spec.isOptional { encodings.append(.rle) }
        if chunk.dictionaryDataPages > 0 {
            encodings.append(.rleDictionary)
            encodingStats.append(.init(pageType: ParquetPageType.dataPage.rawValue, encoding: .rleDictionary,
                                       count: Int32(chunk.dictionaryDataPages)))
        }
        if chunk.plainPages > 0 {
            encodingStats.append(.init(pageType: ParquetPageType.dataPage.rawValue, encoding: .plain, count: Int32(chunk.plainPages)))
        }
        metaData.encodings = encodings
        metaData.encodingStats = encodingStats
        metaData.totalUncompressedSize = uncompressedSize
        metaData.totalCompressedSize = Int64(output.count)
        metaData.statistics = statistics(column, rows: rows, distinctStrings: distinctStrings)
        return EncodedChunk(bytes: output, metaData: metaData)
    }

    // MARK: Fixed width (INT64, DOUBLE)

    private func encodeFixedWidthPages(_ column: ColumnData, spec: ParquetColumn, rows: Range<Int>, width: Int,
                                       values: UnsafeRawBufferPointer, into chunk: inout ChunkAssembler) throws {
        let pageRows = max(1, min(options.pageRowsMax, options.pageBytesMax / width))
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(rows.upperBound, start + pageRows)
            var body: [UInt8] = []
            body.reserveCapacity((end - start) * width + 16)
            if spec.isOptional { appendDefinitionLevels(column, start..<end, to: &body) }
            if column.validity == nil {
                // Host is little-endian (x86-64, arm64), the same as Parquet PLAIN.
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: values[(start * width)..<(end * width)]))
            } else {
                for row in start..<end where column.isValid(row) {
                    body.append(contentsOf: UnsafeRawBufferPointer(rebasing: values[(row * width)..<((row + 1) * width)]))
                }
            }
            chunk.add(try dataPage(body: body, valueCount: end - start, encoding: .plain))
            chunk.plainPages += 1
            start = end
        }
    }

    // MARK: BOOLEAN

    private func encodeBoolPages(_ column: ColumnData, spec: ParquetColumn, rows: Range<Int>, values: [UInt8],
                                 into chunk: inout ChunkAssembler) throws {
        let pageRows = max(1, min(options.pageRowsMax, options.pageBytesMax * 8))
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(rows.upperBound, start + pageRows)
            var body: [UInt8] = []
            if spec.isOptional { appendDefinitionLevels(column, start..<end, to: &body) }
            // PLAIN booleans: bit-packed, LSB first, no length prefix.
            var byte: UInt8 = 0
            var bits = 0
            for row in start..<end where column.isValid(row) {
                if values[row] != 0 { byte |= 1 << UInt8(bits) }
                bits += 1
                if bits == 8 {
                    body.append(byte)
                    byte = 0
                    bits = 0
                }
            }
            if bits > 0 { body.append(byte) }
            chunk.add(try dataPage(body: body, valueCount: end - start, encoding: .plain))
            chunk.plainPages += 1
            start = end
        }
    }
}

extension ColumnKind {
    var physicalType: ParquetPhysicalType {
        switch self {
        case .string: .byteArray
        case .int64, .timestamp: .int64
        case .bool: .boolean
        case .double: .double
        }
    }
}
