/// Thrift compact decoding of the metadata structs. Unknown fields are skipped; missing
/// required fields we depend on throw `.badThrift`.
private func required<T>(_ value: T?, _ name: String) throws -> T {
    guard let value else { throw ThriftCompactReader.error("required field \(name) missing") }
    return value
}

private func physicalType(_ raw: Int32) throws -> ParquetPhysicalType {
    guard let type = ParquetPhysicalType(rawValue: raw) else { throw ThriftCompactReader.error("unknown physical type \(raw)") }
    return type
}

extension ParquetFormat.FileMetaData {
    static func decode(_ reader: inout ThriftCompactReader) throws -> Self {
        var result = Self()
        var hasSchema = false, hasNumRows = false, hasRowGroups = false
        try reader.readStruct { reader, id, type in
            switch id {
            case 1: result.version = try reader.readI32(type)
            case 2: result.schema = try reader.readListStruct(type) { try ParquetFormat.SchemaElement.decode(&$0) }; hasSchema = true
            case 3: result.numRows = try reader.readI64(type); hasNumRows = true
            case 4: result.rowGroups = try reader.readListStruct(type) { try ParquetFormat.RowGroup.decode(&$0) }; hasRowGroups = true
            case 5:
                result.keyValueMetadata = try reader.readListStruct(type) { reader in
                    var key: String?, value: String?, valueRange: Range<Int>?
                    try reader.readStruct { reader, id, type in
                        switch id {
                        case 1: key = try reader.readString(type)
                        case 2:
                            let start = reader.position
                            value = try reader.readString(type)
                            // The footer checksum's 8 digits follow a one-byte length (8).
                            if reader.position - start == 1 + ParquetFooterChecksum.placeholder.utf8.count {
                                valueRange = start + 1..<reader.position
                            }
                        default: try reader.skip(type)
                        }
                    }
                    let pair = ParquetFormat.KeyValue(key: try required(key, "KeyValue.key"), value: value)
                    if pair.key == ParquetFooterChecksum.key {
                        result.footerChecksum = .init(range: valueRange, value: value ?? "")
                    }
                    return pair
                }
            case 6: result.createdBy = try reader.readString(type)
            case 7:
                let (elementType, count) = try reader.readListHeader(type)
                for _ in 0..<count { try reader.skip(elementType) }
                result.columnOrdersCount = count
            default: try reader.skip(type)
            }
        }
        guard hasSchema, hasNumRows, hasRowGroups else {
            throw ThriftCompactReader.error("FileMetaData lacks schema, num_rows or row_groups")
        }
        return result
    }
}

extension ParquetFormat.SchemaElement {
    static func decode(_ reader: inout ThriftCompactReader) throws -> Self {
        var result = Self()
        var name: String?
        try reader.readStruct { reader, id, type in
            switch id {
            case 1: result.type = try physicalType(try reader.readI32(type))
            case 2: result.typeLength = try reader.readI32(type)
            case 3: result.repetitionType = try reader.readI32(type)
            case 4: name = try reader.readString(type)
            case 5: result.numChildren = try reader.readI32(type)
            case 6: result.convertedType = try reader.readI32(type)
            case 10: result.logicalType = try ParquetFormat.LogicalType.decode(&reader, type)
            default: try reader.skip(type)
            }
        }
        result.name = try required(name, "SchemaElement.name")
        return result
    }
}

extension ParquetFormat.LogicalType {
    static func decode(_ reader: inout ThriftCompactReader, _ type: ThriftType) throws -> Self? {
        guard type == .structure else { throw ThriftCompactReader.error("LogicalType must be a struct") }
        var result: Self?
        try reader.readStruct { reader, id, type in
            switch id {
            case 1: try reader.skip(type); result = .string
            case 6: try reader.skip(type); result = .date
            case 8:
                guard type == .structure else { throw ThriftCompactReader.error("TimestampType must be a struct") }
                var isAdjustedToUTC = false
                var unit: ParquetTimeUnit?
                try reader.readStruct { reader, id, type in
                    switch id {
                    case 1: isAdjustedToUTC = try reader.readBool(type)
                    case 2:
                        guard type == .structure else { throw ThriftCompactReader.error("TimeUnit must be a struct") }
                        try reader.readStruct { reader, id, type in
                            try reader.skip(type)
                            switch id {
                            case 1: unit = .millis
                            case 2: unit = .micros
                            case 3: unit = .nanos
                            default: break
                            }
                        }
                    default: try reader.skip(type)
                    }
                }
                result = .timestamp(isAdjustedToUTC: isAdjustedToUTC, unit: try required(unit, "TimestampType.unit"))
            case 10:
                guard type == .structure else { throw ThriftCompactReader.error("IntType must be a struct") }
                var bitWidth: Int8 = 64, isSigned = true
                try reader.readStruct { reader, id, type in
                    switch id {
                    case 1: bitWidth = Int8(truncatingIfNeeded: try reader.readI32(type))
                    case 2: isSigned = try reader.readBool(type)
                    default: try reader.skip(type)
                    }
                }
                result = .integer(bitWidth: bitWidth, isSigned: isSigned)
            case 12: try reader.skip(type); result = .json
            default: try reader.skip(type); result = .other(id)
            }
        }
        return result
    }
}

extension ParquetFormat.RowGroup {
    static func decode(_ reader: inout ThriftCompactReader) throws -> Self {
        var result = Self()
        var hasNumRows = false
        try reader.readStruct { reader, id, type in
            switch id {
            case 1: result.columns = try reader.readListStruct(type) { try ParquetFormat.ColumnChunk.decode(&$0) }
            case 2: result.totalByteSize = try reader.readI64(type)
            case 3: result.numRows = try reader.readI64(type); hasNumRows = true
            case 5: result.fileOffset = try reader.readI64(type)
            case 6: result.totalCompressedSize = try reader.readI64(type)
            case 7: result.ordinal = Int16(truncatingIfNeeded: try reader.readI32(type))
            default: try reader.skip(type)
            }
        }
        guard hasNumRows else { throw ThriftCompactReader.error("RowGroup.num_rows missing") }
        return result
    }
}

extension ParquetFormat.ColumnChunk {
    static func decode(_ reader: inout ThriftCompactReader) throws -> Self {
        var result = Self()
        try reader.readStruct { reader, id, type in
            switch id {
            case 1: result.filePath = try reader.readString(type)
            case 2: result.fileOffset = try reader.readI64(type)
            case 3:
                guard type == .structure else { throw ThriftCompactReader.error("ColumnMetaData must be a struct") }
                result.metaData = try ParquetFormat.ColumnMetaData.decode(&reader)
            default: try reader.skip(type)
            }
        }
        return result
    }
}

extension ParquetFormat.ColumnMetaData {
    static func decode(_ reader: inout ThriftCompactReader) throws -> Self {
        var result = Self()
        var type_: ParquetPhysicalType?, codec: ParquetCodec?, numValues: Int64?, dataPageOffset: Int64?
        var compressed: Int64?, uncompressed: Int64?
        try reader.readStruct { reader, id, type in
            switch id {
            case 1: type_ = try physicalType(try reader.readI32(type))
            case 2: result.encodings = try reader.readListI32(type).map(ParquetEncoding.init(rawValue:))
            case 3: result.pathInSchema = try reader.readListString(type)
            case 4: codec = ParquetCodec(rawValue: try reader.readI32(type))
            case 5: numValues = try reader.readI64(type)
            case 6: uncompressed = try reader.readI64(type)
            case 7: compressed = try reader.readI64(type)
            case 9: dataPageOffset = try reader.readI64(type)
            case 11: result.dictionaryPageOffset = try reader.readI64(type)
            case 12:
                guard type == .structure else { throw ThriftCompactReader.error("Statistics must be a struct") }
                result.statistics = try ParquetFormat.Statistics.decode(&reader)
            case 13:
                result.encodingStats = try reader.readListStruct(type) { reader in
                    var pageType: Int32?, encoding: Int32?, count: Int32?
                    try reader.readStruct { reader, id, type in
                        switch id {
                        case 1: pageType = try reader.readI32(type)
                        case 2: encoding = try reader.readI32(type)
                        case 3: count = try reader.readI32(type)
                        default: try reader.skip(type)
                        }
                    }
                    return ParquetFormat.PageEncodingStats(
                        pageType: try required(pageType, "PageEncodingStats.page_type"),
                        encoding: ParquetEncoding(rawValue: try required(encoding, "PageEncodingStats.encoding")),
                        count: try required(count, "PageEncodingStats.count"))
                }
            default: try reader.skip(type)
            }
        }
        result.type = try required(type_, "ColumnMetaData.type")
        result.codec = try required(codec, "ColumnMetaData.codec")
        result.numValues = try required(numValues, "ColumnMetaData.num_values")
        result.dataPageOffset = try required(dataPageOffset, "ColumnMetaData.data_page_offset")
        result.totalCompressedSize = try required(compressed, "ColumnMetaData.total_compressed_size")
        result.totalUncompressedSize = try required(uncompressed, "ColumnMetaData.total_uncompressed_size")
        return result
    }
}

extension ParquetFormat.Statistics {
    static func decode(_ reader: inout ThriftCompactReader) throws -> Self {
        var result = Self()
        try reader.readStruct { reader, id, type in
            switch id {
            case 1: result.legacyMax = try reader.readBinary(type)
            case 2: result.legacyMin = try reader.readBinary(type)
            case 3: result.nullCount = try reader.readI64(type)
            case 4: result.distinctCount = try reader.readI64(type)
            case 5: result.maxValue = try reader.readBinary(type)
            case 6: result.minValue = try reader.readBinary(type)
            default: try reader.skip(type)
            }
        }
        return result
    }
}

extension ParquetFormat.PageHeader {
    static func decode(_ reader: inout ThriftCompactReader) throws -> Self {
        var pageType: Int32?, uncompressed: Int32?, compressed: Int32?, crc: Int32?
        var dataPageHeader: ParquetFormat.DataPageHeader?
        var dictionaryPageHeader: ParquetFormat.DictionaryPageHeader?
        var dataPageHeaderV2: ParquetFormat.DataPageHeaderV2?
        try reader.readStruct { reader, id, type in
            switch id {
            case 1: pageType = try reader.readI32(type)
            case 2: uncompressed = try reader.readI32(type)
            case 3: compressed = try reader.readI32(type)
            case 4: crc = try reader.readI32(type)
            case 5:
                guard type == .structure else { throw ThriftCompactReader.error("DataPageHeader must be a struct") }
                var numValues: Int32?, encoding: Int32?, definition: Int32?, repetition: Int32?
                try reader.readStruct { reader, id, type in
                    switch id {
                    case 1: numValues = try reader.readI32(type)
                    case 2: encoding = try reader.readI32(type)
                    case 3: definition = try reader.readI32(type)
                    case 4: repetition = try reader.readI32(type)
                    default: try reader.skip(type)
                    }
                }
                dataPageHeader = .init(
                    numValues: try required(numValues, "DataPageHeader.num_values"),
                    encoding: ParquetEncoding(rawValue: try required(encoding, "DataPageHeader.encoding")),
                    definitionLevelEncoding: ParquetEncoding(rawValue: definition ?? 3),
                    repetitionLevelEncoding: ParquetEncoding(rawValue: repetition ?? 3))
            case 7:
                guard type == .structure else { throw ThriftCompactReader.error("DictionaryPageHeader must be a struct") }
                var numValues: Int32?, encoding: Int32?
                try reader.readStruct { reader, id, type in
                    switch id {
                    case 1: numValues = try reader.readI32(type)
                    case 2: encoding = try reader.readI32(type)
                    default: try reader.skip(type)
                    }
                }
                dictionaryPageHeader = .init(
                    numValues: try required(numValues, "DictionaryPageHeader.num_values"),
                    encoding: ParquetEncoding(rawValue: encoding ?? 0))
            case 8:
                guard type == .structure else { throw ThriftCompactReader.error("DataPageHeaderV2 must be a struct") }
                var numValues: Int32?, numNulls: Int32?, numRows: Int32?, encoding: Int32?
                var definitionBytes: Int32?, repetitionBytes: Int32?, isCompressed = true
                try reader.readStruct { reader, id, type in
                    switch id {
                    case 1: numValues = try reader.readI32(type)
                    case 2: numNulls = try reader.readI32(type)
                    case 3: numRows = try reader.readI32(type)
                    case 4: encoding = try reader.readI32(type)
                    case 5: definitionBytes = try reader.readI32(type)
                    case 6: repetitionBytes = try reader.readI32(type)
                    case 7: isCompressed = try reader.readBool(type)
                    default: try reader.skip(type)
                    }
                }
                dataPageHeaderV2 = .init(
                    numValues: try required(numValues, "DataPageHeaderV2.num_values"),
                    numNulls: try required(numNulls, "DataPageHeaderV2.num_nulls"),
                    numRows: try required(numRows, "DataPageHeaderV2.num_rows"),
                    encoding: ParquetEncoding(rawValue: try required(encoding, "DataPageHeaderV2.encoding")),
                    definitionLevelsByteLength: try required(definitionBytes, "DataPageHeaderV2.definition_levels_byte_length"),
                    repetitionLevelsByteLength: try required(repetitionBytes, "DataPageHeaderV2.repetition_levels_byte_length"),
                    isCompressed: isCompressed)
            default: try reader.skip(type)
            }
        }
        return Self(
            type: try required(pageType, "PageHeader.type"),
            uncompressedPageSize: try required(uncompressed, "PageHeader.uncompressed_page_size"),
            compressedPageSize: try required(compressed, "PageHeader.compressed_page_size"),
            crc: crc, dataPageHeader: dataPageHeader, dictionaryPageHeader: dictionaryPageHeader, dataPageHeaderV2: dataPageHeaderV2)
    }
}
