// Dashboard API query strings: `APIParameters` (form decoding, typed getters), the time
// range, pagination and interval parameters the endpoints read, `BucketInterval` bucket
// starts and the SQL text built from the parsed times. Errors must be 400 `APIError`s, never
// a crash; what is accepted must be consistent (from < to, buckets ascending inside the
// range, offsets not negative, given times within years 0000...9999 and rendered in SQL
// so that they parse back to the same instant).
import Core
import Hummingbird

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let parameters = APIParameters(Request(uri: URI(query: String(decoding: bytes, as: UTF8.self))))
    func check<T>(_ body: () throws -> T) -> T? {
        do { return try body() } catch let error as APIError {
            if error.status != .badRequest || error.code != "bad_request" { fuzzFail("unexpected API error \(error)", input: bytes) }
            return nil
        } catch { fuzzFail("unexpected error type \(error)", input: bytes) }
    }
    for pair in parameters.pairs {
        if pair.name.isEmpty { fuzzFail("empty parameter name kept", input: bytes) }
        _ = APIParameters.restoringOffsetSign(pair.value)
        _ = SQLText.string(pair.value)
        _ = SQLText.identifier(pair.name)
    }
    let now: Int64 = 1_780_000_000_000_000
    if let range = check({ try parameters.timeRange() }) {
        if range.from >= range.to { fuzzFail("accepted a range with from >= to: \(range)", input: bytes) }
        // A default `from` (`to` - 30 days) can fall before year 0000, which no format writes
        // (see Fuzz/README.md); every time within the formatters' years must round-trip.
        for micros in [range.from, range.to] where (UTCTime.microsMin...UTCTime.microsMax).contains(micros) {
            let text = UTCTime.formatEnvelope(micros: micros)
            if UTCTime.parseISO(text) != micros { fuzzFail("\(micros) renders as \(text), which does not parse back", input: bytes) }
        }
        _ = SQLText.inRange("received_at", range)
        if let interval: BucketInterval = check({ try parameters.choice("interval", default: .day) }),
           let starts = interval.starts(covering: range, limit: 10_000) {
            if let first = starts.first, first > range.from { fuzzFail("first bucket \(first) after from \(range.from)", input: bytes) }
            for (a, b) in zip(starts, starts.dropFirst()) where a >= b { fuzzFail("bucket starts not ascending: \(a), \(b)", input: bytes) }
            if let last = starts.last, last >= range.to { fuzzFail("bucket \(last) not before to \(range.to)", input: bytes) }
            for start in starts where interval.start(of: start) != start { fuzzFail("bucket start \(start) is not aligned", input: bytes) }
        }
    }
    if let pages = check({ try parameters.pagination() }), pages.offset < 0 || pages.page < 1 || pages.perPage < 1 {
        fuzzFail("pagination \(pages)", input: bytes)
    }
    for name in ["from", "to", "at"] {
        if let micros = check({ try parameters.time(name, default: now) }), !(UTCTime.microsMin...UTCTime.microsMax).contains(micros) {
            fuzzFail("parameter \(name) accepted \(micros), outside years 0000...9999", input: bytes)
        }
    }
    if let at = check({ try parameters.time("at", default: now) }) {
        _ = SQLText.timestamp(at)
        for interval in BucketInterval.allCases { _ = interval.next(after: interval.start(of: at)) }
    }
    _ = check({ try parameters.int("active_days", default: 14, range: 1...36_500) })
    _ = check({ try parameters.int("limit", default: 20, range: 0...100_000) })
    return 0
}
