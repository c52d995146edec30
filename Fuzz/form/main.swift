// Form bodies: `FormTranscoder` (the ingest fast path) must give exactly the bytes that
// `FormParser` (the reference, PHP parse_str semantics) + `JSONWriter` give, or decline.
// Neither may crash, and the transcoder's `hash` must be the parser's top-level hash leaf.
import Core
@testable import Ingest

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = fuzzBytes(data, size)
    // Default limits, then tiny ones so the limit paths (too many keys, too deep) are compared too.
    for (keysMax, depthMax) in [(FormParser.keysMaxDefault, JSONParser.defaultDepthMax), (3, 1)] {
        let parsed = try? FormParser.parse(body, keysMax: keysMax, depthMax: depthMax)
        guard let fast = FormTranscoder.transcode(body, keysMax: keysMax, depthMax: depthMax) else { continue }
        guard let parsed else {
            fuzzFail("transcoder accepted a body the parser refuses (keysMax \(keysMax), depthMax \(depthMax))", input: body)
        }
        let reference = JSONWriter.serialize(.object(parsed))
        if fast.json != reference {
            fuzzFail("transcoder and parser differ (keysMax \(keysMax), depthMax \(depthMax))\nfast:      \(String(decoding: fast.json, as: UTF8.self))\nreference: \(String(decoding: reference, as: UTF8.self))", input: body)
        }
        var referenceHash: String? = nil
        if case .string(let hash)? = parsed["hash"] { referenceHash = hash }
        if fast.hash != referenceHash {
            fuzzFail("hash differs: fast \(String(describing: fast.hash)) parser \(String(describing: referenceHash))", input: body)
        }
        // The framed variant (the envelope line) is prefix + the same payload + suffix.
        let prefix = Array("{\"p\":".utf8), suffix = Array("}\n".utf8)
        let framed = body.withUnsafeBufferPointer {
            FormTranscoder.transcode($0, keysMax: keysMax, depthMax: depthMax, prefix: prefix, suffix: suffix)
        }
        if framed?.json != prefix + reference + suffix { fuzzFail("framed transcoding differs", input: body) }
    }
    return 0
}
