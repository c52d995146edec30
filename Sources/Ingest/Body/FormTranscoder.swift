/// The ingest hot path for form bodies: transcodes `application/x-www-form-urlencoded` bytes
/// straight to the payload's compact JSON, without building a `JSONObject` tree.
///
/// It handles the shape every SDK version sends (`http_build_query` output: ASCII keys, each
/// path written once, nested keys grouped, e.g. `plugins[woo][name]=…&plugins[woo][version]=…`)
/// and produces exactly the bytes `JSONWriter.append(.object(FormParser.parse(body)))` would.
/// Anything else returns nil and the caller uses `FormParser`, which stays the definition of
/// the semantics: `a[]` appends, a key repeated or re-opened later (last write wins, first
/// position kept), a scalar replaced by an object or back, leading spaces, unclosed brackets,
/// text after `]`, non-ASCII keys, limits exceeded, invalid UTF-8 (so the error message is the
/// parser's).
///
/// Cost: one pass over the body into raw buffers (`TranscodeBuffers`): the output, a decode
/// scratch, the arena of key segments and the stack of open objects. No `Array` appends, no
/// allocation per key or value; keys are compared as bytes (length and first 8 bytes first),
/// never as `String`/`Character`. (Measured with the 2.3 KB benchmark body: 10.5 µs with
/// `Array` appends and FNV-hashed keys, see BENCHMARKS.md for the current figure.)
public enum FormTranscoder {
    public struct Result: Sendable {
        /// The payload object as compact JSON.
        public var json: [UInt8]
        /// The top-level `hash` leaf, percent-decoded; nil when absent or not a scalar.
        public var hash: String?
    }

    /// Children of one object are compared linearly; an object with more children than this
    /// goes to `FormParser` (which indexes), so hostile bodies stay O(n).
    static let childrenMax = 512

    public static func transcode(_ body: [UInt8], keysMax: Int = FormParser.keysMaxDefault,
                                 depthMax: Int = JSONParser.defaultDepthMax) -> Result? {
        body.withUnsafeBufferPointer { transcode($0, keysMax: keysMax, depthMax: depthMax) }
    }

    public static func transcode(_ body: UnsafeBufferPointer<UInt8>, keysMax: Int = FormParser.keysMaxDefault,
                                 depthMax: Int = JSONParser.defaultDepthMax) -> Result? {
        transcode(body, keysMax: keysMax, depthMax: depthMax, prefix: [], suffix: [])
    }

    /// Transcodes with `prefix` before and `suffix` after the payload, in one array: the
    /// envelope line (`Envelope.linePrefix` + payload + `Envelope.lineSuffix`) without a
    /// second copy of the payload. `Result.json` is then the whole framed text.
    public static func transcode(_ body: UnsafeBufferPointer<UInt8>, keysMax: Int = FormParser.keysMaxDefault,
                                 depthMax: Int = JSONParser.defaultDepthMax,
                                 prefix: [UInt8], suffix: [UInt8]) -> Result? {
        var buffers = TranscodeBuffers(bodyBytes: body.count &+ prefix.count &+ suffix.count, depthMax: depthMax)
        defer { buffers.deallocate() }
        prefix.withUnsafeBufferPointer { buffers.out.append($0) }
        guard let hash = transcode(body, keysMax: keysMax, depthMax: depthMax, into: &buffers) else { return nil }
        suffix.withUnsafeBufferPointer { buffers.out.append($0) }
        let json = Array(UnsafeBufferPointer(start: buffers.out.base, count: buffers.out.count))
        return Result(json: json, hash: hash.value)
    }

    /// A key segment seen under an open object: its bytes in the arena, its length and its
    /// first 8 bytes (zero padded), so most comparisons need no `memcmp`.
    struct Seen {
        var prefix: UInt64
        var start: Int32
        var count: Int32
    }

    /// The hash leaf found (or not); an optional of optional would read worse.
    struct HashLeaf { var value: String? }

    /// Returns nil when the body is not in the fast path's shape (the caller falls back).
    static func transcode(_ body: UnsafeBufferPointer<UInt8>, keysMax: Int, depthMax: Int,
                          into buffers: inout TranscodeBuffers) -> HashLeaf? {
        let count = body.count
        if depthMax < 0 { return nil }  // the segment stacks are sized from it
        // An empty body has no base address; memchr is never called with a count of 0 then.
        let bodyBase = body.baseAddress ?? UnsafePointer(buffers.scratch)
        let s = buffers.scratch
        let arena = buffers.arena
        let segStarts = buffers.segmentStarts
        let segEnds = buffers.segmentEnds
        let levelStart = buffers.levelStarts
        let segmentsMax = depthMax &+ 1
        var openDepth = 0  // levelStart[0...openDepth] are valid; levelStart[0] == 0
        levelStart[0] = 0
        var arenaUsed = 0
        var hash: String? = nil
        var keyCount = 0
        buffers.out.append(UInt8(ascii: "{"))
        var start = 0
        while start <= count {
            // memchr (vectorized in libc) for the separators.
            let end = find(UInt8(ascii: "&"), in: bodyBase, from: start, to: count)
            defer { start = end &+ 1 }
            if end == start { continue }
            keyCount &+= 1
            if keyCount > keysMax { return nil }
            let equals = find(UInt8(ascii: "="), in: bodyBase, from: start, to: end)

            // Key: decode, require ASCII, split `base[seg][seg]…`.
            var keyHighBits: UInt64 = 0
            let keyLength = percentDecode(bodyBase, start, equals, into: s, highBits: &keyHighBits)
            if keyLength == 0 { continue }  // empty key: ignored, as FormParser does
            if keyHighBits != 0 { return nil }  // non-ASCII key
            if s[0] == UInt8(ascii: " ") || s[0] == UInt8(ascii: "[") { return nil }
            var index = findByte(UInt8(ascii: "["), in: s, from: 0, to: keyLength)
            segStarts[0] = 0
            segEnds[0] = index
            var segments = 1
            while index < keyLength {
                // s[index] == "["
                let inner = index &+ 1
                let close = findByte(UInt8(ascii: "]"), in: s, from: inner, to: keyLength)
                if close == keyLength || close == inner { return nil }  // unclosed, or `[]`
                if segments == segmentsMax { return nil }  // deeper than depthMax
                segStarts[segments] = inner
                segEnds[segments] = close
                segments &+= 1
                index = close &+ 1
                if index < keyLength && s[index] != UInt8(ascii: "[") { return nil }  // text after `]`
            }
            let depth = segments &- 1

            // Common prefix with the open path (the open object at depth L+1 is the last child at L).
            var common = 0
            while common < depth && common < openDepth {
                let open = buffers.seen[levelStart[common &+ 1] &- 1]
                if !equal(open, arena, s, segStarts[common], segEnds[common]) { break }
                common &+= 1
            }
            // Close deeper levels. Arena space of closed children is not reclaimed: the total
            // is bounded by the body size.
            while openDepth > common {
                buffers.out.append(UInt8(ascii: "}"))
                buffers.seenCount = levelStart[openDepth]
                openDepth &-= 1
            }
            // The segment at `common` must be new under its object, else it re-opens or
            // overwrites something: FormParser's last-write-wins rules apply.
            for position in common...depth {
                let segStart = segStarts[position]
                let length = segEnds[position] &- segStart
                let prefix = loadPrefix(s + segStart, length)
                if position == common {
                    let groupStart = levelStart[position]
                    var probe = groupStart
                    while probe < buffers.seenCount {
                        let other = buffers.seen[probe]
                        if other.prefix == prefix && Int(other.count) == length
                            && (length <= 8 || memcmp(arena + Int(other.start), s + segStart, length) == 0) { return nil }
                        probe &+= 1
                    }
                    if buffers.seenCount &- groupStart >= childrenMax { return nil }
                    if buffers.seenCount > groupStart { buffers.out.append(UInt8(ascii: ",")) }
                } else {
                    buffers.out.append(UInt8(ascii: "{"))
                    openDepth &+= 1
                    levelStart[openDepth] = buffers.seenCount
                }
                (arena + arenaUsed).update(from: s + segStart, count: length)
                buffers.pushSeen(Seen(prefix: prefix, start: Int32(truncatingIfNeeded: arenaUsed), count: Int32(truncatingIfNeeded: length)))
                arenaUsed &+= length
                buffers.out.appendQuoted(s + segStart, length)
                buffers.out.append(UInt8(ascii: ":"))
            }

            // Value. The key was "hash" when its bytes, the last child at level 0, say so.
            var isHash = false
            if depth == 0 && segEnds[0] == 4 {
                let last = buffers.seen[buffers.seenCount &- 1]
                isHash = last.count == 4 && last.prefix == hashPrefix
            }
            // Most values are ASCII: decoded, escaped and quoted in one pass, straight into
            // the output.
            if !isHash && buffers.out.appendDecodedQuotedASCII(bodyBase, min(equals &+ 1, end), end) { continue }
            // Otherwise decode into scratch (the key is no longer needed), validate, write.
            var highBits: UInt64 = 0
            let valueLength = equals < end ? percentDecode(bodyBase, equals &+ 1, end, into: s, highBits: &highBits) : 0
            if highBits != 0 && String(validating: UnsafeBufferPointer(start: s, count: valueLength), as: UTF8.self) == nil { return nil }
            buffers.out.appendQuoted(s, valueLength)
            if isHash { hash = String(decoding: UnsafeBufferPointer(start: s, count: valueLength), as: UTF8.self) }
        }
        while openDepth > 0 { buffers.out.append(UInt8(ascii: "}")); openDepth &-= 1 }
        buffers.out.append(UInt8(ascii: "}"))
        return HashLeaf(value: hash)
    }

    /// "hash" as a zero-padded little-endian prefix.
    static let hashPrefix: UInt64 = UInt64(0x68) | UInt64(0x61) << 8 | UInt64(0x73) << 16 | UInt64(0x68) << 24

    /// The first min(8, length) bytes, zero padded, little-endian.
    @inline(__always)
    static func loadPrefix(_ bytes: UnsafeMutablePointer<UInt8>, _ length: Int) -> UInt64 {
        if length >= 8 { return SWAR.load(bytes) }
        var value: UInt64 = 0
        var index = length
        while index > 0 {
            index &-= 1
            value = value << 8 | UInt64(bytes[index])
        }
        return value
    }

    /// Index of the first `byte` in `base[from..<to]`, or `to`.
    @inline(__always)
    private static func find(_ byte: UInt8, in base: UnsafePointer<UInt8>, from: Int, to: Int) -> Int {
        guard from < to, let hit = memchr(base + from, Int32(byte), to &- from) else { return to }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    /// Index of the first `byte` in `base[from..<to]`, or `to`: eight bytes per step, for
    /// the short runs (key segments) where a `memchr` call costs more than the scan.
    @inline(__always)
    static func findByte(_ byte: UInt8, in base: UnsafeMutablePointer<UInt8>, from: Int, to: Int) -> Int {
        var index = from
        while index &+ 8 <= to {
            let hits = SWAR.hasByte(SWAR.load(base + index), byte)
            // The lowest flagged byte is exact (false flags only appear above a true hit).
            if hits != 0 { return index &+ (hits.trailingZeroBitCount >> 3) }
            index &+= 8
        }
        while index < to && base[index] != byte { index &+= 1 }
        return index
    }

    @inline(__always)
    private static func equal(_ seen: Seen, _ arena: UnsafeMutablePointer<UInt8>, _ s: UnsafeMutablePointer<UInt8>,
                              _ start: Int, _ end: Int) -> Bool {
        let length = end &- start
        if Int(seen.count) != length { return false }
        return memcmp(arena + Int(seen.start), s + start, length) == 0
    }

    /// `FormParser.percentDecode` into a buffer: `+` is a space, `%XX` a byte, a malformed `%`
    /// stays literal. Returns the decoded length (never more than `end - start`).
    /// Eight bytes at a time while a word holds neither `%` nor `+` (most of an SDK body).
    @inline(__always)
    static func percentDecode(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int,
                              into out: UnsafeMutablePointer<UInt8>) -> Int {
        var highBits: UInt64 = 0
        return percentDecode(bytes, start, end, into: out, highBits: &highBits)
    }

    /// As above; `highBits` gets every decoded byte ORed in (bit 7 set: some byte is not ASCII).
    @inline(__always)
    static func percentDecode(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int,
                              into out: UnsafeMutablePointer<UInt8>, highBits: inout UInt64) -> Int {
        var written = 0
        var index = start
        var seen: UInt64 = 0
        while index < end {
            if index &+ 8 <= end {
                // Copy the word up to its first `%` or `+` (all of it if there is none).
                // written + 8 <= index + 8 - start <= end - start: the store stays inside `out`.
                // Every byte of the word lies in [start, end) and is either output as is or
                // an ASCII hex digit, so ORing the whole word keeps `highBits` exact.
                let word = SWAR.load(bytes + index)
                let special = SWAR.hasByte(word, UInt8(ascii: "%")) | SWAR.hasByte(word, UInt8(ascii: "+"))
                SWAR.store(word, out + written)
                seen |= word
                if special == 0 {
                    written &+= 8
                    index &+= 8
                    continue
                }
                let plain = special.trailingZeroBitCount >> 3
                written &+= plain
                index &+= plain
            }
            let (decoded, next) = decodeToken(bytes, index, end)
            out[written] = decoded
            seen |= UInt64(decoded)
            written &+= 1
            index = next
        }
        highBits = seen & SWAR.highs
        return written
    }

    /// The byte of the token at `index` (< `end`) and the index after it: `%XX` is a byte, `+`
    /// a space, anything else (a malformed `%` too) itself.
    @inline(__always)
    static func decodeToken(_ bytes: UnsafePointer<UInt8>, _ index: Int, _ end: Int) -> (byte: UInt8, next: Int) {
        let byte = bytes[index]
        if byte == UInt8(ascii: "%"), index &+ 2 < end {
            let high = hexValue(bytes[index &+ 1])
            let low = hexValue(bytes[index &+ 2])
            if high | low < 16 { return (high << 4 | low, index &+ 3) }
        }
        return (byte == UInt8(ascii: "+") ? 0x20 : byte, index &+ 1)
    }

    /// The value of a hex digit, or 0xFF.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8 {
        let digit = byte &- 0x30
        if digit < 10 { return digit }
        let letter = (byte | 0x20) &- 0x61
        return letter < 6 ? letter &+ 10 : 0xFF
    }
}

/// Eight bytes as one word ("SIMD within a register"): the classic exact tests for a zero
/// byte, used to skip runs that need no per-byte work.
enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always)
    static func load(_ pointer: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: UInt64.self))
    }

    @inline(__always)
    static func load(_ pointer: UnsafeMutablePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: UInt64.self))
    }

    @inline(__always)
    static func store(_ word: UInt64, _ pointer: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: word.littleEndian, as: UInt64.self)
    }

    /// Nonzero iff some byte of `word` is zero.
    @inline(__always)
    static func hasZero(_ word: UInt64) -> UInt64 { (word &- ones) & ~word & highs }

    /// Nonzero iff some byte of `word` equals `byte`.
    @inline(__always)
    static func hasByte(_ word: UInt64, _ byte: UInt8) -> UInt64 { hasZero(word ^ (ones &* UInt64(byte))) }

    /// Nonzero iff some byte of `word` is below `limit` (limit <= 128; exact for bytes < 0x80).
    @inline(__always)
    static func hasLess(_ word: UInt64, _ limit: UInt8) -> UInt64 { (word &- ones &* UInt64(limit)) & ~word & highs }

    /// Nonzero iff some byte of `word` may need work in a JSON string: not ASCII, a control
    /// byte, `"`, `\` or DEL. The lowest flagged byte is exact.
    @inline(__always)
    static func hasJSONSpecial(_ word: UInt64) -> UInt64 {
        word & highs | hasLess(word, 0x20) | hasByte(word, 0x22) | hasByte(word, 0x5C) | hasByte(word, 0x7F)
    }
}

#if canImport(Glibc)
import Core
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
