/// Values of a dictionary page, already in output form (timestamps normalized).
enum ParquetDictionary {
    case int64([Int64])
    case double([Double])
    case bool([UInt8])
    case strings(StringColumn)

    var count: Int {
        switch self {
        case .int64(let values): values.count
        case .double(let values): values.count
        case .bool(let values): values.count
        case .strings(let values): values.count
        }
    }
}

/// Accumulates one column chunk's rows page by page into dense arrays + validity.
///
/// Strings stay as dictionary codes while every page is dictionary-encoded; the first
/// PLAIN page converts what was read so far into a `StringColumn`.
struct ParquetColumnBuilder {
    let leaf: ParquetLeaf
    let rowCount: Int
    private(set) var rows = 0
    var validity: ValidityBuilder
    var int64s: [Int64] = []
    var doubles: [Double] = []
    var bools: [UInt8] = []
    var strings = StringColumn()
    var codes: [UInt32] = []
    /// String dictionary while the output is still codes.
    var stringDictionary: StringColumn?
    var dictionary: ParquetDictionary?

    init(leaf: ParquetLeaf, rowCount: Int) {
        self.leaf = leaf
        self.rowCount = rowCount
        validity = ValidityBuilder(count: rowCount)
        switch leaf.column.kind {
        case .int64, .timestamp: int64s.reserveCapacity(rowCount)
        case .double: doubles.reserveCapacity(rowCount)
        case .bool: bools.reserveCapacity(rowCount)
        case .string: strings.reserveCapacity(values: rowCount, bytes: 0)
        }
    }

    func finish() -> ColumnData {
        let storage: ColumnStorage
        switch leaf.column.kind {
        case .int64, .timestamp: storage = .int64(int64s)
        case .double: storage = .double(doubles)
        case .bool: storage = .bool(bools)
        case .string:
            if let stringDictionary, stringDictionary.count > 0 {
                storage = .dictionary(dictionary: stringDictionary, codes: codes)
            } else if stringDictionary != nil {
                // Only nulls were read: nothing to point codes at.
                var placeholders = StringColumn()
                for _ in 0..<rows { placeholders.appendEmpty() }
                storage = .strings(placeholders)
            } else {
                storage = .strings(strings)
            }
        }
        return ColumnData(kind: leaf.column.kind, count: rows, validity: validity.bitmap, storage: storage)
    }

    // MARK: Pages

    /// Appends one data page. `levels` holds one definition level per row (nil: all present).
    mutating func appendPage(rowCount pageRows: Int, levels: UnsafeBufferPointer<UInt32>?,
                             encoding: ParquetEncoding, values: UnsafeRawBufferPointer) throws {
        guard pageRows <= rowCount - rows else {
            throw ParquetError(.badPage, "page of \(pageRows) values overruns the chunk's \(rowCount) values")
        }
        var present = pageRows
        if let levels {
            present = 0
            let maxLevel = UInt32(leaf.maxDefinitionLevel)
            for level in levels {
                if level == maxLevel { present += 1 } else if level > maxLevel {
                    throw ParquetError(.badPage, "definition level \(level) above the maximum \(maxLevel)")
                }
            }
        }
        switch encoding {
        case .plain:
            try appendPlain(pageRows, levels, present, values)
        case .rleDictionary, .plainDictionary:
            try appendDictionaryIds(pageRows, levels, present, values)
        case .rle where leaf.physicalType == .boolean:
            try appendRleBooleans(pageRows, levels, present, values)
        default:
            throw ParquetError(.unsupported, "data page encoding \(encoding) for \(leaf.physicalType)")
        }
        if let levels {
            let maxLevel = UInt32(leaf.maxDefinitionLevel)
            for (index, level) in levels.enumerated() where level != maxLevel { validity.setNull(rows + index) }
        }
        rows += pageRows
    }

    /// Calls `body(slot, valueIndex)` for each row of the page; valueIndex is nil for nulls.
    @inline(__always)
    static func forEachRow(_ pageRows: Int, _ levels: UnsafeBufferPointer<UInt32>?, maxLevel: UInt32, _ body: (Int?) -> Void) {
        if let levels {
            var next = 0
            for index in 0..<pageRows {
                if levels[index] == maxLevel {
                    body(next)
                    next += 1
                } else {
                    body(nil)
                }
            }
        } else {
            for index in 0..<pageRows { body(index) }
        }
    }
}
