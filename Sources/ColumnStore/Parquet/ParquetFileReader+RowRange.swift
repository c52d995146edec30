/// Partial column reads: decode only the data pages of a chunk that overlap a row range.
///
/// A first pass decodes the page headers only (no decompression) to learn each data page's
/// first row and row count, with the same checks as the whole-chunk read (page sizes, value
/// counts adding up to the row group's row count). Then the dictionary page (when a chosen
/// page needs it) and the data pages overlapping the range are decompressed and decoded, and
/// the result is cut to the exact rows.
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
    public func readColumn(rowGroup: Int, column: Int, rowRanges: [Range<Int>]) throws -> [ColumnData] {
        guard rowGroups.indices.contains(rowGroup), leaves.indices.contains(column) else {
            throw ParquetError(.invalidInput, "no column \(column) in row group \(rowGroup)", path: path)
        }
        let rowCount = rowGroups[rowGroup].rowCount
        for rows in rowRanges where rows.lowerBound < 0 || rows.upperBound > rowCount {
            throw ParquetError(.invalidInput, "rows \(rows) outside row group \(rowGroup) of \(rowCount) rows", path: path)
        }
        do {
            let chunk = metaData.rowGroups[rowGroup].columns[column]
            return try readChunk(chunk.metaData!, leaf: leaves[column], rowCount: rowCount, rowRanges: rowRanges)
        } catch var error as ParquetError {
            error.message = "row group \(rowGroup), column '\(leaves[column].column.name)': " + error.message
            throw error.at(path)
        }
    }

    /// One page of a chunk as found by the header pass.
    private struct PageEntry {
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
    private enum StringMode {
        case none, dictionary, strings
    }

    private func readChunk(_ meta: ParquetFormat.ColumnMetaData, leaf: ParquetLeaf, rowCount: Int,
                           rowRanges: [Range<Int>]) throws -> [ColumnData] {
        let chunk = try chunkBytes(meta)

        // Header pass: same walk, stop condition and checks as `readChunk(_:leaf:rowCount:)`.
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
        return try ZstdDecompressor.pooled { decompressor in
            // The dictionary page is decoded once, on the first range that needs it.
            var dictionary: ParquetDictionary?
            var dictionaryDecoded = false
            func sharedDictionary() throws -> ParquetDictionary? {
                if !dictionaryDecoded, let page = dictionaryPage {
                    var scratch = ParquetColumnBuilder(leaf: leaf, rowCount: 0)
                    var levels: [UInt32] = []
                    try decodePage(page.header, in: chunk, body: page.body, pageIndex: page.index, codec: meta.codec,
                                   builder: &scratch, levels: &levels, decompressor: decompressor)
                    dictionary = scratch.dictionary
                }
                dictionaryDecoded = true
                return dictionary
            }
            return try rowRanges.map { rows in
                try decodeRange(rows, chunk: chunk, meta: meta, leaf: leaf, dataPages: dataPages, fullMode: fullMode,
                                dictionary: sharedDictionary, decompressor: decompressor)
            }
        }
    }

    /// One range's rows from the pages the header pass found.
    private func decodeRange(_ rows: Range<Int>, chunk: [UInt8], meta: ParquetFormat.ColumnMetaData, leaf: ParquetLeaf,
                             dataPages: [PageEntry], fullMode: StringMode, dictionary: () throws -> ParquetDictionary?,
                             decompressor: ZstdDecompressor) throws -> ColumnData {
        // Data pages overlapping `rows` (contiguous, since pages follow each other in row order).
        let chosen = rows.isEmpty ? [] : dataPages.filter { $0.rowCount > 0 && $0.rows.overlaps(rows) }
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
        for page in chosen {
            try decodePage(page.header, in: chunk, body: page.body, pageIndex: page.index, codec: meta.codec,
                           builder: &builder, levels: &levels, decompressor: decompressor)
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
