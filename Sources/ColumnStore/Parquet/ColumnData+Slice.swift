extension ColumnData {
    /// Rows `range` of this column as a column of their own (a copy: arrays, the strings'
    /// bytes and offsets rebased, the validity bitmap shifted). A dictionary column keeps its
    /// whole dictionary and slices its codes. Used to hand the engine only the rows it asked
    /// for (`ParquetFileReader.readColumn(rowGroup:column:rows:)`).
    public func slice(_ range: Range<Int>) -> ColumnData {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "slice \(range) of a column of \(count) rows")
        if range == 0..<count { return self }
        let storage: ColumnStorage
        switch self.storage {
        case .int64(let values): storage = .int64(Array(values[range]))
        case .double(let values): storage = .double(Array(values[range]))
        case .bool(let values): storage = .bool(Array(values[range]))
        case .dictionary(let dictionary, let codes): storage = .dictionary(dictionary: dictionary, codes: Array(codes[range]))
        case .strings(let strings):
            let base = strings.offsets[range.lowerBound]
            let end = strings.offsets[range.upperBound]
            var offsets = [Int32](repeating: 0, count: range.count + 1)
            strings.offsets.withUnsafeBufferPointer { source in
                for index in 0...range.count { offsets[index] = source[range.lowerBound + index] &- base }
            }
            storage = .strings(StringColumn(offsets: offsets, bytes: Array(strings.bytes[Int(base)..<Int(end)])))
        }
        var sliced: [UInt8]? = nil
        if let validity {
            var bits = [UInt8](repeating: 0, count: (range.count + 7) / 8)
            var anyNull = false
            for row in 0..<range.count {
                let source = range.lowerBound + row
                if validity[source >> 3] & (1 << UInt8(source & 7)) != 0 {
                    bits[row >> 3] |= 1 << UInt8(row & 7)
                } else {
                    anyNull = true
                }
            }
            // nil means "no nulls", as the reader returns for an all-valid chunk.
            sliced = anyNull ? bits : nil
        }
        return ColumnData(kind: kind, count: range.count, validity: sliced, storage: storage)
    }
}

extension ColumnData {
    /// The rows at `rows` (ascending or not), as a column of their own: a dictionary column
    /// keeps its dictionary and gathers its codes. The merged `sites` view hands readers the
    /// rows of a base row group that no newer delta replaced (`SitesLayers`).
    public func gather(_ rows: [Int32]) -> ColumnData {
        let storage: ColumnStorage
        switch self.storage {
        case .int64(let values): storage = .int64(rows.map { values[Int($0)] })
        case .double(let values): storage = .double(rows.map { values[Int($0)] })
        case .bool(let values): storage = .bool(rows.map { values[Int($0)] })
        case .dictionary(let dictionary, let codes): storage = .dictionary(dictionary: dictionary, codes: rows.map { codes[Int($0)] })
        case .strings(let strings):
            var offsets = [Int32](repeating: 0, count: rows.count + 1)
            var total = 0
            for (index, row) in rows.enumerated() {
                total += Int(strings.offsets[Int(row) + 1] - strings.offsets[Int(row)])
                offsets[index + 1] = Int32(total)
            }
            var bytes = [UInt8]()
            bytes.reserveCapacity(total)
            strings.bytes.withUnsafeBufferPointer { source in
                for row in rows {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[Int(strings.offsets[Int(row)])..<Int(strings.offsets[Int(row) + 1])]))
                }
            }
            storage = .strings(StringColumn(offsets: offsets, bytes: bytes))
        }
        var gathered: [UInt8]? = nil
        if let validity {
            var bits = [UInt8](repeating: 0, count: (rows.count + 7) / 8)
            var anyNull = false
            for (index, row) in rows.enumerated() {
                let source = Int(row)
                if validity[source >> 3] & (1 << UInt8(source & 7)) != 0 {
                    bits[index >> 3] |= 1 << UInt8(index & 7)
                } else {
                    anyNull = true
                }
            }
            if anyNull { gathered = bits }
        }
        return ColumnData(kind: kind, count: rows.count, validity: gathered, storage: storage)
    }
}
