import Core

// JSON: the strict parser never crashes; what it accepts serializes (`JSONWriter`) to text
// that parses back to the same value, and that text is a fixed point of parse + serialize.
// A tiny depth limit exercises the nesting refusal too. `parseLeadingMembers` (the log's
// files-only reader) reads a prefix with the same grammar: it accepts whatever the full parse
// accepts, refuses only what the full parse refuses too, and without a stop key gives the
// full parse's value.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    _ = try? JSONParser.parse(bytes, depthMax: 2)
    let leading = Result { try JSONParser.parseLeadingMembers(bytes, stoppingAt: ["raw", "removed"]) }
    let full = Result { try JSONParser.parse(bytes) }
    switch (leading, full) {
    case (.failure, .success): fuzzFail("the leading-members parse refused what the full parse accepts", input: bytes)
    case (.success(let read), .success(let value)) where !read.stopped && read.value != value:
        fuzzFail("the leading-members parse read no stop key yet differs from the full parse", input: bytes)
    case (.success(let read), .failure) where !read.stopped:
        fuzzFail("the leading-members parse read the whole document but accepted what the full parse refuses", input: bytes)
    default: break
    }
    let value: JSONValue
    do {
        value = try JSONParser.parse(bytes)
    } catch let error as JSONParseError {
        if error.offset < 0 || error.offset > bytes.count { fuzzFail("error offset \(error.offset) outside the input", input: bytes) }
        return 0
    } catch {
        fuzzFail("unexpected error type \(error)", input: bytes)
    }
    let written = JSONWriter.serialize(value)
    guard let again = try? JSONParser.parse(written) else {
        fuzzFail("serialized value does not parse: \(String(decoding: written, as: UTF8.self))", input: bytes)
    }
    if again != value { fuzzFail("round trip changed the value: \(String(decoding: written, as: UTF8.self))", input: bytes) }
    if JSONWriter.serialize(again) != written { fuzzFail("serialization is not a fixed point", input: bytes) }
    return 0
}
