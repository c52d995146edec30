/// Decoder for the RLE/bit-packed hybrid over raw page bytes.
///
/// Robust against hostile input: every read is bounds-checked, run lengths are clamped to
/// the values still wanted (writers pad the last bit-packed group), and a run that would
/// need bytes past the end throws.
struct RleHybridDecoder {
    private let data: UnsafeRawBufferPointer
    private var position = 0
    let bitWidth: Int
    /// Values left over from the current run.
    private var rleValue: UInt32 = 0
    private var rleLeft = 0
    private var packedStart = 0
    private var packedIndex = 0
    private var packedLeft = 0

    /// Whether bit-packed values are read one at a time only (`unpackOneByOne`): the
    /// reference of the whole-group path, for the equivalence test.
    private let oneByOne: Bool

    init(_ data: UnsafeRawBufferPointer, bitWidth: Int, oneByOne: Bool = false) throws {
        guard bitWidth >= 0 && bitWidth <= 32 else {
            throw ParquetError(.badPage, "RLE bit width \(bitWidth) out of range 0...32")
        }
        self.data = data
        self.bitWidth = bitWidth
        self.oneByOne = oneByOne
    }

    /// Byte offset just past the last run read.
    var bytesConsumed: Int { position }

    /// True when the data starts with an RLE run of `value` at least `count` long
    /// (does not consume anything).
    func startsWithRun(of value: UInt32, covering count: Int) throws -> Bool {
        var probe = self
        let header = try probe.readVarint()
        guard header & 1 == 0, header >> 1 >= UInt64(count) else { return false }
        var runValue: UInt32 = 0
        let valueBytes = (bitWidth + 7) / 8
        guard probe.position + valueBytes <= data.count else { return false }
        for index in 0..<valueBytes { runValue |= UInt32(data[probe.position + index]) << UInt32(8 * index) }
        return runValue == value
    }

    /// Decodes exactly `count` values into `output`.
    mutating func decode(into output: UnsafeMutablePointer<UInt32>, count: Int) throws {
        var produced = 0
        while produced < count {
            if rleLeft > 0 {
                let take = min(rleLeft, count - produced)
                (output + produced).initialize(repeating: rleValue, count: take)
                produced += take
                rleLeft -= take
            } else if packedLeft > 0 {
                let take = min(packedLeft, count - produced)
                unpack(into: output + produced, count: take)
                produced += take
                packedLeft -= take
            } else {
                try readRunHeader()
            }
        }
    }

    /// Adds the next `total` values to `counts` (one counter per value): an RLE run adds its
    /// length at once, bit-packed values are unpacked a block at a time and counted. A value
    /// with no counter throws. `decode` and counting what it wrote is the reference (the
    /// equivalence test runs both over every width).
    mutating func count(_ total: Int, into counts: UnsafeMutableBufferPointer<Int64>) throws {
        let blockValues = 256
        try withUnsafeTemporaryAllocation(of: UInt32.self, capacity: blockValues) { block in
            let values = block.baseAddress!
            var remaining = total
            while remaining > 0 {
                if rleLeft > 0 {
                    let take = min(rleLeft, remaining)
                    guard Int(rleValue) < counts.count else { throw Self.noCounter(rleValue, counts.count) }
                    counts[Int(rleValue)] &+= Int64(take)
                    remaining -= take
                    rleLeft -= take
                } else if packedLeft > 0 {
                    let take = min(packedLeft, remaining, blockValues)
                    unpack(into: values, count: take)
                    var largest: UInt32 = 0
                    for index in 0..<take { largest = max(largest, values[index]) }
                    guard Int(largest) < counts.count else { throw Self.noCounter(largest, counts.count) }
                    for index in 0..<take { counts[Int(values[index])] &+= 1 }
                    remaining -= take
                    packedLeft -= take
                } else {
                    try readRunHeader()
                }
            }
        }
    }

    private static func noCounter(_ value: UInt32, _ counters: Int) -> ParquetError {
        ParquetError(.badPage, "dictionary id \(value) out of range for \(counters) entries")
    }

    private mutating func readRunHeader() throws {
        let header = try readVarint()
        if header & 1 == 0 {
            let runLength = header >> 1
            guard runLength > 0 else { throw ParquetError(.badPage, "RLE run of length 0") }
            let valueBytes = (bitWidth + 7) / 8
            guard position + valueBytes <= data.count else {
                throw ParquetError(.badPage, "RLE run value past the end of \(data.count) bytes")
            }
            var value: UInt32 = 0
            for index in 0..<valueBytes { value |= UInt32(data[position + index]) << UInt32(8 * index) }
            position += valueBytes
            if bitWidth < 32 && value >> UInt32(bitWidth) != 0 {
                throw ParquetError(.badPage, "RLE value \(value) wider than \(bitWidth) bits")
            }
            rleValue = value
            rleLeft = Int(min(runLength, UInt64(Int32.max)))
        } else {
            let groups = header >> 1
            guard groups > 0 else { throw ParquetError(.badPage, "bit-packed run of 0 groups") }
            guard groups <= UInt64(Int32.max / 8) else { throw ParquetError(.badPage, "bit-packed run of \(groups) groups") }
            let values = Int(groups) * 8
            let byteCount = Int(groups) * bitWidth
            // Some writers truncate the final run to the bytes actually needed; accept that
            // and let `decode` fail only if values past the data are actually requested.
            let available = min(byteCount, data.count - position)
            let valuesAvailable = bitWidth == 0 ? values : (available * 8) / bitWidth
            guard valuesAvailable > 0 else { throw ParquetError(.badPage, "bit-packed run past the end of \(data.count) bytes") }
            packedStart = position
            packedIndex = 0
            packedLeft = valuesAvailable
            position += available
        }
    }

    private mutating func unpack(into output: UnsafeMutablePointer<UInt32>, count: Int) {
        if bitWidth == 0 {
            output.initialize(repeating: 0, count: count)
            packedIndex += count
            return
        }
        var slot = 0
        if bitWidth <= 8 && !oneByOne {
            // Whole groups of 8 values from a group boundary: a group is `bitWidth` bytes,
            // byte-aligned, so one 8-byte load holds all 8 values (the bytes past the group,
            // the next group's or run header's, are shifted off). Values before the first
            // boundary and after the last whole group take `unpackOneByOne`.
            let lead = min(count, (8 &- (packedIndex & 7)) & 7)
            unpackOneByOne(into: output, from: 0, to: lead)
            slot = lead
            let width = UInt64(bitWidth)
            let mask: UInt64 = (1 << width) &- 1
            let end = data.count
            while slot &+ 8 <= count {
                let byte = packedStart &+ ((packedIndex &+ slot) >> 3) &* bitWidth
                guard byte &+ 8 <= end else { break }
                let word = data.loadUnaligned(fromByteOffset: byte, as: UInt64.self).littleEndian
                let group = output + slot
                group[0] = UInt32(truncatingIfNeeded: word & mask)
                group[1] = UInt32(truncatingIfNeeded: (word >> width) & mask)
                group[2] = UInt32(truncatingIfNeeded: (word >> (2 &* width)) & mask)
                group[3] = UInt32(truncatingIfNeeded: (word >> (3 &* width)) & mask)
                group[4] = UInt32(truncatingIfNeeded: (word >> (4 &* width)) & mask)
                group[5] = UInt32(truncatingIfNeeded: (word >> (5 &* width)) & mask)
                group[6] = UInt32(truncatingIfNeeded: (word >> (6 &* width)) & mask)
                group[7] = UInt32(truncatingIfNeeded: (word >> (7 &* width)) & mask)
                slot &+= 8
            }
        }
        unpackOneByOne(into: output, from: slot, to: count)
        packedIndex += count
    }

    /// Values `from..<to` of the current `unpack` call (packed values `packedIndex + from…`),
    /// one 8-byte load each.
    private func unpackOneByOne(into output: UnsafeMutablePointer<UInt32>, from: Int, to: Int) {
        let width = UInt64(bitWidth)
        let mask: UInt64 = (1 << width) - 1
        // A value's bits lie inside its run (readRunHeader checked the run's bytes), but the
        // 8-byte load that fetches them may reach past the run into the next one's header:
        // those bytes are masked off. Only the end of the whole buffer needs the byte loop
        // (bounding by the run's end instead took it for every value of a short run).
        let end = data.count
        for slot in from..<max(from, to) {
            let bit = UInt64(packedIndex + slot) * width
            let byte = packedStart + Int(bit >> 3)
            let shift = bit & 7
            var word: UInt64 = 0
            if byte + 8 <= end {
                word = data.loadUnaligned(fromByteOffset: byte, as: UInt64.self).littleEndian
            } else {
                for index in 0..<min(8, end - byte) { word |= UInt64(data[byte + index]) << UInt64(8 * index) }
            }
            output[slot] = UInt32(truncatingIfNeeded: (word >> shift) & mask)
        }
    }

    private mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < data.count else { throw ParquetError(.badPage, "RLE data ends inside a run header") }
            let byte = data[position]
            position += 1
            guard shift < 64 else { throw ParquetError(.badPage, "RLE run header varint too long") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }
}
