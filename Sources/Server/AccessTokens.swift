import Crypto
import Foundation

/// Bearer tokens: random, shown once, stored only as a SHA-256 hex digest (CONTRACT §3).
public enum AccessTokens {
    /// `th_` + 40 hex digits (160 random bits).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var hex = "th_"
        for _ in 0..<20 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            hex += String(format: "%02x", byte)
        }
        return hex
    }

    public static func sha256Hex(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares two digests without an early exit, so timing does not reveal a prefix match.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: left.count ^ right.count)
        for index in 0..<max(left.count, right.count) {
            let x = index < left.count ? left[index] : 0
            let y = index < right.count ? right[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
