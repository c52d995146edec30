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

    init(_ data: UnsafeRawBufferPointer, bitWidth: Int) throws {
        guard bitWidth >= 0 && bitWidth <= 32 else {
            throw ParquetError(.badPage, "RLE bit width \(bitWidth) out of range 0...32")
        }
        self.data = data
        self.bitWidth = bitWidth
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
        let width = UInt64(bitWidth)
        let mask: UInt64 = (1 << width) - 1
        // A value's bits lie inside its run (readRunHeader checked the run's bytes), but the
        // 8-byte load that fetches them may reach past the run into the next one's header:
        // those bytes are masked off. Only the end of the whole buffer needs the byte loop
        // (bounding by the run's end instead took it for every value of a short run).
        let end = data.count
        for slot in 0..<count {
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
        packedIndex += count
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
