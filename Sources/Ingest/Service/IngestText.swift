import Foundation

/// Byte-level helpers for the ingest hot path, so a request never goes through Foundation's
/// string APIs (`trimmingCharacters`, `split`, `lowercased`) in the common case. Each falls back
/// to the Foundation form when the input is outside what the fast form decides exactly.
enum IngestText {
    /// `text.trimmingCharacters(in: .whitespaces)`. `.whitespaces` is tab plus Unicode `Zs`,
    /// whose only ASCII member is the space; when both ends are other ASCII bytes nothing is
    /// trimmed and the string is returned as is.
    static func trimmingWhitespace(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last else { return text }
        if first < 0x80 && last < 0x80 && first != 0x20 && first != 0x09 && last != 0x20 && last != 0x09 {
            return text
        }
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// The media type of a `Content-Type` value: before any `;`, trimmed, lowercased. ASCII
    /// headers (all real ones) are handled on bytes; anything else takes the Foundation path.
    static func mediaType(_ contentType: String) -> String {
        let fast: String?? = contentType.utf8.withContiguousStorageIfAvailable { buffer -> String? in
            var end = 0
            while end < buffer.count && buffer[end] != UInt8(ascii: ";") {
                if buffer[end] >= 0x80 { return nil }
                end += 1
            }
            var start = 0
            while start < end && (buffer[start] == 0x20 || buffer[start] == 0x09) { start += 1 }
            while end > start && (buffer[end - 1] == 0x20 || buffer[end - 1] == 0x09) { end -= 1 }
            var hasUpper = false
            for index in start..<end where buffer[index] >= 0x41 && buffer[index] <= 0x5A { hasUpper = true; break }
            if !hasUpper { return String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self) }
            return String(unsafeUninitializedCapacity: end - start) { out in
                for index in start..<end {
                    let byte = buffer[index]
                    out[index - start] = byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
                }
                return end - start
            }
        }
        if let fast, let fast { return fast }
        let base = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        return base.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
