/// Page assembly: definition levels, string pages with dictionary fallback, compression
/// and page headers.
extension ParquetWriter {
    struct EncodedPage {
        /// Header followed by the compressed body.
        var bytes: [UInt8]
        var headerSize: Int
        var uncompressedBodySize: Int
    }

    /// Compresses a v1 data page body and prefixes its header.
    /// `zstdLevel`: nil for `options.zstdLevel`.
    func dataPage(body: [UInt8], valueCount: Int, encoding: ParquetEncoding, zstdLevel: Int32? = nil) throws -> EncodedPage {
        let dataHeader = ParquetFormat.DataPageHeader(
            numValues: Int32(valueCount), encoding: encoding, definitionLevelEncoding: .rle, repetitionLevelEncoding: .rle)
        return try page(type: .dataPage, body: body, zstdLevel: zstdLevel) { $0.dataPageHeader = dataHeader }
    }

    func page(type: ParquetPageType, body: [UInt8], zstdLevel: Int32? = nil,
              _ configure: (inout ParquetFormat.PageHeader) -> Void) throws -> EncodedPage {
        guard body.count <= Int(Int32.max) else {
            throw ParquetError(.invalidInput, "page of \(body.count) bytes exceeds the 2 GiB page limit", path: path)
        }
        let compressed = try ZstdCompressor.pooled(level: zstdLevel ?? options.zstdLevel) { try $0.compress(body) }
        // The CRC covers the bytes as stored (after compression), as parquet-format says, so
        // readers can check a page before they decompress it.
        var header = ParquetFormat.PageHeader(
            type: type.rawValue, uncompressedPageSize: Int32(body.count), compressedPageSize: Int32(compressed.count),
            crc: ParquetPageChecksum.stored(ParquetPageChecksum.crc32(compressed)))
        configure(&header)
        var bytes = header.encode()
        let headerSize = bytes.count
        bytes.append(contentsOf: compressed)
        return EncodedPage(bytes: bytes, headerSize: headerSize, uncompressedBodySize: body.count)
    }

    /// v1 definition levels: 4-byte LE length, then RLE/bit-packed hybrid with bit width 1.
    func appendDefinitionLevels(_ column: ColumnData, _ rows: Range<Int>, to body: inout [UInt8]) {
        var encoder = RleHybridEncoder(bitWidth: 1)
        if column.validity == nil {
            let ones = [UInt32](repeating: 1, count: rows.count)
            ones.withUnsafeBufferPointer { encoder.encode($0) }
        } else {
            let levels = rows.map { column.isValid($0) ? UInt32(1) : 0 }
            levels.withUnsafeBufferPointer { encoder.encode($0) }
        }
        var length = UInt32(encoder.bytes.count).littleEndian
        withUnsafeBytes(of: &length) { body.append(contentsOf: $0) }
        body.append(contentsOf: encoder.bytes)
    }

    // MARK: Strings

    /// Writes dictionary-encoded pages while the dictionary fits its limits, PLAIN pages for
    /// the rest of the chunk; returns the dictionary page (written first by the caller) and,
    /// when every non-null value went into the dictionary, its entries (the chunk's distinct
    /// values, so statistics need not look at every row).
    func encodeStringPages(_ column: ColumnData, spec: ParquetColumn, rows: Range<Int>,
                           into chunk: inout ChunkAssembler) throws -> (page: EncodedPage?, distinctValues: StringColumn?) {
        try StringRows.with(column.storage) { strings in
            let hasValues = rows.contains { column.isValid($0) }
            var dictionary = StringDictionaryBuilder(entriesMax: options.dictionaryEntriesMax,
                                                     plainBytesMax: options.dictionaryBytesMax)
            var dictionaryIsFull = !hasValues || options.dictionaryEntriesMax == 0 || options.plainStringColumns.contains(spec.name)
            var start = rows.lowerBound
            var ids: [UInt32] = []
            /// Whether the chunk's repetition was measured (once, when the first limits are hit).
            var growthDecided = false
            /// Non-null values written as dictionary ids.
            var idsWritten = 0
            pages: while true {
                if start >= rows.upperBound {
                    // A chunk that ended all dictionary-encoded without ever filling the
                    // dictionary, whose values do not repeat `dictionaryRepeatsMin` times: PLAIN,
                    // as when the dictionary fills (`allPlainWhenFewRepeats`).
                    if options.allPlainWhenFewRepeats, !growthDecided, chunk.plainPages == 0, dictionary.count > 0,
                       idsWritten < Options.dictionaryRepeatsMin * dictionary.count {
                        chunk = ChunkAssembler()
                        dictionary = StringDictionaryBuilder(entriesMax: 0, plainBytesMax: 0)
                        dictionaryIsFull = true
                        start = rows.lowerBound
                        continue pages
                    }
                    break pages
                }
                var end = start
                if !dictionaryIsFull {
                    ids.removeAll(keepingCapacity: true)
                    while end < rows.upperBound && end - start < options.pageRowsMax {
                        if column.isValid(end) {
                            guard let id = dictionary.id(of: strings.value(end)) else {
                                if !growthDecided {
                                    growthDecided = true
                                    let repeats = Self.valuesRepeat(column, strings, rows: rows)
                                    if repeats && (dictionary.plainBytesMax < options.dictionaryBytesMaxRepeating || dictionary.entriesMax < options.dictionaryEntriesMaxRepeating) {
                                        dictionary.raiseLimits(entriesMax: options.dictionaryEntriesMaxRepeating, plainBytesMax: options.dictionaryBytesMaxRepeating)
                                        continue
                                    }
                                    if !repeats && options.allPlainWhenFewRepeats {
                                        // Restart the chunk PLAIN: the pages so far are dropped.
                                        chunk = ChunkAssembler()
                                        dictionary = StringDictionaryBuilder(entriesMax: 0, plainBytesMax: 0)
                                        dictionaryIsFull = true
                                        start = rows.lowerBound
                                        continue pages
                                    }
                                }
                                dictionaryIsFull = true
                                break
                            }
                            ids.append(id)
                        }
                        end += 1
                    }
                    if options.plainWhenNearlyUnique, start == rows.lowerBound, end > start,
                       Self.nearlyUnique(entries: dictionary.count, values: ids.count) {
                        // Near-unique values (ids, emails, URLs): the whole chunk PLAIN.
                        dictionary = StringDictionaryBuilder(entriesMax: 0, plainBytesMax: 0)
                        dictionaryIsFull = true
                        continue
                    }
                    if end > start {
                        var body: [UInt8] = []
                        if spec.isOptional { appendDefinitionLevels(column, start..<end, to: &body) }
                        appendDictionaryIds(ids, dictionaryCount: dictionary.count, to: &body)
                        idsWritten += ids.count
                        chunk.add(try dataPage(body: body, valueCount: end - start, encoding: .rleDictionary))
                        chunk.dictionaryDataPages += 1
                    }
                } else {
                    var body: [UInt8] = []
                    var valueBytes = 0
                    var valueCount = 0
                    var values: [UInt8] = []
                    while end < rows.upperBound && end - start < options.pageRowsMax
                            && (end == start || valueBytes < options.pageBytesMax) {
                        if column.isValid(end) {
                            let value = strings.value(end)
                            var length = UInt32(value.count).littleEndian
                            withUnsafeBytes(of: &length) { values.append(contentsOf: $0) }
                            values.append(contentsOf: value)
                            valueBytes += 4 + value.count
                            valueCount += 1
                        }
                        end += 1
                    }
                    if spec.isOptional { appendDefinitionLevels(column, start..<end, to: &body) }
                    body.append(contentsOf: values)
                    let long = valueCount > 0 && valueBytes - 4 * valueCount >= Options.longStringBytesMin * valueCount
                    chunk.add(try dataPage(body: body, valueCount: end - start, encoding: .plain,
                                           zstdLevel: long ? options.zstdLevelLongStrings : nil))
                    chunk.plainPages += 1
                }
                start = end
            }
            guard dictionary.count > 0 else { return (nil, nil) }
            return (try dictionaryPage(dictionary.values), chunk.plainPages == 0 ? dictionary.values : nil)
        }
    }

    /// Whether the chunk's non-null values are at least `dictionaryRepeatsMin` times its
    /// distinct values (counted by 64-bit hash): measured on the whole chunk, since the values
    /// seen when the first limits are hit say little (events sorted by time meet each site's
    /// first event before any repeat).
    static func valuesRepeat(_ column: ColumnData, _ strings: StringRows, rows: Range<Int>) -> Bool {
        var hashes: [UInt64] = []
        hashes.reserveCapacity(rows.count)
        for row in rows where column.isValid(row) { hashes.append(StringDictionaryBuilder.hash(strings.value(row))) }
        guard !hashes.isEmpty else { return false }
        hashes.sort()
        var distinct = 1
        for index in 1..<hashes.count where hashes[index] != hashes[index - 1] { distinct += 1 }
        return hashes.count >= Options.dictionaryRepeatsMin * distinct
    }

    /// Whether a chunk's first page says its values are (nearly) all distinct, for
    /// `Options.plainWhenNearlyUnique` (files of one row per key, where a page that does not
    /// repeat says the chunk does not either).
    static func nearlyUnique(entries: Int, values: Int) -> Bool {
        values >= nearlyUniqueValuesMin && entries * 10 >= values * 9
    }
    /// Fewer values on a first page say nothing about a column (a small file keeps its dictionary).
    static let nearlyUniqueValuesMin = 64

    /// Ids: one byte bit width, then hybrid runs (no length prefix). A one-entry dictionary
    /// has width 0 and still gets its run header.
    private func appendDictionaryIds(_ ids: [UInt32], dictionaryCount: Int, to body: inout [UInt8]) {
        let bitWidth = RleHybridEncoder.bitWidth(forMax: UInt32(max(0, dictionaryCount - 1)))
        body.append(UInt8(bitWidth))
        var encoder = RleHybridEncoder(bitWidth: bitWidth)
        ids.withUnsafeBufferPointer { encoder.encode($0) }
        body.append(contentsOf: encoder.bytes)
    }

    private func dictionaryPage(_ values: StringColumn) throws -> EncodedPage {
        var body: [UInt8] = []
        body.reserveCapacity(values.bytes.count + 4 * values.count)
        values.bytes.withUnsafeBytes { raw in
            for index in 0..<values.count {
                let range = values.range(at: index)
                var length = UInt32(range.count).littleEndian
                withUnsafeBytes(of: &length) { body.append(contentsOf: $0) }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[range]))
            }
        }
        let header = ParquetFormat.DictionaryPageHeader(numValues: Int32(values.count), encoding: .plain)
        return try page(type: .dictionaryPage, body: body) { $0.dictionaryPageHeader = header }
    }
}

/// Unsafe view of a string column's bytes by row, valid only inside `with`.
struct StringRows {
    let offsets: UnsafeBufferPointer<Int32>
    let bytes: UnsafeRawBufferPointer
    /// Row -> dictionary entry, for `.dictionary` storage.
    let codes: UnsafeBufferPointer<UInt32>?

    @inline(__always)
    func value(_ row: Int) -> UnsafeRawBufferPointer {
        let index = codes.map { Int($0[row]) } ?? row
        return UnsafeRawBufferPointer(rebasing: bytes[Int(offsets[index])..<Int(offsets[index + 1])])
    }

    static func with<R>(_ storage: ColumnStorage, _ body: (StringRows) throws -> R) rethrows -> R {
        switch storage {
        case .strings(let column):
            return try column.offsets.withUnsafeBufferPointer { offsets in
                try column.bytes.withUnsafeBytes { bytes in
                    try body(StringRows(offsets: offsets, bytes: bytes, codes: nil))
                }
            }
        case .dictionary(let dictionary, let codes):
            return try dictionary.offsets.withUnsafeBufferPointer { offsets in
                try dictionary.bytes.withUnsafeBytes { bytes in
                    try codes.withUnsafeBufferPointer { codes in
                        try body(StringRows(offsets: offsets, bytes: bytes, codes: codes))
                    }
                }
            }
        default:
            preconditionFailure("StringRows over non-string storage")
        }
    }
}
