/// The Thrift structs of parquet.thrift that we read and write, only the fields we use.
/// Field ids live in `ParquetMetadata+Thrift.swift`.
enum ParquetFormat {
    struct FileMetaData {
        var version: Int32 = 1
        var schema: [SchemaElement] = []
        var numRows: Int64 = 0
        var rowGroups: [RowGroup] = []
        var keyValueMetadata: [KeyValue] = []
        var createdBy: String?
        /// Number of TYPE_ORDER column orders; written one per leaf, read only as a count.
        var columnOrdersCount = 0
        /// Set by `decode` when the footer carries `ParquetFooterChecksum.key`.
        var footerChecksum: ParquetFooterChecksum.Seal?
    }

    struct KeyValue {
        var key: String
        var value: String?
    }

    enum LogicalType: Equatable {
        case string
        case date
        case timestamp(isAdjustedToUTC: Bool, unit: ParquetTimeUnit)
        case integer(bitWidth: Int8, isSigned: Bool)
        case json
        /// Any other union member, kept so readers can report it.
        case other(Int16)
    }

    struct SchemaElement {
        var type: ParquetPhysicalType?
        var typeLength: Int32?
        var repetitionType: Int32?
        var name: String = ""
        var numChildren: Int32?
        var convertedType: Int32?
        var logicalType: LogicalType?
    }

    struct Statistics {
        var legacyMax: [UInt8]?
        var legacyMin: [UInt8]?
        var nullCount: Int64?
        var distinctCount: Int64?
        var maxValue: [UInt8]?
        var minValue: [UInt8]?
    }

    struct PageEncodingStats {
        var pageType: Int32
        var encoding: ParquetEncoding
        var count: Int32
    }

    struct ColumnMetaData {
        var type: ParquetPhysicalType = .int64
        var encodings: [ParquetEncoding] = []
        var pathInSchema: [String] = []
        var codec: ParquetCodec = .uncompressed
        var numValues: Int64 = 0
        var totalUncompressedSize: Int64 = 0
        var totalCompressedSize: Int64 = 0
        var dataPageOffset: Int64 = 0
        var dictionaryPageOffset: Int64?
        var statistics: Statistics?
        var encodingStats: [PageEncodingStats]?
    }

    struct ColumnChunk {
        var filePath: String?
        var fileOffset: Int64 = 0
        var metaData: ColumnMetaData?
    }

    struct RowGroup {
        var columns: [ColumnChunk] = []
        var totalByteSize: Int64 = 0
        var numRows: Int64 = 0
        var fileOffset: Int64?
        var totalCompressedSize: Int64?
        var ordinal: Int16?
    }

    struct DataPageHeader {
        var numValues: Int32
        var encoding: ParquetEncoding
        var definitionLevelEncoding: ParquetEncoding
        var repetitionLevelEncoding: ParquetEncoding
    }

    struct DataPageHeaderV2 {
        var numValues: Int32
        var numNulls: Int32
        var numRows: Int32
        var encoding: ParquetEncoding
        var definitionLevelsByteLength: Int32
        var repetitionLevelsByteLength: Int32
        var isCompressed: Bool = true
    }

    struct DictionaryPageHeader {
        var numValues: Int32
        var encoding: ParquetEncoding
    }

    struct PageHeader {
        var type: Int32
        var uncompressedPageSize: Int32
        var compressedPageSize: Int32
        /// CRC-32 of the page bytes after the header as stored (`ParquetPageChecksum`);
        /// nil in files written before we wrote it and by writers that do not.
        var crc: Int32?
        var dataPageHeader: DataPageHeader?
        var dictionaryPageHeader: DictionaryPageHeader?
        var dataPageHeaderV2: DataPageHeaderV2?
    }
}
