import Core

/// Footer interpretation: flat schema leaves, row group consistency, statistics decoding.
extension ParquetFileReader {
    static func leaves(of elements: [ParquetFormat.SchemaElement]) throws -> [ParquetLeaf] {
        guard let root = elements.first else { throw ParquetError(.badMetadata, "empty schema") }
        let childCount = Int(root.numChildren ?? 0)
        guard childCount == elements.count - 1, childCount > 0 else {
            throw ParquetError(.unsupported, "schema is not flat: root has \(childCount) children, \(elements.count - 1) elements follow")
        }
        return try elements.dropFirst().map { element in
            guard (element.numChildren ?? 0) == 0, let type = element.type else {
                throw ParquetError(.unsupported, "nested column '\(element.name)' (only flat schemas are read)")
            }
            let repetition = element.repetitionType ?? 0
            guard repetition == 0 || repetition == 1 else {
                throw ParquetError(.unsupported, "repeated column '\(element.name)'")
            }
            var timeUnit: ParquetTimeUnit?
            if case .timestamp(_, let unit) = element.logicalType {
                timeUnit = unit
            } else if element.convertedType == ParquetConvertedType.timestampMillis {
                timeUnit = .millis
            } else if element.convertedType == ParquetConvertedType.timestampMicros {
                timeUnit = .micros
            }
            let kind: ColumnKind
            switch type {
            case .boolean: kind = .bool
            case .int32: kind = .int64
            case .int64: kind = timeUnit == nil ? .int64 : .timestamp
            case .float, .double: kind = .double
            case .byteArray: kind = .string
            case .int96, .fixedLenByteArray:
                throw ParquetError(.unsupported, "column '\(element.name)' has physical type \(type)")
            }
            return ParquetLeaf(column: ParquetColumn(name: element.name, kind: kind, isOptional: repetition == 1),
                               physicalType: type, timeUnit: type == .int64 ? timeUnit : nil)
        }
    }

    static func rowGroupInfos(_ metaData: ParquetFormat.FileMetaData, leaves: [ParquetLeaf],
                              footerStart: Int) throws -> [ParquetRowGroupInfo] {
        var totalRows: Int64 = 0
        let groups = try metaData.rowGroups.enumerated().map { index, group -> ParquetRowGroupInfo in
            func fail(_ message: String) -> ParquetError { ParquetError(.badMetadata, "row group \(index): \(message)") }
            guard group.numRows >= 0, group.numRows <= Int64(rowGroupRowsMax) else { throw fail("row count \(group.numRows)") }
            guard group.columns.count == leaves.count else {
                throw fail("\(group.columns.count) column chunks for \(leaves.count) columns")
            }
            totalRows += group.numRows
            let columns = try zip(group.columns, leaves).map { chunk, leaf -> ParquetColumnChunkInfo in
                guard chunk.filePath == nil else { throw fail("column '\(leaf.column.name)' lives in another file") }
                guard let meta = chunk.metaData else { throw fail("column '\(leaf.column.name)' has no metadata") }
                guard meta.type == leaf.physicalType else {
                    throw fail("column '\(leaf.column.name)' chunk type \(meta.type), schema says \(leaf.physicalType)")
                }
                guard meta.numValues == group.numRows else {
                    throw fail("column '\(leaf.column.name)' has \(meta.numValues) values for \(group.numRows) rows")
                }
                let range = try chunkRange(meta, footerStart: footerStart)
                return ParquetColumnChunkInfo(
                    physicalType: meta.type, codec: meta.codec, encodings: meta.encodings, valueCount: Int(meta.numValues),
                    nullCount: meta.statistics?.nullCount.map { Int(clamping: $0) },
                    min: statValue(meta.statistics?.minValue ?? legacy(meta, \.legacyMin), leaf),
                    max: statValue(meta.statistics?.maxValue ?? legacy(meta, \.legacyMax), leaf),
                    compressedByteCount: range.count, uncompressedByteCount: Int(clamping: meta.totalUncompressedSize),
                    dataPageOffset: Int(meta.dataPageOffset),
                    dictionaryPageOffset: range.lowerBound < Int(meta.dataPageOffset) ? range.lowerBound : nil,
                    isFullyDictionaryEncoded: meta.encodingStats.map { stats in
                        stats.allSatisfy { $0.pageType != ParquetPageType.dataPage.rawValue && $0.pageType != ParquetPageType.dataPageV2.rawValue
                            || $0.encoding == .rleDictionary || $0.encoding == .plainDictionary }
                    })
            }
            return ParquetRowGroupInfo(rowCount: Int(group.numRows), totalByteCount: Int(clamping: group.totalByteSize), columns: columns)
        }
        guard totalRows == metaData.numRows else {
            throw ParquetError(.badMetadata, "row groups hold \(totalRows) rows, footer says \(metaData.numRows)")
        }
        return groups
    }

    /// Byte range of a chunk: from the dictionary page (if any) over total_compressed_size,
    /// which must lie between the leading magic and the footer.
    static func chunkRange(_ meta: ParquetFormat.ColumnMetaData, footerStart: Int) throws -> Range<Int> {
        var start = meta.dataPageOffset
        if let dictionaryOffset = meta.dictionaryPageOffset, dictionaryOffset >= 4, dictionaryOffset < start {
            start = dictionaryOffset
        }
        let length = meta.totalCompressedSize
        // Empty chunks only make sense for empty row groups.
        guard start >= 4, length > 0 || meta.numValues == 0, start <= Int64(footerStart), length >= 0,
              length <= Int64(footerStart) - start else {
            throw ParquetError(.badMetadata, "column chunk at \(start) of \(length) bytes lies outside the data region 4..<\(footerStart)")
        }
        return Int(start)..<Int(start + length)
    }

    /// Legacy min/max are signed-compared; trust them only for numbers.
    private static func legacy(_ meta: ParquetFormat.ColumnMetaData, _ field: KeyPath<ParquetFormat.Statistics, [UInt8]?>) -> [UInt8]? {
        meta.type == .byteArray ? nil : meta.statistics?[keyPath: field]
    }

    static func statValue(_ bytes: [UInt8]?, _ leaf: ParquetLeaf) -> ParquetValue? {
        guard let bytes else { return nil }
        func integer(_ width: Int) -> UInt64? {
            guard bytes.count == width else { return nil }
            return bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
        }
        switch leaf.physicalType {
        case .boolean: return bytes.count == 1 ? .bool(bytes[0] != 0) : nil
        case .int32: return integer(4).map { .int64(Int64(Int32(truncatingIfNeeded: $0))) }
        case .int64: return integer(8).map { .int64(normalizeTimestamp(Int64(bitPattern: $0), leaf.timeUnit)) }
        case .float: return integer(4).map { .double(Double(Float(bitPattern: UInt32($0)))) }
        case .double: return integer(8).map { .double(Double(bitPattern: $0)) }
        case .byteArray: return .bytes(bytes)
        case .int96, .fixedLenByteArray: return nil
        }
    }

    /// Timestamps to microseconds; nanoseconds round toward negative infinity.
    static func normalizeTimestamp(_ value: Int64, _ unit: ParquetTimeUnit?) -> Int64 {
        switch unit {
        case .millis: return value &* 1000
        case .nanos: return value / 1000 - (value % 1000 < 0 ? 1 : 0)
        case .micros, nil: return value
        }
    }
}
