/// The one error type of the Parquet reader and writer.
///
/// `code` says what class of problem it is (for tests and metrics), `message` names the
/// file (when known) and the exact inconsistency, so an operator can act on the log line.
public struct ParquetError: Error, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        /// Input file shorter than the structures it claims to contain.
        case truncated
        /// `PAR1` missing at the start or the end.
        case badMagic
        /// Footer length field points outside the file.
        case badFooterLength
        /// Thrift compact bytes that cannot be decoded (bad type, length, depth, missing field).
        case badThrift
        /// Metadata that decodes but is inconsistent (offsets, sizes, counts).
        case badMetadata
        /// Page contents that do not add up (sizes, value counts, levels, dictionary ids).
        case badPage
        /// zstd refused the bytes or the size differs from the header.
        case decompression
        /// A page's bytes differ from the CRC-32 its header records: the file was damaged
        /// after it was written (disk, copy, bit rot); restore or rebuild it.
        case checksumMismatch
        /// A valid Parquet feature we do not read (codec, encoding, nested schema, type).
        case unsupported
        /// Caller misuse of the writer (schema mismatch, zero rows, closed writer).
        case invalidInput
        /// Operating system error (open, read, write, fsync, rename).
        case io
    }

    public var code: Code
    public var message: String
    /// File the error is about, when one is known.
    public var path: String?

    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    public var description: String {
        if let path { return "Parquet \(code.rawValue) in \(path): \(message)" }
        return "Parquet \(code.rawValue): \(message)"
    }

    /// Same error with the file path attached (inner decoders do not know the path).
    func at(_ path: String?) -> ParquetError {
        var copy = self
        if copy.path == nil { copy.path = path }
        return copy
    }
}
