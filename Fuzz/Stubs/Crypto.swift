// A stand-in for swift-crypto's `Crypto` for the fuzz builds (scripts/fuzz.sh): ColumnStore
// imports it for the privacy erase's subject digest, which no fuzz target reaches. It traps
// rather than return a fake digest, so a fuzz target that did reach it would fail loudly.
public enum SHA256 {
    public static func hash<Bytes: Sequence>(data: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        fatalError("Crypto is a stub in the fuzz build: no fuzz target hashes")
    }
}
