/// Encoder for Parquet's RLE/bit-packed hybrid (definition levels, dictionary ids).
///
/// Runs of 8 or more equal values become RLE runs; everything else is bit-packed in whole
/// groups of 8 (the last group zero-padded), because some readers hang on partial groups.
/// No length prefix is written here; callers add it where the format wants one.
struct RleHybridEncoder {
    let bitWidth: Int
    private(set) var bytes: [UInt8] = []

    init(bitWidth: Int) {
        precondition(bitWidth >= 0 && bitWidth <= 32)
        self.bitWidth = bitWidth
    }

    mutating func encode(_ values: UnsafeBufferPointer<UInt32>) {
        let count = values.count
        var literalStart = 0
        var index = 0
        while index < count {
            let value = values[index]
            var runEnd = index + 1
            while runEnd < count && values[runEnd] == value { runEnd += 1 }
            var runLength = runEnd - index
            let pending = index - literalStart
            // A lone trailing run (or width 0) is cheapest as one RLE run even if short.
            let wholeTail = pending == 0 && runEnd == count
            if runLength >= 8 || wholeTail || bitWidth == 0 {
                if pending % 8 != 0 {
                    // Fill the open literal group from this run so literals stay whole groups.
                    let pad = 8 - pending % 8
                    if runLength - pad >= 8 {
                        index += pad
                        runLength -= pad
                    } else {
                        index = runEnd
                        continue
                    }
                }
                writeBitPacked(values, literalStart..<index)
                writeRle(value, count: runLength)
                index += runLength
                literalStart = index
            } else {
                index = runEnd
            }
        }
        writeBitPacked(values, literalStart..<count)
    }

    private mutating func writeRle(_ value: UInt32, count: Int) {
        writeVarint(UInt64(count) << 1)
        var rest = value
        for _ in 0..<((bitWidth + 7) / 8) {
            bytes.append(UInt8(truncatingIfNeeded: rest))
            rest >>= 8
        }
    }

    private mutating func writeBitPacked(_ values: UnsafeBufferPointer<UInt32>, _ range: Range<Int>) {
        if range.isEmpty { return }
        let groups = (range.count + 7) / 8
        writeVarint(UInt64(groups) << 1 | 1)
        var buffer: UInt64 = 0
        var bitsInBuffer = 0
        for slot in 0..<(groups * 8) {
            let position = range.lowerBound + slot
            let value = position < range.upperBound ? UInt64(values[position]) : 0
            buffer |= value << UInt64(bitsInBuffer)
            bitsInBuffer += bitWidth
            while bitsInBuffer >= 8 {
                bytes.append(UInt8(truncatingIfNeeded: buffer))
                buffer >>= 8
                bitsInBuffer -= 8
            }
        }
        // groups * 8 * bitWidth is a whole number of bytes, so nothing is left over.
    }

    private mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Bits needed to store `maxValue` (0 for 0).
    static func bitWidth(forMax maxValue: UInt32) -> Int {
        maxValue == 0 ? 0 : 32 - maxValue.leadingZeroBitCount
    }
}
