import Synchronization
import CZstd

/// One zstd compression context, reused across pages and across writers through `pooled`
/// (context setup is not free). Used by one thread at a time, hence the unchecked `Sendable`.
final class ZstdCompressor: @unchecked Sendable {
    /// Contexts free for the next page, process-wide; at most `pooledMax` are kept.
    private static let free = Mutex<[ZstdCompressor]>([])
    static let pooledMax = 16

    /// Runs `body` with a context at `level` no other thread uses meanwhile.
    static func pooled<R>(level: Int32, _ body: (ZstdCompressor) throws -> R) rethrows -> R {
        let compressor = free.withLock { free in free.lastIndex { $0.level == level }.map { free.remove(at: $0) } } ?? ZstdCompressor(level: level)
        defer { free.withLock { if $0.count < pooledMax { $0.append(compressor) } } }
        return try body(compressor)
    }

    private let context: OpaquePointer
    let level: Int32

    init(level: Int32) {
        guard let context = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx failed: out of memory") }
        self.context = context
        self.level = level
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Compresses `input` as exactly one zstd frame that records its content size
    /// (what Arrow, DuckDB and others expect of a Parquet page) and ends with zstd's content
    /// checksum: 4 bytes per page that every zstd decoder checks by default, so engines that
    /// do not verify the Parquet page CRC (DuckDB; Spark unless configured) also refuse a
    /// damaged page instead of returning other values.
    func compress(_ input: [UInt8]) throws -> [UInt8] {
        // Parameters are sticky on the context; setting them per page costs nothing next to
        // compressing it and keeps `init` infallible. minMatch 5 is zstd's own level-3 choice
        // for large inputs; for inputs under 256 KB (small pages) it picks 4, which made a
        // PLAIN column of hex site hashes 8 % larger.
        for (parameter, value) in [(ZSTD_c_compressionLevel, level), (ZSTD_c_checksumFlag, 1), (ZSTD_c_minMatch, 5)] {
            let result = ZSTD_CCtx_setParameter(context, parameter, value)
            if ZSTD_isError(result) != 0 {
                throw ParquetError(.invalidInput, "zstd parameter \(parameter.rawValue) = \(value) refused: \(String(cString: ZSTD_getErrorName(result)))")
            }
        }
        let capacity = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: capacity)
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                ZSTD_compress2(context, destination.baseAddress, capacity, source.baseAddress, source.count)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw ParquetError(.invalidInput, "zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        }
        output.removeSubrange(written...)
        return output
    }
}

/// One zstd decompression context, reused across pages, and across reads through `pooled`
/// (creating one costs more than decompressing a small page). Used by one thread at a time,
/// hence the unchecked `Sendable`.
final class ZstdDecompressor: @unchecked Sendable {
    /// Contexts free for the next read, process-wide; at most `pooledMax` are kept.
    private static let free = Mutex<[ZstdDecompressor]>([])
    static let pooledMax = 16

    /// Runs `body` with a context no other thread uses meanwhile.
    static func pooled<R>(_ body: (ZstdDecompressor) throws -> R) rethrows -> R {
        let decompressor = free.withLock { $0.popLast() } ?? ZstdDecompressor()
        defer { free.withLock { if $0.count < pooledMax { $0.append(decompressor) } } }
        return try body(decompressor)
    }

    private let context: OpaquePointer

    init() {
        guard let context = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx failed: out of memory") }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Decompresses `input` into exactly `size` bytes; any other size is an error, checked
    /// against the frame header before allocating so a corrupt size cannot force a huge buffer.
    func decompress(_ input: UnsafeRawBufferPointer, size: Int) throws -> [UInt8] {
        let contentSize = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        let unknown = UInt64.max, error = UInt64.max - 1
        if contentSize == error {
            throw ParquetError(.decompression, "page is not a zstd frame (\(input.count) bytes)")
        }
        if contentSize != unknown && contentSize != UInt64(size) {
            throw ParquetError(.decompression, "zstd frame holds \(contentSize) bytes, page header says \(size)")
        }
        var output = [UInt8](repeating: 0, count: size)
        let written = output.withUnsafeMutableBytes { destination -> Int in
            var scratch: UInt8 = 0
            // zstd wants a non-null destination even for empty output.
            return withUnsafeMutablePointer(to: &scratch) { fallback in
                ZSTD_decompressDCtx(context, destination.baseAddress ?? UnsafeMutableRawPointer(fallback), size,
                                    input.baseAddress, input.count)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw ParquetError(.decompression, "zstd: \(String(cString: ZSTD_getErrorName(written)))")
        }
        if written != size {
            throw ParquetError(.decompression, "zstd produced \(written) bytes, page header says \(size)")
        }
        return output
    }
}
