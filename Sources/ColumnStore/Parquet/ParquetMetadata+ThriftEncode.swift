/// Thrift compact encoding of the metadata structs (field ids from parquet.thrift).
extension ParquetFormat.FileMetaData {
    /// Encodes the footer; when `keyValueMetadata` holds `ParquetFooterChecksum.key` with the
    /// placeholder value, the result is sealed with its CRC (see `ParquetFooterChecksum`).
    func encode() -> [UInt8] {
        var writer = ThriftCompactWriter()
        var checksumRange: Range<Int>?
        writer.structBegin()
        writer.fieldI32(1, version)
        writer.fieldListStruct(2, count: schema.count) { writer, index in schema[index].encode(into: &writer) }
        writer.fieldI64(3, numRows)
        writer.fieldListStruct(4, count: rowGroups.count) { writer, index in rowGroups[index].encode(into: &writer) }
        if !keyValueMetadata.isEmpty {
            writer.fieldListStruct(5, count: keyValueMetadata.count) { writer, index in
                writer.fieldString(1, keyValueMetadata[index].key)
                if let value = keyValueMetadata[index].value { writer.fieldString(2, value) }
                if keyValueMetadata[index].key == ParquetFooterChecksum.key,
                   keyValueMetadata[index].value == ParquetFooterChecksum.placeholder {
                    checksumRange = writer.bytes.count - ParquetFooterChecksum.placeholder.utf8.count..<writer.bytes.count
                }
            }
        }
        if let createdBy { writer.fieldString(6, createdBy) }
        if columnOrdersCount > 0 {
            // ColumnOrder union, member 1 TYPE_ORDER = empty struct.
            writer.fieldListStruct(7, count: columnOrdersCount) { writer, _ in writer.fieldStruct(1) { _ in } }
        }
        writer.structEnd()
        var bytes = writer.bytes
        if let checksumRange { ParquetFooterChecksum.seal(&bytes, at: checksumRange) }
        return bytes
    }
}

extension ParquetFormat.SchemaElement {
    func encode(into writer: inout ThriftCompactWriter) {
        if let type { writer.fieldI32(1, type.rawValue) }
        if let typeLength { writer.fieldI32(2, typeLength) }
        if let repetitionType { writer.fieldI32(3, repetitionType) }
        writer.fieldString(4, name)
        if let numChildren { writer.fieldI32(5, numChildren) }
        if let convertedType { writer.fieldI32(6, convertedType) }
        if let logicalType {
            writer.fieldStruct(10) { writer in logicalType.encode(into: &writer) }
        }
    }
}

extension ParquetFormat.LogicalType {
    /// Writes the single union member field.
    func encode(into writer: inout ThriftCompactWriter) {
        switch self {
        case .string: writer.fieldStruct(1) { _ in }
        case .date: writer.fieldStruct(6) { _ in }
        case .timestamp(let isAdjustedToUTC, let unit):
            writer.fieldStruct(8) { writer in
                writer.fieldBool(1, isAdjustedToUTC)
                writer.fieldStruct(2) { writer in
                    switch unit {
                    case .millis: writer.fieldStruct(1) { _ in }
                    case .micros: writer.fieldStruct(2) { _ in }
                    case .nanos: writer.fieldStruct(3) { _ in }
                    }
                }
            }
        case .integer(let bitWidth, let isSigned):
            writer.fieldStruct(10) { writer in
                writer.fieldI8(1, bitWidth)
                writer.fieldBool(2, isSigned)
            }
        case .json: writer.fieldStruct(12) { _ in }
        case .other(let id): writer.fieldStruct(id) { _ in }
        }
    }
}

extension ParquetFormat.RowGroup {
    func encode(into writer: inout ThriftCompactWriter) {
        writer.fieldListStruct(1, count: columns.count) { writer, index in columns[index].encode(into: &writer) }
        writer.fieldI64(2, totalByteSize)
        writer.fieldI64(3, numRows)
        if let fileOffset { writer.fieldI64(5, fileOffset) }
        if let totalCompressedSize { writer.fieldI64(6, totalCompressedSize) }
        if let ordinal { writer.fieldI32(7, Int32(ordinal)) }
    }
}

extension ParquetFormat.ColumnChunk {
    func encode(into writer: inout ThriftCompactWriter) {
        if let filePath { writer.fieldString(1, filePath) }
        writer.fieldI64(2, fileOffset)
        if let metaData {
            writer.fieldStruct(3) { writer in metaData.encode(into: &writer) }
        }
    }
}

extension ParquetFormat.ColumnMetaData {
    func encode(into writer: inout ThriftCompactWriter) {
        writer.fieldI32(1, type.rawValue)
        writer.fieldListI32(2, encodings.map(\.rawValue))
        writer.fieldListString(3, pathInSchema)
        writer.fieldI32(4, codec.rawValue)
        writer.fieldI64(5, numValues)
        writer.fieldI64(6, totalUncompressedSize)
        writer.fieldI64(7, totalCompressedSize)
        writer.fieldI64(9, dataPageOffset)
        if let dictionaryPageOffset { writer.fieldI64(11, dictionaryPageOffset) }
        if let statistics {
            writer.fieldStruct(12) { writer in statistics.encode(into: &writer) }
        }
        if let encodingStats {
            writer.fieldListStruct(13, count: encodingStats.count) { writer, index in
                writer.fieldI32(1, encodingStats[index].pageType)
                writer.fieldI32(2, encodingStats[index].encoding.rawValue)
                writer.fieldI32(3, encodingStats[index].count)
            }
        }
    }
}

extension ParquetFormat.Statistics {
    func encode(into writer: inout ThriftCompactWriter) {
        if let legacyMax { writer.fieldBinary(1, legacyMax) }
        if let legacyMin { writer.fieldBinary(2, legacyMin) }
        if let nullCount { writer.fieldI64(3, nullCount) }
        if let distinctCount { writer.fieldI64(4, distinctCount) }
        if let maxValue { writer.fieldBinary(5, maxValue) }
        if let minValue { writer.fieldBinary(6, minValue) }
        if maxValue != nil { writer.fieldBool(7, true) }
        if minValue != nil { writer.fieldBool(8, true) }
    }
}

extension ParquetFormat.PageHeader {
    func encode() -> [UInt8] {
        var writer = ThriftCompactWriter()
        writer.structBegin()
        writer.fieldI32(1, type)
        writer.fieldI32(2, uncompressedPageSize)
        writer.fieldI32(3, compressedPageSize)
        if let crc { writer.fieldI32(4, crc) }
        if let header = dataPageHeader {
            writer.fieldStruct(5) { writer in
                writer.fieldI32(1, header.numValues)
                writer.fieldI32(2, header.encoding.rawValue)
                writer.fieldI32(3, header.definitionLevelEncoding.rawValue)
                writer.fieldI32(4, header.repetitionLevelEncoding.rawValue)
            }
        }
        if let header = dictionaryPageHeader {
            writer.fieldStruct(7) { writer in
                writer.fieldI32(1, header.numValues)
                writer.fieldI32(2, header.encoding.rawValue)
            }
        }
        if let header = dataPageHeaderV2 {
            writer.fieldStruct(8) { writer in
                writer.fieldI32(1, header.numValues)
                writer.fieldI32(2, header.numNulls)
                writer.fieldI32(3, header.numRows)
                writer.fieldI32(4, header.encoding.rawValue)
                writer.fieldI32(5, header.definitionLevelsByteLength)
                writer.fieldI32(6, header.repetitionLevelsByteLength)
                writer.fieldBool(7, header.isCompressed)
            }
        }
        writer.structEnd()
        return writer.bytes
    }
}
