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
/// Cost: one pass over the body and a handful of allocations per body (output, two scratch
/// buffers sized from the body, small stacks), none per key or value; keys are compared as
/// bytes, never as `String`/`Character`.
public enum FormTranscoder {
    public struct Result: Sendable {
        /// The payload object as compact JSON.
        public var json: [UInt8]
        /// The top-level `hash` leaf, percent-decoded; nil when absent or not a scalar.
        public var hash: String?
    }

    /// A key segment seen under an open object: its bytes in `arena` and a hash to compare fast.
    private struct Seen {
        var hash: UInt64
        var start: Int32
        var count: Int32
    }

    /// Children of one object are compared linearly (by hash first); an object with more
    /// children than this goes to `FormParser` (which indexes), so hostile bodies stay O(n).
    static let childrenMax = 512

    public static func transcode(_ body: [UInt8], keysMax: Int = FormParser.keysMaxDefault,
                                 depthMax: Int = JSONParser.defaultDepthMax) -> Result? {
        body.withUnsafeBufferPointer { transcode($0, keysMax: keysMax, depthMax: depthMax) }
    }

    public static func transcode(_ body: UnsafeBufferPointer<UInt8>, keysMax: Int = FormParser.keysMaxDefault,
                                 depthMax: Int = JSONParser.defaultDepthMax) -> Result? {
        let count = body.count
        var out: [UInt8] = []
        out.reserveCapacity(count + count / 4 + 64)
        // Decoded key segments of every key still relevant (children of open objects).
        // Both scratch arrays are written before they are read: no zero fill.
        var arena = [UInt8](unsafeUninitializedCapacity: count + 1) { _, initialized in initialized = count + 1 }
        var arenaUsed = 0
        // Scratch for one decoded key or value.
        var scratch = [UInt8](unsafeUninitializedCapacity: count + 1) { _, initialized in initialized = count + 1 }
        // `seen[levelStart[L]..<levelStart[L+1] or seen.count]`: children of the open object at
        // depth L (0 = the payload). The open path is the last child of each open level.
        var seen: [Seen] = []
        seen.reserveCapacity(64)
        var levelStart: [Int] = [0]
        levelStart.reserveCapacity(8)
        // Segment boundaries of the current key, in `scratch`.
        var segStarts: [Int] = []
        var segEnds: [Int] = []
        segStarts.reserveCapacity(8)
        segEnds.reserveCapacity(8)
        var hash: String? = nil
        var keyCount = 0

        let ok: Bool = arena.withUnsafeMutableBufferPointer { arenaBuffer -> Bool in
            scratch.withUnsafeMutableBufferPointer { scratchBuffer -> Bool in
                let arenaBase = arenaBuffer.baseAddress!
                // An empty body has no base address; memchr is never called with a count of 0 then.
                let bodyBase = body.baseAddress ?? UnsafePointer(arenaBase)
                let s = scratchBuffer.baseAddress!
                out.append(UInt8(ascii: "{"))
                var start = 0
                while start <= count {
                    // memchr (vectorized in libc) for the separators: byte loops here were a
                    // fifth of the transcoder's time on a 2.3 KB SDK body.
                    let end = find(UInt8(ascii: "&"), in: bodyBase, from: start, to: count)
                    defer { start = end &+ 1 }
                    if end == start { continue }
                    keyCount &+= 1
                    if keyCount > keysMax { return false }
                    let equals = find(UInt8(ascii: "="), in: bodyBase, from: start, to: end)

                    // Key: decode, require ASCII, split `base[seg][seg]…`.
                    let keyLength = percentDecode(body, start, equals, into: s)
                    if keyLength == 0 { continue }  // empty key: ignored, as FormParser does
                    segStarts.removeAll(keepingCapacity: true)
                    segEnds.removeAll(keepingCapacity: true)
                    var index = 0
                    if s[0] == UInt8(ascii: " ") || s[0] == UInt8(ascii: "[") { return false }
                    while index < keyLength && s[index] != UInt8(ascii: "[") {
                        if s[index] >= 0x80 { return false }
                        index &+= 1
                    }
                    segStarts.append(0)
                    segEnds.append(index)
                    while index < keyLength {
                        // s[index] == "["
                        let inner = index &+ 1
                        var close = inner
                        while close < keyLength && s[close] != UInt8(ascii: "]") {
                            if s[close] >= 0x80 { return false }
                            close &+= 1
                        }
                        if close == keyLength || close == inner { return false }  // unclosed, or `[]`
                        segStarts.append(inner)
                        segEnds.append(close)
                        index = close &+ 1
                        if index < keyLength && s[index] != UInt8(ascii: "[") { return false }  // text after `]`
                    }
                    let depth = segStarts.count &- 1
                    if depth > depthMax { return false }

                    // Common prefix with the open path.
                    let openDepth = levelStart.count &- 1
                    var common = 0
                    while common < depth && common < openDepth {
                        let open = seen[levelStart[common &+ 1] &- 1]
                        if !equal(open, arenaBase, s, segStarts[common], segEnds[common]) { break }
                        common &+= 1
                    }
                    // Close deeper levels.
                    var level = openDepth
                    while level > common {
                        out.append(UInt8(ascii: "}"))
                        let first = levelStart.removeLast()
                        seen.removeSubrange(first...)
                        // Arena space of closed children is not reclaimed: the total is bounded
                        // by the body size.
                        level &-= 1
                    }
                    // The segment at `common` must be new under its object, else it re-opens or
                    // overwrites something: FormParser's last-write-wins rules apply.
                    for position in common...depth {
                        let segStart = segStarts[position]
                        let segEnd = segEnds[position]
                        let segHash = fnv(s, segStart, segEnd)
                        if position == common {
                            let groupStart = levelStart[position]
                            var probe = groupStart
                            while probe < seen.count {
                                let other = seen[probe]
                                if other.hash == segHash && equal(other, arenaBase, s, segStart, segEnd) { return false }
                                probe &+= 1
                            }
                            if seen.count &- groupStart >= childrenMax { return false }
                            if seen.count > groupStart { out.append(UInt8(ascii: ",")) }
                        } else {
                            out.append(UInt8(ascii: "{"))
                            levelStart.append(seen.count)
                        }
                        let length = segEnd &- segStart
                        (arenaBase + arenaUsed).update(from: s + segStart, count: length)
                        seen.append(Seen(hash: segHash, start: Int32(truncatingIfNeeded: arenaUsed), count: Int32(truncatingIfNeeded: length)))
                        arenaUsed &+= length
                        appendQuoted(UnsafeBufferPointer(start: s + segStart, count: length), to: &out)
                        out.append(UInt8(ascii: ":"))
                    }

                    // Value: decode into scratch (the key is no longer needed), validate, write.
                    let valueLength = equals < end ? percentDecode(body, equals &+ 1, end, into: s) : 0
                    let value = UnsafeBufferPointer(start: s, count: valueLength)
                    var ascii = true
                    for byte in value where byte >= 0x80 { ascii = false; break }
                    if !ascii && String(validating: value, as: UTF8.self) == nil { return false }
                    appendQuoted(value, to: &out)
                    if depth == 0 && segEnds[0] == 4 {
                        // Compare the key "hash" (still in arena: the last child at level 0).
                        let last = seen[seen.count &- 1]
                        if last.count == 4 && arenaBase[Int(last.start)] == UInt8(ascii: "h")
                            && arenaBase[Int(last.start) &+ 1] == UInt8(ascii: "a")
                            && arenaBase[Int(last.start) &+ 2] == UInt8(ascii: "s")
                            && arenaBase[Int(last.start) &+ 3] == UInt8(ascii: "h") {
                            hash = String(decoding: value, as: UTF8.self)
                        }
                    }
                }
                var level = levelStart.count &- 1
                while level > 0 { out.append(UInt8(ascii: "}")); level &-= 1 }
                out.append(UInt8(ascii: "}"))
                return true
            }
        }
        return ok ? Result(json: out, hash: hash) : nil
    }

    /// Index of the first `byte` in `base[from..<to]`, or `to`.
    @inline(__always)
    private static func find(_ byte: UInt8, in base: UnsafePointer<UInt8>, from: Int, to: Int) -> Int {
        guard from < to, let hit = memchr(base + from, Int32(byte), to &- from) else { return to }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    @inline(__always)
    private static func equal(_ seen: Seen, _ arena: UnsafeMutablePointer<UInt8>, _ s: UnsafeMutablePointer<UInt8>,
                              _ start: Int, _ end: Int) -> Bool {
        let length = end &- start
        if Int(seen.count) != length { return false }
        return memcmp(arena + Int(seen.start), s + start, length) == 0
    }

    @inline(__always)
    private static func fnv(_ s: UnsafeMutablePointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var i = start
        while i < end { h = (h ^ UInt64(s[i])) &* 0x100_0000_01b3; i &+= 1 }
        return h
    }

    @inline(__always)
    private static func appendQuoted(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        JSONWriter.appendEscaped(bytes, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// `FormParser.percentDecode` into a buffer: `+` is a space, `%XX` a byte, a malformed `%`
    /// stays literal. Returns the decoded length (never more than `end - start`).
    @inline(__always)
    static func percentDecode(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                              into out: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0
        var index = start
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out[written] = 0x20
            } else if byte == UInt8(ascii: "%"), index &+ 2 < end,
                      let high = FormParser.hexValue(bytes[index &+ 1]), let low = FormParser.hexValue(bytes[index &+ 2]) {
                out[written] = high << 4 | low
                written &+= 1
                index &+= 3
                continue
            } else {
                out[written] = byte
            }
            written &+= 1
            index &+= 1
        }
        return written
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
