import Core
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a flat Parquet file: `PAR1`, row groups of ZSTD-compressed v1 pages, footer.
///
/// Usage: `init`, any number of `write(rowGroup:)`, then `close()`. Input larger than
/// `rowGroupRowsMax` is split into several row groups. A file with zero rows is never
/// produced: `close()` throws and removes it. For publishing into a folder that other
/// engines list, use `writeFileAtomically`, which writes a hidden `.tmp-` file, fsyncs
/// and renames it into place.
public final class ParquetWriter {
    public struct Options: Sendable {
        /// Rows per row group; bigger input is split.
        public var rowGroupRowsMax = 1_048_576
        /// Rows per data page.
        public var pageRowsMax = 20_000
        /// Target uncompressed values bytes per data page.
        public var pageBytesMax = 1 << 20
        /// Dictionary page size (PLAIN bytes) after which the rest of the chunk is written PLAIN.
        public var dictionaryBytesMax = 1 << 20
        /// Dictionary entries after which the rest of the chunk is written PLAIN.
        public var dictionaryEntriesMax = 65_536
        /// Limits a dictionary may grow to past the two above when the chunk's values repeat
        /// (at least `dictionaryRepeatsMin` values per distinct value, counted when the first
        /// limits are hit): a repeating column keeps its dictionary, a nearly unique one still
        /// stops at the first limits, where a larger dictionary only costs. Equal to the
        /// first limits: no growth.
        public var dictionaryBytesMaxRepeating = 1 << 20
        public var dictionaryEntriesMaxRepeating = 65_536
        public static let dictionaryRepeatsMin = 2
        /// When the first limits are hit and the chunk's values do not repeat that much, write
        /// the whole chunk PLAIN (started over) rather than a dictionary for its first part and
        /// PLAIN for the rest: for a column of nearly one value per row (a million sites' keys,
        /// emails, URLs and IPs in a row group of their events) the mixed chunk was 12–17 %
        /// larger than DuckDB's all-PLAIN one.
        public var allPlainWhenFewRepeats = false
        /// String columns written PLAIN, no dictionary: unique by construction (event ids). A
        /// dictionary of unique values is as large as the values, costs a hash per value to
        /// write, and must be decoded whole by a reader that wants one row.
        public var plainStringColumns: Set<String> = []
        /// Write a string chunk PLAIN when its first page's values are nearly all distinct
        /// (`nearlyUnique`). Only for files of one row per key (the sites index: site keys,
        /// hashes, URLs, emails), where the first page speaks for the chunk; in a file where
        /// values repeat across pages (a site's weekly events) the dictionary dedups them.
        public var plainWhenNearlyUnique = false
        public var zstdLevel: Int32 = 3
        /// zstd level of a PLAIN string page whose values average `longStringBytesMin` bytes or
        /// more (JSON lists of plugins, `extra`); nil: `zstdLevel`. Level 5's lazy matching
        /// finds the repeated keys and slugs of such values: on 1M sites' plugin lists, 30 %
        /// fewer bytes than level 3 for four times its CPU on those pages only.
        public var zstdLevelLongStrings: Int32?
        public static let longStringBytesMin = 64
        /// Threads that encode a row group's columns (each column chunk is independent; the
        /// chunks are still written in schema order). More than 1 only for a writer that runs
        /// alone — a fold or a merge — not for one of several writers already run in parallel.
        public var encodeThreads = 1
        /// FileMetaData.created_by, "<app> version <x.y.z>" so readers can key workarounds on it.
        public var createdBy = "trackhouse version 0.1.0"
        /// FileMetaData.key_value_metadata, written sorted by key.
        public var keyValueMetadata: [String: String] = [:]

        public init() {}
    }

    public let schema: ParquetSchema
    public let options: Options
    /// Destination path, nil for an in-memory writer.
    public let path: String?

    private var fileDescriptor: Int32 = -1
    /// In-memory output (only for `init(schema:options:)`).
    private var buffer: [UInt8] = []
    private(set) var offset: Int64 = 0
    var rowGroups: [ParquetFormat.RowGroup] = []
    private(set) var rowCount: Int64 = 0
    private(set) var isClosed = false

    static let magic: [UInt8] = Array("PAR1".utf8)

    /// Creates (or truncates) the file at `path`.
    public init(path: String, schema: ParquetSchema, options: Options = Options()) throws {
        try Self.validate(schema: schema, options: options)
        self.schema = schema
        self.options = options
        self.path = path
        fileDescriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fileDescriptor < 0 { throw Self.ioError("open", path) }
        try append(Self.magic)
    }

    /// Writes into memory; take the bytes with `close()`'s result or `bytes`.
    public init(schema: ParquetSchema, options: Options = Options()) throws {
        try Self.validate(schema: schema, options: options)
        self.schema = schema
        self.options = options
        self.path = nil
        try append(Self.magic)
    }

    deinit {
        if fileDescriptor >= 0 { posixClose(fileDescriptor) }
    }

    /// The file written so far (in-memory writer only).
    public var bytes: [UInt8] { buffer }

    /// Appends rows: one `ColumnData` per schema column, all with the same count. Split into
    /// row groups of at most `rowGroupRowsMax` rows; zero rows are ignored.
    public func write(rowGroup columns: [ColumnData]) throws {
        guard !isClosed else { throw ParquetError(.invalidInput, "write after close", path: path) }
        let rows = try validate(columns)
        var start = 0
        while start < rows {
            let end = min(rows, start + options.rowGroupRowsMax)
            try writeRowGroup(columns, rows: start..<end)
            start = end
        }
    }

    /// Writes the footer and closes the file. Throws (and removes the file) when no rows
    /// were written: zero-row files confuse other engines.
    @discardableResult
    public func close() throws -> [UInt8] {
        guard !isClosed else { throw ParquetError(.invalidInput, "close called twice", path: path) }
        isClosed = true
        guard rowCount > 0 else {
            if fileDescriptor >= 0 {
                posixClose(fileDescriptor)
                fileDescriptor = -1
                if let path { unlink(path) }
            }
            throw ParquetError(.invalidInput, "refusing to write a Parquet file with zero rows", path: path)
        }
        let footer = makeFileMetaData().encode()
        try append(footer)
        var length = UInt32(footer.count).littleEndian
        try append(withUnsafeBytes(of: &length) { Array($0) })
        try append(Self.magic)
        assertFooterDecodes(footer)
        if fileDescriptor >= 0 {
            if fsync(fileDescriptor) != 0 { throw Self.ioError("fsync", path ?? "") }
            if posixClose(fileDescriptor) != 0 { throw Self.ioError("close", path ?? "") }
            fileDescriptor = -1
        }
        return buffer
    }

    // MARK: Output

    private func writeRowGroup(_ columns: [ColumnData], rows: Range<Int>) throws {
        let chunks = try encodeChunks(columns, rows: rows).map { try $0.get() }
        try appendRowGroup(chunks, rowCount: rows.count)
    }

    /// Appends one row group's chunks, each `metaData` with offsets relative to its own
    /// `bytes` (moved here to the file's), and records the group. The one place a row group
    /// enters the file: encoded (`writeRowGroup`) or copied (`append(copied:rowCount:)`).
    func appendRowGroup(_ chunks: [EncodedChunk], rowCount rows: Int) throws {
        let groupStart = offset
        var group = ParquetFormat.RowGroup()
        group.numRows = Int64(rows)
        group.ordinal = Int16(truncatingIfNeeded: rowGroups.count)
        for var chunk in chunks {
            let chunkStart = offset
            chunk.metaData.dataPageOffset += chunkStart
            if let dictionaryOffset = chunk.metaData.dictionaryPageOffset {
                chunk.metaData.dictionaryPageOffset = dictionaryOffset + chunkStart
            }
            try append(chunk.bytes)
            group.columns.append(ParquetFormat.ColumnChunk(filePath: nil, fileOffset: 0, metaData: chunk.metaData))
            group.totalByteSize += chunk.metaData.totalUncompressedSize
        }
        group.fileOffset = groupStart
        group.totalCompressedSize = offset - groupStart
        rowGroups.append(group)
        rowCount += Int64(rows)
    }

    /// Each column's chunk, encoded on up to `encodeThreads` threads.
    private func encodeChunks(_ columns: [ColumnData], rows: Range<Int>) throws -> [Result<EncodedChunk, Error>] {
        guard options.encodeThreads > 1 && columns.count > 1 else {
            return columns.indices.map { index in Result { try encodeChunk(columns[index], spec: schema.columns[index], rows: rows) } }
        }
        var results = [Result<EncodedChunk, Error>?](repeating: nil, count: columns.count)
        results.withUnsafeMutableBufferPointer { results in
            // Job `index` writes only slot `index`; `forEach` returns after every job ended.
            let shared = UncheckedSendableBox((results: results, writer: self, columns: columns))
            ParallelFor.forEach(count: columns.count, workersMax: options.encodeThreads) { index in
                let context = shared.value
                context.results[index] = Result { try context.writer.encodeChunk(context.columns[index], spec: context.writer.schema.columns[index], rows: rows) }
            }
        }
        return results.map { $0! }
    }

    func append(_ bytes: [UInt8]) throws {
        if fileDescriptor < 0 {
            buffer.append(contentsOf: bytes)
        } else {
            try bytes.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let written = posixWrite(fileDescriptor, raw.baseAddress! + done, raw.count - done)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw Self.ioError("write", path ?? "")
                    }
                    done += written
                }
            }
        }
        offset += Int64(bytes.count)
    }

    static func ioError(_ operation: String, _ path: String) -> ParquetError {
        ParquetError(.io, "\(operation) failed: \(String(cString: strerror(errno)))", path: path)
    }
}

// Free-function names clash with the methods above inside the class.
@discardableResult @inline(__always) func posixClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
@inline(__always) func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, bytes, count) }
