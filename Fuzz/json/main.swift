import Core

// JSON: the strict parser never crashes; what it accepts serializes (`JSONWriter`) to text
// that parses back to the same value, and that text is a fixed point of parse + serialize.
// A tiny depth limit exercises the nesting refusal too.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    _ = try? JSONParser.parse(bytes, depthMax: 2)
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
