/// CRC-32 of the footer, kept in the footer's own key/value metadata.
///
/// parquet-format checksums pages only, yet the footer holds what answers depend on as much
/// as values do: min/max statistics decide which row groups a query skips (and a chunk with
/// min == max is answered from them alone), null counts, offsets, names. A flipped byte there
/// can decode as valid Thrift and silently change an answer, so the writer records
/// `trackhouse.footer_crc32` = 8 lowercase hex digits, the CRC-32 of the whole encoded footer
/// with those 8 digits written as "00000000", and the reader checks it when present. Other
/// engines see an ordinary key/value pair; files without it (older ones, other writers)
/// read as before.
enum ParquetFooterChecksum {
    static let key = "trackhouse.footer_crc32"
    static let placeholder = "00000000"

    /// Where the checksum value sits in an encoded footer, and what it says.
    struct Seal: Equatable {
        /// Byte range of the 8 digits in the footer; nil when the value is not 8 bytes long
        /// (which a writer of ours never produces).
        var range: Range<Int>?
        var value: String
    }

    /// Writes the CRC of `footer` (holding the placeholder at `range`) into `range`.
    static func seal(_ footer: inout [UInt8], at range: Range<Int>) {
        let digits = hex(ParquetPageChecksum.crc32(footer))
        footer.replaceSubrange(range, with: Array(digits.utf8))
    }

    /// Checks the footer against its recorded CRC.
    static func verify(_ footer: [UInt8], _ seal: Seal) throws {
        var computed: String?
        if let range = seal.range, range.lowerBound >= 0, range.upperBound <= footer.count {
            var copy = footer
            copy.replaceSubrange(range, with: Array(placeholder.utf8))
            computed = hex(ParquetPageChecksum.crc32(copy))
        }
        guard let computed, computed == seal.value else {
            throw ParquetError(.checksumMismatch, "checksum mismatch (\(key) says \(seal.value.debugDescription), "
                + "the footer's CRC-32 is \(computed ?? "not computable")): the file is damaged; restore it from a backup "
                + "or re-compact it from the raw data")
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
