import Foundation

/// Base64 (RFC 4648) for AUTH tokens, encoded-words and base64 body parts.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }
}
