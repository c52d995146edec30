/// Partial column reads: decode only the data pages of a chunk that overlap a row range.
///
/// A first pass decodes the page headers only (no decompression) to learn each data page's
/// first row and row count, with the same checks as the whole-chunk read (page sizes, value
/// counts adding up to the row group's row count). Then the dictionary page (when a chosen
/// page needs it) and the data pages overlapping the range are decompressed and decoded, and
/// the result is cut to the exact rows.
///
/// With a `ParquetRowReadCache` (a listing reads rows of the same chunks request after
/// request), a chunk's page table and its decoded dictionary are kept: the next read of that
/// chunk reads from the file only the bytes of the data pages it decodes.
extension ParquetFileReader {
    /// Rows `rows` of one column of one row group: the same ColumnData as
    /// `readColumn(rowGroup:column:).slice(rows)`, but only the dictionary page and the data
    /// pages overlapping `rows` are decompressed and decoded.
    public func readColumn(rowGroup: Int, column: Int, rows: Range<Int>) throws -> ColumnData {
        try readColumn(rowGroup: rowGroup, column: column, rowRanges: [rows])[0]
    }

    /// Several row ranges of one column of one row group, one ColumnData per range (each equal
    /// to `readColumn(rowGroup:column:rows:)` of it): the chunk is read and its page headers
    /// walked once, and only the pages overlapping some range are decoded — for rows far
    /// apart in one group (a listing page's rows), where one range from the lowest to the
    /// highest would decode every page between them.
    public func readColumn(rowGroup: Int, column: Int, rowRanges: [Range<Int>],
                           cache: ParquetRowReadCache? = nil) throws -> [ColumnData] {
        guard rowGroups.indices.contains(rowGroup), leaves.indices.contains(column) else {
            throw ParquetError(.invalidInput, "no column \(column) in row group \(rowGroup)", path: path)
        }
        let rowCount = rowGroups[rowGroup].rowCount
        for rows in rowRanges where rows.lowerBound < 0 || rows.upperBound > rowCount {
            throw ParquetError(.invalidInput, "rows \(rows) outside row group \(rowGroup) of \(rowCount) rows", path: path)
        }
        do {
            let chunk = metaData.rowGroups[rowGroup].columns[column]
            // Only a file read by path is cached: the path is what names its chunks.
            let cached = cache.flatMap { cache in
                path.map { (cache, ParquetRowReadCache.ChunkKey(path: $0, rowGroup: rowGroup, column: column)) }
            }
            return try readChunk(chunk.metaData!, leaf: leaves[column], rowCount: rowCount, rowRanges: rowRanges,
                                 cache: cached)
        } catch var error as ParquetError {
            error.message = "row group \(rowGroup), column '\(leaves[column].column.name)': " + error.message
            throw error.at(path)
        }
    }

    /// One page of a chunk as found by the header pass.
    struct PageEntry {
        var header: ParquetFormat.PageHeader
        var index: Int
        var body: Range<Int>
        /// Data pages: the chunk row of the page's first value and its number of values.
        var firstRow = 0
        var rowCount = 0
        var encoding: ParquetEncoding = .plain

        var rows: Range<Int> { firstRow..<firstRow + rowCount }
        var isDictionaryEncoded: Bool { encoding == .rleDictionary || encoding == .plainDictionary }
    }

    /// Storage the whole-chunk read ends with for a string column (see `fullStringMode`).
    enum StringMode {
        case none, dictionary, strings
    }

    /// A chunk's pages as the header pass found them.
    struct ChunkPages {
        var dictionaryPage: PageEntry?
        var dataPages: [PageEntry]
        var fullMode: StringMode
    }

    private func readChunk(_ meta: ParquetFormat.ColumnMetaData, leaf: ParquetLeaf, rowCount: Int,
                           rowRanges: [Range<Int>],
                           cache: (cache: ParquetRowReadCache, key: ParquetRowReadCache.ChunkKey)?) throws -> [ColumnData] {
        let chunkStart = try Self.chunkRange(meta, footerStart: footerStart).lowerBound
        // The whole chunk is read when its pages are not known yet (then kept for every range).
        var wholeChunk: [UInt8]?
        let pages: ChunkPages
        if let known = cache.flatMap({ $0.cache.pages($0.key) }) {
            pages = known
        } else {
            let chunk = try chunkBytes(meta)
            pages = try Self.pageTable(chunk, leaf: leaf, rowCount: rowCount)
            if let cache { cache.cache.setPages(pages, for: cache.key) }
            wholeChunk = chunk
        }
        // Bytes of pages `first...last` (chunk positions), from the whole chunk or the file.
        func pageBytes(_ first: PageEntry, _ last: PageEntry) throws -> (bytes: [UInt8], offset: Int) {
            if let wholeChunk { return (wholeChunk, 0) }
            let lower = first.body.lowerBound, upper = last.body.upperBound
            return (try source.read(offset: chunkStart + lower, count: upper - lower), lower)
        }
        return try ZstdDecompressor.pooled { decompressor in
            // The dictionary page is decoded once, on the first range that needs it (or taken
            // from the cache).
            var dictionary: ParquetDictionary?
            var dictionaryDecoded = false
            func sharedDictionary() throws -> ParquetDictionary? {
                if !dictionaryDecoded, let page = pages.dictionaryPage {
                    if let cached = cache.flatMap({ $0.cache.dictionary($0.key) }) {
                        dictionary = cached
                    } else {
                        let (bytes, offset) = try pageBytes(page, page)
                        var scratch = ParquetColumnBuilder(leaf: leaf, rowCount: 0)
                        var levels: [UInt32] = []
                        try decodePage(page.header, in: bytes, body: Self.rebased(page.body, offset), pageIndex: page.index,
                                       codec: meta.codec, builder: &scratch, levels: &levels, decompressor: decompressor)
                        dictionary = scratch.dictionary
                        if let dictionary, let cache { cache.cache.setDictionary(dictionary, for: cache.key) }
                    }
                }
                dictionaryDecoded = true
                return dictionary
            }
            return try rowRanges.map { rows in
                try decodeRange(rows, pages: pages, meta: meta, leaf: leaf, pageBytes: pageBytes,
                                dictionary: sharedDictionary, decompressor: decompressor)
            }
        }
    }

    /// A chunk position in a buffer that starts at chunk position `offset`.
    private static func rebased(_ range: Range<Int>, _ offset: Int) -> Range<Int> {
        (range.lowerBound - offset)..<(range.upperBound - offset)
    }

    /// The header pass: same walk, stop condition and checks as `readChunk(_:leaf:rowCount:)`.
    private static func pageTable(_ chunk: [UInt8], leaf: ParquetLeaf, rowCount: Int) throws -> ChunkPages {
        var dictionaryPage: PageEntry?
        var dataPages: [PageEntry] = []
        var dataRows = 0
        var position = 0
        var pageIndex = 0
        while dataRows < rowCount {
            guard position < chunk.count else {
                throw ParquetError(.badPage, "chunk ends after \(dataRows) of \(rowCount) values")
            }
            let (header, body) = try Self.pageHeader(in: chunk, at: position, pageIndex: pageIndex)
            position = body.upperBound
            var page = PageEntry(header: header, index: pageIndex, body: body)
            do {
                switch ParquetPageType(rawValue: header.type) {
                case .dictionaryPage:
                    guard dictionaryPage == nil else { throw ParquetError(.badPage, "second dictionary page in one chunk") }
                    guard dataRows == 0 else { throw ParquetError(.badPage, "dictionary page after data pages") }
                    dictionaryPage = page
                case .dataPage:
                    guard let dataHeader = header.dataPageHeader else { throw ParquetError(.badPage, "data page without its header") }
                    page.rowCount = Int(dataHeader.numValues)
                    page.encoding = dataHeader.encoding
                case .dataPageV2:
                    guard let v2 = header.dataPageHeaderV2 else { throw ParquetError(.badPage, "v2 data page without its header") }
                    page.rowCount = Int(v2.numValues)
                    page.encoding = v2.encoding
                case .indexPage, nil:
                    break // skipped, as by the whole-chunk read
                }
                if header.type == ParquetPageType.dataPage.rawValue || header.type == ParquetPageType.dataPageV2.rawValue {
                    guard page.rowCount >= 0, page.rowCount <= rowCount - dataRows else {
                        throw ParquetError(.badPage, "page of \(page.rowCount) values, \(rowCount - dataRows) left in the chunk")
                    }
                    page.firstRow = dataRows
                    dataRows += page.rowCount
                    dataPages.append(page)
                }
            } catch var error as ParquetError {
                error.message = "page \(pageIndex) at chunk byte \(body.lowerBound): " + error.message
                throw error
            }
            pageIndex += 1
        }
        let fullMode = leaf.column.kind == .string ? Self.fullStringMode(dataPages) : .none
        return ChunkPages(dictionaryPage: dictionaryPage, dataPages: dataPages, fullMode: fullMode)
    }

    /// One range's rows from the pages the header pass found.
    private func decodeRange(_ rows: Range<Int>, pages: ChunkPages, meta: ParquetFormat.ColumnMetaData, leaf: ParquetLeaf,
                             pageBytes: (PageEntry, PageEntry) throws -> (bytes: [UInt8], offset: Int),
                             dictionary: () throws -> ParquetDictionary?,
                             decompressor: ZstdDecompressor) throws -> ColumnData {
        let fullMode = pages.fullMode
        // Data pages overlapping `rows` (contiguous, since pages follow each other in row order).
        let chosen = rows.isEmpty ? [] : pages.dataPages.filter { $0.rowCount > 0 && $0.rows.overlaps(rows) }
        let coveredStart = chosen.first?.firstRow ?? rows.lowerBound
        let coveredCount = chosen.reduce(0) { $0 + $1.rowCount }
        // The dictionary is decoded only when a chosen page refers to it, or when the result
        // must carry it (dictionary storage of a string column).
        let needsDictionary = fullMode == .dictionary || chosen.contains { $0.isDictionaryEncoded }
        var builder = ParquetColumnBuilder(leaf: leaf, rowCount: coveredCount)
        var levels: [UInt32] = []
        if needsDictionary, let shared = try dictionary() {
            builder.dictionary = shared
        }
        if let first = chosen.first, let last = chosen.last {
            let (bytes, offset) = try pageBytes(first, last)
            for page in chosen {
                try decodePage(page.header, in: bytes, body: Self.rebased(page.body, offset), pageIndex: page.index,
                               codec: meta.codec, builder: &builder, levels: &levels, decompressor: decompressor)
            }
        }
        var column = builder.finish()

        // The builder picks dictionary or string storage from the pages it saw; match what the
        // whole-chunk read returns, so the result equals `readColumn(...).slice(rows)`.
        if leaf.column.kind == .string {
            switch (fullMode, column.storage) {
            case (.dictionary, .strings) where column.count == 0:
                // No data page decoded (empty range): keep the dictionary, as `slice` does.
                if case .strings(let entries)? = builder.dictionary, entries.count > 0 {
                    column.storage = .dictionary(dictionary: entries, codes: [])
                }
            case (.none, .dictionary), (.strings, .dictionary):
                // The whole-chunk read met a PLAIN page and expanded its codes to strings.
                column = column.materialized()
            default:
                break
            }
        }
        return column.slice((rows.lowerBound - coveredStart)..<(rows.upperBound - coveredStart))
    }

    /// Replays how `ParquetColumnBuilder` chooses a string chunk's storage from its data
    /// pages' encodings: dictionary pages keep (or, before any row, start) dictionary codes;
    /// a PLAIN page switches to strings; a dictionary page after rows were read as strings
    /// stays strings.
    private static func fullStringMode(_ dataPages: [PageEntry]) -> StringMode {
        var mode = StringMode.none
        var rows = 0
        for page in dataPages {
            if page.isDictionaryEncoded {
                mode = mode == .dictionary || rows == 0 ? .dictionary : .strings
            } else if page.encoding == .plain {
                mode = .strings
            }
            rows += page.rowCount
        }
        return mode
    }
}
