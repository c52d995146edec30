import Core

// gzip/zlib inflate: never crashes on any input, never returns more than `outputBytesMax`
// bytes; and deflate + inflate of the input gives the input back.

let outputBytesMax = 1 << 20

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    do {
        let output = try Gzip.inflate(bytes, outputBytesMax: outputBytesMax)
        if output.count > outputBytesMax { fuzzFail("inflated \(output.count) bytes, limit \(outputBytesMax)", input: bytes) }
    } catch is GzipError {
    } catch {
        fuzzFail("unexpected error type \(error)", input: bytes)
    }
    // A small limit: the refusal must come before the output is kept.
    if let small = try? Gzip.inflate(bytes, outputBytesMax: 16), small.count > 16 {
        fuzzFail("inflated \(small.count) bytes, limit 16", input: bytes)
    }
    let level = Int32(bytes.first.map { $0 % 10 } ?? 6)
    let compressed = Gzip.deflate(bytes, level: level)
    guard let restored = try? Gzip.inflate(compressed, outputBytesMax: bytes.count), restored == bytes else {
        fuzzFail("deflate + inflate did not give the input back", input: bytes)
    }
    return 0
}
