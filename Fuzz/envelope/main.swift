// Envelope lines (the compactor's input): the fast path (`EnvelopeLineScanner` + the
// normalizer over byte ranges) must give the same result as `Envelope.decode` + the
// JSON-tree normalizer whenever the scanner accepts a line, and `normalize` (fast, else
// general) must equal the general path. As Tests/ColumnStoreTests/NormalizeFastPathTests.swift.
@testable import ColumnStore
import Ingest

let projectHash = "a4a8da5b-b419-4656-98e9-4a42e9044891"
let registry = ProjectRegistry(projects: [
    Project(id: "acme-seo", name: "Acme SEO", hash: projectHash.uppercased(),
            extraFields: [
                .init(key: "total_posts", type: .int),
                .init(key: "store_currency", type: .string),
                .init(key: "conversion_rate", type: .float),
                .init(key: "pro_active", type: .bool),
            ],
            deactivationReasons: ["too-expensive"]),
    Project(id: "bare-theme", name: "Bare Theme", type: "theme", hash: "11111111-2222-3333-4444-555555555555"),
])
nonisolated(unsafe) var normalizer = EventLineNormalizer(registry: registry)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let line = fuzzBytes(data, size)
    line.withUnsafeBytes { buffer in
        let general = EventLineNormalizer.normalizeGeneral(line: buffer, registry: registry)
        if let fast = normalizer.normalizeFast(line: buffer), fast != general {
            fuzzFail("fast path differs\nfast:    \(fast)\ngeneral: \(general)", input: line)
        }
        let combined = normalizer.normalize(line: buffer)
        if combined != general { fuzzFail("normalize differs\nnormalize: \(combined)\ngeneral:   \(general)", input: line) }
    }
    return 0
}
