// Shared by every fuzz target (compiled into each one by scripts/fuzz.sh).
#if canImport(Glibc)
import Glibc
#endif

/// Reports a broken property and stops: libFuzzer records the input as a crash.
func fuzzFail(_ message: @autoclosure () -> String, input: [UInt8]) -> Never {
    let shown = String(decoding: input.prefix(512), as: UTF8.self)
    fputs("FUZZ PROPERTY FAILED: \(message())\ninput (\(input.count) bytes, as UTF-8): \(shown)\n", stderr)
    abort()
}

/// The fuzzer's bytes as an array (empty input has a dangling pointer, never read).
func fuzzBytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
}
