import Crypto

/// The fingerprint the SDK puts in its User-Agent (`Appsero/<md5 of the home URL>;`), the only
/// site identity an opt-out carries. MD5 here only mirrors PHP's `md5()`; nothing relies on it
/// for security.
enum SDKFingerprint {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase hex MD5 of the UTF-8 text, as PHP's `md5()` gives it.
    static func md5Hex(_ text: String) -> String {
        var hasher = Insecure.MD5()
        var text = text
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        let digest = hasher.finalize()
        return String(unsafeUninitializedCapacity: 2 * Insecure.MD5Digest.byteCount) { out in
            var position = 0
            for byte in digest {
                out[position] = hexDigits[Int(byte >> 4)]
                out[position + 1] = hexDigits[Int(byte & 0xF)]
                position += 2
            }
            return position
        }
    }
}
