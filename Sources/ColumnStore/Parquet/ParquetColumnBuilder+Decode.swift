/// Value decoding: PLAIN, dictionary ids, RLE booleans, dictionary pages.
/// Loops work on raw buffers; sizes are checked once per page before the loop.
extension ParquetColumnBuilder {
    mutating func appendPlain(_ pageRows: Int, _ levels: UnsafeBufferPointer<UInt32>?, _ present: Int,
                              _ values: UnsafeRawBufferPointer) throws {
        let maxLevel = UInt32(leaf.maxDefinitionLevel)
        if leaf.column.kind == .string, stringDictionary != nil { materializeCodes() }
        func need(_ width: Int) throws {
            guard present.multipliedReportingOverflow(by: width).partialValue <= values.count else {
                throw ParquetError(.badPage, "\(present) PLAIN \(leaf.physicalType) values need \(present * width) bytes, page has \(values.count)")
            }
        }
        switch leaf.physicalType {
        case .int64:
            try need(8)
            let unit = leaf.timeUnit
            if present == pageRows && (unit == nil || unit == .micros) {
                Self.appendRaw(values, count: present, to: &int64s)
                return
            }
            if unit == nil || unit == .micros {
                Self.appendSpread(pageRows, levels, maxLevel: maxLevel, to: &int64s) { index in
                    Int64(littleEndian: values.loadUnaligned(fromByteOffset: index &* 8, as: Int64.self))
                }
                return
            }
            Self.forEachRow(pageRows, levels, maxLevel: maxLevel) { index in
                guard let index else { int64s.append(0); return }
                let raw = Int64(littleEndian: values.loadUnaligned(fromByteOffset: index * 8, as: Int64.self))
                int64s.append(ParquetFileReader.normalizeTimestamp(raw, unit))
            }
        case .int32:
            try need(4)
            Self.forEachRow(pageRows, levels, maxLevel: maxLevel) { index in
                guard let index else { int64s.append(0); return }
                int64s.append(Int64(Int32(littleEndian: values.loadUnaligned(fromByteOffset: index * 4, as: Int32.self))))
            }
        case .double:
            try need(8)
            if present == pageRows {
                Self.appendRaw(values, count: present, to: &doubles)
                return
            }
            Self.appendSpread(pageRows, levels, maxLevel: maxLevel, to: &doubles) { index in
                Double(bitPattern: UInt64(littleEndian: values.loadUnaligned(fromByteOffset: index &* 8, as: UInt64.self)))
            }
        case .float:
            try need(4)
            Self.forEachRow(pageRows, levels, maxLevel: maxLevel) { index in
                guard let index else { doubles.append(0); return }
                doubles.append(Double(Float(bitPattern: UInt32(littleEndian: values.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))))
            }
        case .boolean:
            guard (present + 7) / 8 <= values.count else {
                throw ParquetError(.badPage, "\(present) PLAIN booleans need \((present + 7) / 8) bytes, page has \(values.count)")
            }
            Self.forEachRow(pageRows, levels, maxLevel: maxLevel) { index in
                guard let index else { bools.append(0); return }
                bools.append((values[index >> 3] >> UInt8(index & 7)) & 1)
            }
        case .byteArray:
            // Lengths are variable: split first (bounds-checked), then append in row order.
            guard present <= values.count / 4 else {
                throw ParquetError(.badPage, "\(present) BYTE_ARRAY values cannot fit in \(values.count) bytes")
            }
            var ranges: [Range<Int>] = []
            ranges.reserveCapacity(present)
            var position = 0
            for _ in 0..<present {
                guard position + 4 <= values.count else {
                    throw ParquetError(.badPage, "PLAIN BYTE_ARRAY values end after \(ranges.count) of \(present)")
                }
                let length = Int(UInt32(littleEndian: values.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
                position += 4
                guard length <= values.count - position else {
                    throw ParquetError(.badPage, "BYTE_ARRAY value of \(length) bytes past the page end")
                }
                ranges.append(position..<position + length)
                position += length
            }
            // StringColumn offsets are Int32.
            guard strings.bytes.count + position <= Int(Int32.max) else {
                throw ParquetError(.unsupported, "string column chunk over 2 GiB")
            }
            Self.forEachRow(pageRows, levels, maxLevel: maxLevel) { index in
                guard let index else { strings.appendEmpty(); return }
                strings.append(bytes: UnsafeRawBufferPointer(rebasing: values[ranges[index]]))
            }
        case .int96, .fixedLenByteArray:
            throw ParquetError(.unsupported, "physical type \(leaf.physicalType)")
        }
    }

    /// Bulk copy of `count` little-endian fixed-width values (pages without nulls).
    /// The page buffer may be unaligned, hence a byte copy instead of rebinding memory.
    /// Appends `pageRows` values, the `i`-th present one being `value(i)` and absent rows 0:
    /// the output grows once and is filled through a pointer, instead of an `append` (and a
    /// uniqueness check) per row. The caller has checked that `present` values fit in the page,
    /// and `present` is the number of levels equal to `maxLevel`, so `value` stays in bounds.
    @inline(__always)
    static func appendSpread<T: AdditiveArithmetic>(_ pageRows: Int, _ levels: UnsafeBufferPointer<UInt32>?, maxLevel: UInt32,
                                                    to output: inout [T], _ value: (Int) -> T) {
        guard pageRows > 0 else { return }
        let start = output.count
        output.append(contentsOf: repeatElement(T.zero, count: pageRows))
        output.withUnsafeMutableBufferPointer { buffer in
            let out = buffer.baseAddress! + start
            if let levels {
                var next = 0
                for row in 0..<pageRows where levels[row] == maxLevel {
                    out[row] = value(next)
                    next &+= 1
                }
            } else {
                for row in 0..<pageRows { out[row] = value(row) }
            }
        }
    }

    static func appendRaw<T: AdditiveArithmetic>(_ values: UnsafeRawBufferPointer, count: Int, to output: inout [T]) {
        guard count > 0 else { return }
        let stride = MemoryLayout<T>.stride
        let start = output.count
        output.append(contentsOf: repeatElement(T.zero, count: count))
        output.withUnsafeMutableBytes { raw in
            UnsafeMutableRawBufferPointer(rebasing: raw[(start * stride)..<((start + count) * stride)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: values[0..<(count * stride)]))
        }
    }

    mutating func appendDictionaryIds(_ pageRows: Int, _ levels: UnsafeBufferPointer<UInt32>?, _ present: Int,
                                      _ values: UnsafeRawBufferPointer) throws {
        let maxLevel = UInt32(leaf.maxDefinitionLevel)
        guard let dictionary else { throw ParquetError(.badPage, "dictionary-encoded page without a dictionary page") }
        let dictionaryCount = UInt32(dictionary.count)
        if levels == nil, case .strings(let entries) = dictionary, stringDictionary != nil || rows == 0 {
            // The common case (a required string column kept as codes): the ids are decoded
            // straight into the column's codes, with no page-sized copy in between.
            stringDictionary = entries
            guard present > 0 else { return }
            let start = codes.count
            codes.append(contentsOf: repeatElement(0, count: present))
            try codes.withUnsafeMutableBufferPointer { all in
                let tail = UnsafeMutableBufferPointer(rebasing: all[start...])
                try Self.decodeDictionaryIds(values, count: present, below: dictionaryCount, into: tail)
            }
            return
        }
        var ids = [UInt32](repeating: 0, count: present)
        if present > 0 {
            try ids.withUnsafeMutableBufferPointer {
                try Self.decodeDictionaryIds(values, count: present, below: dictionaryCount, into: $0)
            }
        }
        // Ids were checked against the dictionary above; `present` ids were decoded.
        switch dictionary {
        case .int64(let entries):
            ids.withUnsafeBufferPointer { ids in
                entries.withUnsafeBufferPointer { entries in
                    Self.appendSpread(pageRows, levels, maxLevel: maxLevel, to: &int64s) { entries[Int(ids[$0])] }
                }
            }
        case .double(let entries):
            ids.withUnsafeBufferPointer { ids in
                entries.withUnsafeBufferPointer { entries in
                    Self.appendSpread(pageRows, levels, maxLevel: maxLevel, to: &doubles) { entries[Int(ids[$0])] }
                }
            }
        case .bool(let entries):
            ids.withUnsafeBufferPointer { ids in
                entries.withUnsafeBufferPointer { entries in
                    Self.appendSpread(pageRows, levels, maxLevel: maxLevel, to: &bools) { entries[Int(ids[$0])] }
                }
            }
        case .strings(let entries):
            if stringDictionary != nil || rows == 0 {
                stringDictionary = entries
                if levels == nil {
                    codes.append(contentsOf: ids)
                } else {
                    ids.withUnsafeBufferPointer { ids in
                        Self.appendSpread(pageRows, levels, maxLevel: maxLevel, to: &codes) { ids[$0] }
                    }
                }
            } else {
                // Earlier PLAIN pages already produced strings: keep materializing.
                entries.bytes.withUnsafeBytes { raw in
                    Self.forEachRow(pageRows, levels, maxLevel: maxLevel) { index in
                        guard let index else { strings.appendEmpty(); return }
                        strings.append(bytes: UnsafeRawBufferPointer(rebasing: raw[entries.range(at: Int(ids[index]))]))
                    }
                }
            }
        }
    }

    /// The decoder of a dictionary-encoded page's values: a bit-width byte, then RLE/bit-packed runs.
    static func dictionaryIdDecoder(_ values: UnsafeRawBufferPointer) throws -> RleHybridDecoder {
        guard values.count >= 1 else { throw ParquetError(.badPage, "dictionary page data lacks the bit width byte") }
        return try RleHybridDecoder(UnsafeRawBufferPointer(rebasing: values[1...]), bitWidth: Int(values[0]))
    }

    /// A dictionary page's ids (a bit-width byte, then RLE/bit-packed runs) into `ids`, each
    /// checked to name an entry: one pass for the largest id (vectorizes), a second only to
    /// name the bad one.
    static func decodeDictionaryIds(_ values: UnsafeRawBufferPointer, count: Int, below dictionaryCount: UInt32,
                                    into ids: UnsafeMutableBufferPointer<UInt32>) throws {
        precondition(ids.count == count && count > 0, "one decoded id per present value")
        var decoder = try dictionaryIdDecoder(values)
        try decoder.decode(into: ids.baseAddress!, count: count)
        var largest: UInt32 = 0
        for id in ids { largest = max(largest, id) }
        guard largest >= dictionaryCount else { return }
        let id = ids.first { $0 >= dictionaryCount } ?? largest
        throw ParquetError(.badPage, "dictionary id \(id) out of range for \(dictionaryCount) entries")
    }

    /// RLE-encoded booleans (DataPageV2 default in Arrow): 4-byte length, then width-1 runs.
    mutating func appendRleBooleans(_ pageRows: Int, _ levels: UnsafeBufferPointer<UInt32>?, _ present: Int,
                                    _ values: UnsafeRawBufferPointer) throws {
        let maxLevel = UInt32(leaf.maxDefinitionLevel)
        guard values.count >= 4 else { throw ParquetError(.badPage, "RLE boolean data lacks its length prefix") }
        let length = Int(UInt32(littleEndian: values.loadUnaligned(as: UInt32.self)))
        guard length <= values.count - 4 else { throw ParquetError(.badPage, "RLE boolean length \(length) past the page end") }
        var decoded = [UInt32](repeating: 0, count: present)
        if present > 0 {
            var decoder = try RleHybridDecoder(UnsafeRawBufferPointer(rebasing: values[4..<4 + length]), bitWidth: 1)
            try decoded.withUnsafeMutableBufferPointer { try decoder.decode(into: $0.baseAddress!, count: present) }
        }
        Self.forEachRow(pageRows, levels, maxLevel: maxLevel) { index in bools.append(index.map { UInt8(decoded[$0]) } ?? 0) }
    }

    /// Decodes a PLAIN dictionary page body.
    mutating func setDictionary(_ body: UnsafeRawBufferPointer, count: Int) throws {
        guard dictionary == nil else { throw ParquetError(.badPage, "second dictionary page in one chunk") }
        guard rows == 0 else { throw ParquetError(.badPage, "dictionary page after data pages") }
        // Every entry takes at least one bit (booleans) and 4 bytes for byte arrays; checked
        // before sizing buffers by the header's claim.
        let bytesPerEntryMin = leaf.physicalType == .boolean ? 0 : (leaf.physicalType == .int32 || leaf.physicalType == .float || leaf.physicalType == .byteArray ? 4 : 8)
        guard count >= 0, count <= body.count * 8, count * bytesPerEntryMin <= body.count else {
            throw ParquetError(.badPage, "dictionary of \(count) entries in \(body.count) bytes")
        }
        var scratch = ParquetColumnBuilder(leaf: leaf, rowCount: count)
        try scratch.appendPlain(count, nil, count, body)
        switch leaf.physicalType {
        case .int64, .int32: dictionary = .int64(scratch.int64s)
        case .double, .float: dictionary = .double(scratch.doubles)
        case .boolean: dictionary = .bool(scratch.bools)
        case .byteArray: dictionary = .strings(scratch.strings)
        case .int96, .fixedLenByteArray: throw ParquetError(.unsupported, "dictionary of \(leaf.physicalType)")
        }
    }

    /// Turns the codes read so far into strings (a PLAIN fallback page follows).
    private mutating func materializeCodes() {
        guard let entries = stringDictionary else { return }
        var expanded = StringColumn()
        expanded.reserveCapacity(values: rowCount, bytes: 0)
        entries.bytes.withUnsafeBytes { raw in
            for row in 0..<rows {
                if validity.isValid(row) {
                    expanded.append(bytes: UnsafeRawBufferPointer(rebasing: raw[entries.range(at: Int(codes[row]))]))
                } else {
                    expanded.appendEmpty()
                }
            }
        }
        strings = expanded
        codes = []
        stringDictionary = nil
    }
}
