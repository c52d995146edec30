import CZlib

/// The page CRC of parquet-format (`PageHeader.crc`, field 4): CRC-32 with the gzip/zlib
/// polynomial over the page bytes after the header exactly as stored (the compressed
/// bytes), for dictionary and data pages alike.
///
/// zstd decodes a flipped byte inside a frame into different values more often than it
/// fails, and PLAIN values have no structure to notice damage at all, so without this a
/// damaged page could silently change an answer. zlib's `crc32_z` runs at several GB/s,
/// far above zstd's decompression speed, so checking every page we read is cheap.
enum ParquetPageChecksum {
    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return UInt32(truncatingIfNeeded: crc32_z(0, base.assumingMemoryBound(to: Bytef.self), z_size_t(bytes.count)))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0) }
    }

    /// The Thrift field is an i32: the same 32 bits, read as signed (as parquet-java and
    /// Arrow write it).
    static func stored(_ crc: UInt32) -> Int32 { Int32(bitPattern: crc) }

    /// Checks a page body against the CRC of its header; a mismatch means the bytes on disk
    /// are not the ones written, so nothing decoded from them may be trusted.
    static func verify(_ body: UnsafeRawBufferPointer, stored: Int32) throws {
        let computed = crc32(body)
        guard computed == UInt32(bitPattern: stored) else {
            throw ParquetError(.checksumMismatch, "page checksum mismatch (CRC-32 in the page header "
                + "\(hex(UInt32(bitPattern: stored))), of the \(body.count) page bytes \(hex(computed))): "
                + "the file is damaged; restore it from a backup or re-compact it from the raw data")
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
