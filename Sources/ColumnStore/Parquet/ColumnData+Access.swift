import Core

/// Typed single-value accessors and builders from Swift optionals. Meant for tests,
/// compaction glue and small tables; hot paths read `storage` arrays directly.
extension ColumnData {
    public func int64(at row: Int) -> Int64? {
        guard isValid(row), case .int64(let values) = storage else { return nil }
        return values[row]
    }

    public func double(at row: Int) -> Double? {
        guard isValid(row), case .double(let values) = storage else { return nil }
        return values[row]
    }

    public func bool(at row: Int) -> Bool? {
        guard isValid(row), case .bool(let values) = storage else { return nil }
        return values[row] != 0
    }

    public func string(at row: Int) -> String? {
        guard isValid(row) else { return nil }
        switch storage {
        case .strings(let column): return column[row]
        case .dictionary(let dictionary, let codes): return dictionary[Int(codes[row])]
        default: return nil
        }
    }

    /// All values as Swift optionals, for comparisons in tests.
    public var int64Values: [Int64?] { (0..<count).map { int64(at: $0) } }
    public var doubleValues: [Double?] { (0..<count).map { double(at: $0) } }
    public var boolValues: [Bool?] { (0..<count).map { bool(at: $0) } }
    public var stringValues: [String?] { (0..<count).map { string(at: $0) } }

    /// Same column with `.dictionary` storage expanded to `.strings`.
    public func materialized() -> ColumnData {
        guard case .dictionary(let dictionary, let codes) = storage else { return self }
        var strings = StringColumn()
        strings.reserveCapacity(values: count, bytes: 0)
        dictionary.bytes.withUnsafeBytes { raw in
            for row in 0..<count {
                if isValid(row) {
                    let range = dictionary.range(at: Int(codes[row]))
                    strings.append(bytes: UnsafeRawBufferPointer(rebasing: raw[range]))
                } else {
                    strings.appendEmpty()
                }
            }
        }
        return ColumnData(kind: kind, count: count, validity: validity, storage: .strings(strings))
    }

    // MARK: Builders

    public static func strings(_ values: [String?]) -> ColumnData {
        var column = StringColumn()
        var validity = ValidityBuilder(count: values.count)
        for (row, value) in values.enumerated() {
            if let value { column.append(value) } else { column.appendEmpty(); validity.setNull(row) }
        }
        return ColumnData(kind: .string, count: values.count, validity: validity.bitmap, storage: .strings(column))
    }

    public static func int64(_ values: [Int64?]) -> ColumnData {
        integers(values, kind: .int64)
    }

    /// Timestamps in microseconds since the Unix epoch (UTC).
    public static func timestamps(_ microseconds: [Int64?]) -> ColumnData {
        integers(microseconds, kind: .timestamp)
    }

    public static func doubles(_ values: [Double?]) -> ColumnData {
        var validity = ValidityBuilder(count: values.count)
        var dense = [Double](repeating: 0, count: values.count)
        for (row, value) in values.enumerated() {
            if let value { dense[row] = value } else { validity.setNull(row) }
        }
        return ColumnData(kind: .double, count: values.count, validity: validity.bitmap, storage: .double(dense))
    }

    public static func bools(_ values: [Bool?]) -> ColumnData {
        var validity = ValidityBuilder(count: values.count)
        var dense = [UInt8](repeating: 0, count: values.count)
        for (row, value) in values.enumerated() {
            if let value { dense[row] = value ? 1 : 0 } else { validity.setNull(row) }
        }
        return ColumnData(kind: .bool, count: values.count, validity: validity.bitmap, storage: .bool(dense))
    }

    private static func integers(_ values: [Int64?], kind: ColumnKind) -> ColumnData {
        var validity = ValidityBuilder(count: values.count)
        var dense = [Int64](repeating: 0, count: values.count)
        for (row, value) in values.enumerated() {
            if let value { dense[row] = value } else { validity.setNull(row) }
        }
        return ColumnData(kind: kind, count: values.count, validity: validity.bitmap, storage: .int64(dense))
    }
}

/// Builds a validity bitmap that stays `nil` until the first null, so all-valid columns
/// cost nothing.
struct ValidityBuilder {
    let count: Int
    private(set) var bitmap: [UInt8]?

    init(count: Int) { self.count = count }

    func isValid(_ row: Int) -> Bool {
        guard let bitmap else { return true }
        return bitmap[row >> 3] & (1 << UInt8(row & 7)) != 0
    }

    mutating func setNull(_ row: Int) {
        if bitmap == nil {
            var bits = [UInt8](repeating: 0xFF, count: (count + 7) >> 3)
            // Keep padding bits past `count` clear so bitmaps compare equal.
            if count & 7 != 0 { bits[bits.count - 1] = UInt8((1 << (count & 7)) - 1) }
            bitmap = bits
        }
        bitmap![row >> 3] &= ~(1 << UInt8(row & 7))
    }
}
