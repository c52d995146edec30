#if canImport(Glibc)
import Core
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FormTranscoder {
    /// The raw memory one transcode works in, sized from the body once: every write below is
    /// within bounds by construction (decoded text is never longer than its encoded text) or
    /// checked (`ByteSink.reserve`, `pushSeen`).
    struct TranscodeBuffers {
        var out: ByteSink
        /// One decoded key or value (at most the body's length).
        let scratch: UnsafeMutablePointer<UInt8>
        /// Decoded key segments of the children of open objects (at most the body's length).
        let arena: UnsafeMutablePointer<UInt8>
        /// Segment bounds of the current key in `scratch`: `depthMax + 1` segments at most.
        let segmentStarts: UnsafeMutablePointer<Int>
        let segmentEnds: UnsafeMutablePointer<Int>
        /// `seen[levelStarts[L]..<levelStarts[L+1] or seenCount]`: children of the open object
        /// at depth L (0 = the payload).
        let levelStarts: UnsafeMutablePointer<Int>
        private(set) var seen: UnsafeMutablePointer<Seen>
        private var seenCapacity: Int
        var seenCount = 0

        init(bodyBytes: Int, depthMax: Int) {
            out = ByteSink(capacity: bodyBytes + bodyBytes / 4 + 64)
            scratch = .allocate(capacity: 2 * (bodyBytes + 1))
            arena = scratch + (bodyBytes + 1)
            // A key has at most one segment per byte, so a depth limit above the body's size
            // never binds (and a huge one must not size the allocation).
            let levels = min(max(1, depthMax), bodyBytes + 1) + 2
            segmentStarts = .allocate(capacity: 3 * levels)
            segmentEnds = segmentStarts + levels
            levelStarts = segmentEnds + levels
            seenCapacity = 64
            seen = .allocate(capacity: seenCapacity)
        }

        @inline(__always)
        mutating func pushSeen(_ entry: Seen) {
            if seenCount == seenCapacity {
                let grown = UnsafeMutablePointer<Seen>.allocate(capacity: seenCapacity * 2)
                grown.moveInitialize(from: seen, count: seenCount)
                seen.deallocate()
                seen = grown
                seenCapacity *= 2
            }
            (seen + seenCount).initialize(to: entry)
            seenCount &+= 1
        }

        func deallocate() {
            out.deallocate()
            scratch.deallocate()
            segmentStarts.deallocate()
            seen.deallocate()
        }
    }

    /// The transcoder's output: `RawBytes` plus the JSON string writer of the hot path.
    struct ByteSink {
        private var raw: RawBytes
        /// `JSONWriter`'s escape classes, looked up once per sink instead of per string.
        private let escapeClasses: UnsafePointer<UInt8>

        init(capacity: Int) {
            raw = RawBytes(capacity: capacity)
            escapeClasses = JSONWriter.escapeClassTable
        }

        func deallocate() { raw.deallocate() }

        var base: UnsafeMutablePointer<UInt8> { raw.base }
        var count: Int { raw.count }

        @inline(__always)
        mutating func append(_ byte: UInt8) { raw.append(byte) }

        mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) { raw.append(UnsafeRawBufferPointer(bytes)) }

        /// Appends `"<text, escaped as JSONWriter.appendEscaped does>"`.
        mutating func appendQuoted(_ text: UnsafePointer<UInt8>, _ length: Int) {
            // An escape writes at most 6 bytes per input byte (`\u00XX`; U+2028 is 3 in, 6 out).
            raw.reserve(6 &* length &+ 2)
            let start = raw.end
            var at = start
            at.pointee = UInt8(ascii: "\"")
            at += 1
            var runStart = 0
            var index = 0
            while true {
                // Skip 8 plain bytes at a time: ASCII, not a control byte, `"`, `\\` or DEL.
                while index &+ 8 <= length {
                    let word = SWAR.load(text + index)
                    if SWAR.hasJSONSpecial(word) != 0 { break }
                    index &+= 8
                }
                while index < length && escapeClasses[Int(text[index])] == JSONWriter.EscapeClass.none { index &+= 1 }
                if index == length { break }
                let byte = text[index]
                var skip = 1
                switch escapeClasses[Int(byte)] {
                case JSONWriter.EscapeClass.short:
                    flush(text, runStart, index, &at)
                    writeShortEscape(byte, &at)
                case JSONWriter.EscapeClass.unicode:
                    flush(text, runStart, index, &at)
                    writeUnicodeEscape(UInt16(byte), &at)
                default:  // 0xE2: only U+2028 / U+2029 are escaped
                    guard index &+ 2 < length, text[index &+ 1] == 0x80,
                          text[index &+ 2] == 0xA8 || text[index &+ 2] == 0xA9 else {
                        index &+= 1
                        continue
                    }
                    flush(text, runStart, index, &at)
                    writeUnicodeEscape(text[index &+ 2] == 0xA8 ? 0x2028 : 0x2029, &at)
                    skip = 3
                }
                index &+= skip
                runStart = index
            }
            flush(text, runStart, length, &at)
            at.pointee = UInt8(ascii: "\"")
            at += 1
            raw.advance(by: start.distance(to: at))
        }

        /// Appends `"<bytes[start..<end] percent-decoded, escaped as appendQuoted does>"` in one
        /// pass and returns true when every decoded byte is ASCII. Otherwise writes nothing and
        /// returns false: the caller decodes into scratch, validates the UTF-8 and quotes.
        /// Decoding is `FormTranscoder.decodeToken`'s.
        mutating func appendDecodedQuotedASCII(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
            // Decoding never lengthens; an escape writes at most 6 bytes per decoded byte. The
            // 8-byte stores below stay inside: at least 8 input bytes remain, so 6 * 8 do.
            raw.reserve(6 &* (end &- start) &+ 2)
            let begin = raw.end
            var at = begin
            at.pointee = UInt8(ascii: "\"")
            at += 1
            var index = start
            while index < end {
                if index &+ 8 <= end {
                    // Copy the word up to its first byte that needs work (all of it if none).
                    let word = SWAR.load(bytes + index)
                    let special = SWAR.hasByte(word, UInt8(ascii: "%")) | SWAR.hasByte(word, UInt8(ascii: "+"))
                        | SWAR.hasJSONSpecial(word)
                    SWAR.store(word, at)
                    if special == 0 {
                        at += 8
                        index &+= 8
                        continue
                    }
                    let plain = special.trailingZeroBitCount >> 3
                    at += plain
                    index &+= plain
                }
                let (byte, next) = FormTranscoder.decodeToken(bytes, index, end)
                index = next
                if byte >= 0x80 { return false }
                switch escapeClasses[Int(byte)] {
                case JSONWriter.EscapeClass.none:
                    at.pointee = byte
                    at += 1
                case JSONWriter.EscapeClass.short:
                    writeShortEscape(byte, &at)
                default:  // control characters and DEL (0xE2's class is not ASCII)
                    writeUnicodeEscape(UInt16(byte), &at)
                }
            }
            at.pointee = UInt8(ascii: "\"")
            at += 1
            raw.advance(by: begin.distance(to: at))
            return true
        }

        @inline(__always)
        private func flush(_ text: UnsafePointer<UInt8>, _ from: Int, _ to: Int, _ at: inout UnsafeMutablePointer<UInt8>) {
            let length = to &- from
            if length > 0 {
                at.update(from: text + from, count: length)
                at += length
            }
        }

        /// `\n`, `\r`, `\t`, `\"` or `\\` (the bytes of `JSONWriter.EscapeClass.short`).
        @inline(__always)
        private func writeShortEscape(_ byte: UInt8, _ at: inout UnsafeMutablePointer<UInt8>) {
            at[0] = 0x5C
            switch byte {
            case 0x0A: at[1] = UInt8(ascii: "n")
            case 0x0D: at[1] = UInt8(ascii: "r")
            case 0x09: at[1] = UInt8(ascii: "t")
            default: at[1] = byte  // `"` and `\`
            }
            at += 2
        }

        @inline(__always)
        private func writeUnicodeEscape(_ scalar: UInt16, _ at: inout UnsafeMutablePointer<UInt8>) {
            at[0] = 0x5C
            at[1] = UInt8(ascii: "u")
            at[2] = Self.hexDigit(UInt8(scalar >> 12))
            at[3] = Self.hexDigit(UInt8((scalar >> 8) & 0xF))
            at[4] = Self.hexDigit(UInt8((scalar >> 4) & 0xF))
            at[5] = Self.hexDigit(UInt8(scalar & 0xF))
            at += 6
        }

        @inline(__always)
        private static func hexDigit(_ value: UInt8) -> UInt8 {
            value < 10 ? 0x30 &+ value : 0x61 &+ (value &- 10)
        }
    }
}
