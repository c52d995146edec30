// Equivalence fuzz + micro-benchmark for the ingest form path (built by ../formcheck.sh with
// swiftc against Sources/Ingest; no SwiftPM, so it runs in seconds).
// Checks FormTranscoder == JSONWriter(FormParser.parse) byte for byte (or a fallback), then
// times per-request CPU of the old and new decode+envelope paths on the benchmark body.
import Foundation

func now() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }

var checked = 0, fallbacks = 0, failures = 0
func check(_ body: [UInt8], _ label: String) {
    checked += 1
    let expected: [UInt8]?
    let expectedHash: String?
    do {
        let object = try FormParser.parse(body)
        expected = JSONWriter.serialize(.object(object))
        expectedHash = object["hash"]?.scalarText
    } catch { expected = nil; expectedHash = nil }
    guard let result = FormTranscoder.transcode(body) else { fallbacks += 1; return }
    if expected == nil || result.json != expected! || result.hash != expectedHash {
        failures += 1
        if failures <= 10 {
            print("MISMATCH \(label): body=\(String(decoding: body, as: UTF8.self).debugDescription)")
            print("  parser:     \(expected.map { String(decoding: $0, as: UTF8.self) } ?? "<throws>") hash=\(String(describing: expectedHash))")
            print("  transcoder: \(String(decoding: result.json, as: UTF8.self)) hash=\(String(describing: result.hash))")
        }
    }
}

let table = [
    "url=https%3A%2F%2Fshop.example.com&site=My+Shop&hash=a4a8&server%5Bsoftware%5D=nginx&plugins%5Bw%5D%5Bname%5D=W&plugins%5Bw%5D%5Bversion%5D=8&client=2.0.4",
    "hash=abc&reason_id=none&reason_info=&site=Blog", "a[]=x&a[]=y&a[5]=z&a[]=w", "a=1&b=2&a=3", "a=1&a[b]=2&c[d]=3&c=4",
    "a=&b&c=%20", "&&=x&a=1&", "q=a+b%2Bc", "q=100%&r=%zz&s=%4", "site=Caf%C3%A9+M%C3%BCller&l=%E6%97%A5%E6%9C%AC",
    "a[b=1", "a[b]c=1", "u=%2f%3a", "q=%22quoted%22%5C%0A", "", "&", "=", "a", "a[b][c]=1&a[b][d]=2&a[e]=3&a[b][f]=4",
    "a[b][c]=1&a[b]=2", "a[b]=1&a[b][c]=2", "a[b][c]=1&a[d]=2&a[b][e]=3", " a=1", "[a]=1", "a[b[c]=1", "a[b][c=1",
    "%E6%97%A5=1", "a=%C3%28", "a=%FF", "hash[x]=1", "hash=+abc+", "x[hash]=1&hash=2", "a[0]=1&a[1]=2", "a%00=1&b=%00",
    "a[x]=1&b=2&a[y]=3", "a[x][y]=1&a[z][y]=2&a[x][w]=3",
]
for body in table { check(Array(body.utf8), "table") }
let benchBody = Array(try! Data(contentsOf: URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "/dev/null")))
check(benchBody, "bench body")

// Random bodies over a small alphabet that hits every rule.
var rng = SystemRandomNumberGenerator()
let atoms = ["a", "b", "c", "hash", "[", "]", "[]", "[a]", "[b]", "[0]", "=", "&", "+", "%", "%5B", "%5D", "%41", "%C3%A9", "%FF", "%2", " ", "x", "1", "\"", "%0A", "é", ".", "%26", "%3D"]
for iteration in 0..<200_000 {
    var text = ""
    let pairs = Int.random(in: 0...6, using: &rng)
    for p in 0..<pairs {
        if p > 0 { text += "&" }
        let keyBase = ["a", "b", "hash", "c", " a", "é"].randomElement(using: &rng)!
        text += keyBase
        for _ in 0..<Int.random(in: 0...3, using: &rng) { text += ["[a]", "[b]", "[c]", "[]", "%5Ba%5D", "[a", "]x", "[hash]"].randomElement(using: &rng)! }
        text += "="
        for _ in 0..<Int.random(in: 0...4, using: &rng) { text += atoms.randomElement(using: &rng)! }
    }
    check(Array(text.utf8), "fuzz \(iteration)")
}
// Large flat body (falls back past childrenMax) and deep keys.
check(Array((0..<2000).map { "plugins[p\($0)][version]=1.\($0)" }.joined(separator: "&").utf8), "large")
check(Array(("a" + String(repeating: "[x]", count: 33) + "=1").utf8), "deep33")
check(Array(("a" + String(repeating: "[x]", count: 32) + "=1").utf8), "deep32")
// Envelope lines: the hot-path line must equal Envelope.line() of the parsed payload.
do {
    let object = try! FormParser.parse(benchBody)
    let m = UTCTime.nowMicros()
    for (ip, ua) in [("127.0.0.1", "Appsero/x;"), (nil, nil), ("::1", "quote\" é \u{2028}")] as [(String?, String?)] {
        let e = Envelope(id: EventID.make(micros: m), receivedAtMicros: m, route: .trackingSkipped, ip: ip, userAgent: ua, payload: object)
        let fast = Envelope.line(id: e.id, receivedAtMicros: m, route: e.route, ip: ip, userAgent: ua,
                                           payloadJSON: FormTranscoder.transcode(benchBody)?.json ?? JSONWriter.serialize(.object(object)))
        checked += 1
        if fast != e.line() { failures += 1; print("MISMATCH envelope line") }
        // The route's path: the line framed around the payload as it is transcoded.
        let prefix = Envelope.linePrefix(id: e.id, receivedAtMicros: m, route: e.route, ip: ip, userAgent: ua)
        let framed = benchBody.withUnsafeBufferPointer { FormTranscoder.transcode($0, prefix: prefix, suffix: Envelope.lineSuffix)?.json }
        checked += 1
        if framed != e.line() { failures += 1; print("MISMATCH framed envelope line") }
    }
    for (input, expected) in [("application/x-www-form-urlencoded; charset=UTF-8", "application/x-www-form-urlencoded"),
                              (" Application/JSON ", "application/json"), ("", ""), ("text/plain;x", "text/plain"), ("ÄPP/x", "äpp/x")] {
        checked += 1
        if IngestText.mediaType(input) != expected { failures += 1; print("MISMATCH media type \(input): \(IngestText.mediaType(input))") }
    }
    for input in ["abc", " abc ", "\tabc", "a b", "", " ", "\u{3000}abc", "abc\u{00A0}", "é"] {
        checked += 1
        if IngestText.trimmingWhitespace(input) != input.trimmingCharacters(in: .whitespaces) { failures += 1; print("MISMATCH trim \(input.debugDescription)") }
    }
}
print("checked=\(checked) fallbacks=\(fallbacks) mismatches=\(failures)")

// Micro-benchmark on the benchmark body: old path vs new path, per request.
if !benchBody.isEmpty {
    var sink = 0
    let n = 20_000
    let ua = "Appsero/0123456789abcdef0123456789abcdef;"
    for round in 0..<3 {
        var t0 = now()
        for _ in 0..<n {
            let object = try! FormParser.parse(benchBody)
            let hash = object["hash"]!.scalarText!.trimmingCharacters(in: .whitespaces)
            let m = UTCTime.nowMicros()
            let e = Envelope(id: EventID.make(micros: m), receivedAtMicros: m, route: .track, ip: "127.0.0.1", userAgent: ua, payload: object)
            sink &+= e.line().count &+ hash.utf8.count
        }
        let old = (now() - t0) / Double(n) * 1e6
        t0 = now()
        for _ in 0..<n {
            let m = UTCTime.nowMicros()
            let prefix = Envelope.linePrefix(id: EventID.make(micros: m), receivedAtMicros: m, route: .track, ip: "127.0.0.1", userAgent: ua)
            let result = benchBody.withUnsafeBufferPointer { FormTranscoder.transcode($0, prefix: prefix, suffix: Envelope.lineSuffix)! }
            let hash = IngestText.trimmingWhitespace(result.hash!)
            sink &+= result.json.count &+ hash.utf8.count
        }
        let new = (now() - t0) / Double(n) * 1e6
        print(String(format: "round %d: old parse+trim+line %.1f us/request, new transcode+line %.1f us/request", round, old, new))
    }
    print("sink \(sink % 7)")
}
