/// FileMetaData: flat schema, row groups, TYPE_ORDER per leaf, key/value metadata.
extension ParquetWriter {
    func makeFileMetaData() -> ParquetFormat.FileMetaData {
        var metaData = ParquetFormat.FileMetaData()
        metaData.version = 1
        // Root: name and num_children only (a type or repetition on the root breaks some readers).
        metaData.schema = [ParquetFormat.SchemaElement(name: "schema", numChildren: Int32(schema.columns.count))]
        metaData.schema += schema.columns.map(Self.schemaElement)
        metaData.numRows = rowCount
        metaData.rowGroups = rowGroups
        // The footer checksum is ours to write: a caller's value under its key is replaced.
        var keyValues = options.keyValueMetadata
        keyValues[ParquetFooterChecksum.key] = ParquetFooterChecksum.placeholder
        metaData.keyValueMetadata = keyValues.sorted { $0.key < $1.key }
            .map { ParquetFormat.KeyValue(key: $0.key, value: $0.value) }
        metaData.createdBy = options.createdBy
        // Without column_orders, min_value/max_value have no defined meaning for readers.
        metaData.columnOrdersCount = schema.columns.count
        return metaData
    }

    static func schemaElement(_ column: ParquetColumn) -> ParquetFormat.SchemaElement {
        var element = ParquetFormat.SchemaElement()
        element.name = column.name
        element.type = column.kind.physicalType
        element.repetitionType = column.isOptional ? 1 : 0
        switch column.kind {
        case .string:
            element.logicalType = .string
            element.convertedType = ParquetConvertedType.utf8
        case .timestamp:
            element.logicalType = .timestamp(isAdjustedToUTC: true, unit: .micros)
            element.convertedType = ParquetConvertedType.timestampMicros
        case .int64, .bool, .double:
            break
        }
        return element
    }

    /// Cheap self-check: the footer we just wrote decodes to the same shape.
    func assertFooterDecodes(_ footer: [UInt8]) {
        #if DEBUG
        var reader = ThriftCompactReader(bytes: footer)
        let decoded = try? ParquetFormat.FileMetaData.decode(&reader)
        assert(decoded != nil, "writer produced an undecodable footer")
        assert(decoded?.numRows == rowCount && decoded?.rowGroups.count == rowGroups.count)
        assert(decoded?.schema.count == schema.columns.count + 1)
        assert(rowGroups.reduce(0) { $0 + $1.numRows } == rowCount)
        #endif
    }

    /// Writes `rowGroups` to a hidden `.tmp-` file next to `path`, fsyncs it, renames it to
    /// `path` and fsyncs the directory, so other processes see either no file or the whole file.
    public static func writeFileAtomically(path: String, schema: ParquetSchema, rowGroups: [[ColumnData]],
                                           options: Options = Options()) throws {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporaryPath = "\(directory)/.tmp-\(name)-\(UInt64.random(in: 0...UInt64.max))"
        do {
            let writer = try ParquetWriter(path: temporaryPath, schema: schema, options: options)
            for group in rowGroups { try writer.write(rowGroup: group) }
            try writer.close()
            try renameDurably(from: temporaryPath, to: path, directory: directory.isEmpty ? "/" : directory)
        } catch {
            unlinkQuietly(temporaryPath)
            throw error
        }
    }
}

extension ParquetWriter {
    /// Encodes a whole file in memory (tests, small tables).
    public static func encode(schema: ParquetSchema, rowGroups: [[ColumnData]], options: Options = Options()) throws -> [UInt8] {
        let writer = try ParquetWriter(schema: schema, options: options)
        for group in rowGroups { try writer.write(rowGroup: group) }
        return try writer.close()
    }
}
