/// Reads flat Parquet files: footer, schema, row group statistics, and whole column chunks
/// as `ColumnData`.
///
/// Every offset and size from the file is checked before use; a damaged file produces a
/// `ParquetError` naming the path, never a crash. The reader keeps the file open (reads use
/// pread), so it stays valid if the file is renamed or unlinked meanwhile.
///
/// All state is immutable after `init` and reads use pread, so columns may be read from
/// several threads at once.
public final class ParquetFileReader: Sendable {
    public let path: String?
    public let schema: ParquetSchema
    public let rowGroups: [ParquetRowGroupInfo]
    public let rowCount: Int
    public let createdBy: String?
    public let keyValueMetadata: [String: String]

    let source: ParquetByteSource
    let metaData: ParquetFormat.FileMetaData
    let leaves: [ParquetLeaf]
    /// First byte of the footer; column chunks must end before it.
    let footerStart: Int

    /// Largest row group we materialize; bigger claims are treated as corruption, so a
    /// damaged count cannot make us allocate unbounded memory.
    static let rowGroupRowsMax = 1 << 28
    static let footerBytesMax = 256 << 20

    public convenience init(path: String) throws {
        try self.init(source: try ParquetByteSource(path: path))
    }

    /// Reads a file held in memory; `name` is used in error messages.
    public convenience init(bytes: [UInt8], name: String? = nil) throws {
        try self.init(source: ParquetByteSource(bytes: bytes, name: name))
    }

    init(source: ParquetByteSource) throws {
        self.source = source
        self.path = source.path
        do {
            let size = source.size
            guard size >= 12 else {
                throw ParquetError(.truncated, "file of \(size) bytes is shorter than the 12-byte minimum")
            }
            guard try source.read(offset: 0, count: 4) == ParquetWriter.magic else {
                throw ParquetError(.badMagic, "file does not start with PAR1")
            }
            let tail = try source.read(offset: size - 8, count: 8)
            guard Array(tail[4..<8]) == ParquetWriter.magic else {
                throw ParquetError(.badMagic, "file does not end with PAR1 (truncated or still being written?)")
            }
            let footerLength = Int(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
            guard footerLength > 0, footerLength <= size - 12, footerLength <= Self.footerBytesMax else {
                throw ParquetError(.badFooterLength, "footer length \(footerLength) does not fit a \(size)-byte file")
            }
            footerStart = size - 8 - footerLength
            let footer = try source.read(offset: footerStart, count: footerLength)
            var reader = ThriftCompactReader(bytes: footer)
            let metaData: ParquetFormat.FileMetaData
            do {
                metaData = try ParquetFormat.FileMetaData.decode(&reader)
                // Checked before anything in the footer is trusted.
                if let seal = metaData.footerChecksum { try ParquetFooterChecksum.verify(footer, seal) }
            } catch var error as ParquetError {
                error.message = "footer: " + error.message
                throw error
            }
            self.metaData = metaData
            leaves = try Self.leaves(of: metaData.schema)
            schema = ParquetSchema(leaves.map(\.column))
            rowGroups = try Self.rowGroupInfos(metaData, leaves: leaves, footerStart: footerStart)
            rowCount = Int(metaData.numRows)
            createdBy = metaData.createdBy
            // The footer checksum is the reader's business, not the caller's metadata.
            keyValueMetadata = Dictionary(metaData.keyValueMetadata.filter { $0.key != ParquetFooterChecksum.key }
                .map { ($0.key, $0.value ?? "") }, uniquingKeysWith: { $1 })
        } catch let error as ParquetError {
            throw error.at(source.path)
        }
    }

    /// Decodes column `column` of row group `rowGroup`.
    public func readColumn(rowGroup: Int, column: Int) throws -> ColumnData {
        guard rowGroups.indices.contains(rowGroup), leaves.indices.contains(column) else {
            throw ParquetError(.invalidInput, "no column \(column) in row group \(rowGroup)", path: path)
        }
        do {
            let chunk = metaData.rowGroups[rowGroup].columns[column]
            return try readChunk(chunk.metaData!, leaf: leaves[column], rowCount: rowGroups[rowGroup].rowCount)
        } catch var error as ParquetError {
            error.message = "row group \(rowGroup), column '\(leaves[column].column.name)': " + error.message
            throw error.at(path)
        }
    }

    /// Decodes the column called `name` of row group `rowGroup`.
    public func readColumn(rowGroup: Int, name: String) throws -> ColumnData {
        guard let column = schema.index(of: name) else {
            throw ParquetError(.invalidInput, "no column named '\(name)'", path: path)
        }
        return try readColumn(rowGroup: rowGroup, column: column)
    }

    /// All columns of a row group, in schema order.
    public func readRowGroup(_ rowGroup: Int) throws -> [ColumnData] {
        try leaves.indices.map { try readColumn(rowGroup: rowGroup, column: $0) }
    }
}
