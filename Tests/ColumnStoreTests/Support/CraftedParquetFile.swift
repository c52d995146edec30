@testable import ColumnStore

// Shared by the reader tests and the Parquet fuzz target's seed corpus (`scripts/fuzz.sh`
// compiles this file into it), so it imports nothing but ColumnStore.

/// One column, one row group, assembled by hand: `PAR1`, the pages as given, the footer.
/// For features our writer does not produce (other page kinds and encodings) and for damage.
func craftedParquetFile(_ element: ParquetFormat.SchemaElement, rows: Int, codec: ParquetCodec,
                        encodings: [ParquetEncoding] = [.plain, .rle],
                        pages: [(ParquetFormat.PageHeader, [UInt8])]) -> [UInt8] {
    var file = ParquetWriter.magic
    var meta = ParquetFormat.ColumnMetaData()
    meta.type = element.type!
    meta.pathInSchema = [element.name]
    meta.codec = codec
    meta.numValues = Int64(rows)
    meta.encodings = encodings
    for (index, (header, body)) in pages.enumerated() {
        if index == 0 && header.type == ParquetPageType.dictionaryPage.rawValue { meta.dictionaryPageOffset = Int64(file.count) }
        if meta.dataPageOffset == 0 && header.type != ParquetPageType.dictionaryPage.rawValue { meta.dataPageOffset = Int64(file.count) }
        let encodedHeader = header.encode()
        file += encodedHeader + body
        meta.totalUncompressedSize += Int64(encodedHeader.count) + Int64(header.uncompressedPageSize)
    }
    meta.totalCompressedSize = Int64(file.count - 4)
    var footer = ParquetFormat.FileMetaData()
    footer.schema = [ParquetFormat.SchemaElement(name: "root", numChildren: 1), element]
    footer.numRows = Int64(rows)
    footer.rowGroups = [ParquetFormat.RowGroup(columns: [ParquetFormat.ColumnChunk(metaData: meta)],
                                               totalByteSize: meta.totalUncompressedSize, numRows: Int64(rows))]
    let footerBytes = footer.encode()
    file += footerBytes
    withUnsafeBytes(of: UInt32(footerBytes.count).littleEndian) { file += $0 }
    return file + ParquetWriter.magic
}
