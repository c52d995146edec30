#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Chunk statistics: null_count always, min_value/max_value when there is a non-null
/// (non-NaN) value. Strings compare as unsigned bytes, then by length; legacy min/max
/// (signed compare) are never written.
extension ParquetWriter {
    /// `distinctStrings`: for a string chunk, its dictionary when it holds every non-null
    /// value (min/max are then taken over the entries instead of every row).
    func statistics(_ column: ColumnData, rows: Range<Int>, distinctStrings: StringColumn? = nil) -> ParquetFormat.Statistics {
        var stats = ParquetFormat.Statistics()
        var nulls = 0
        if column.validity != nil {
            for row in rows where !column.isValid(row) { nulls += 1 }
        }
        stats.nullCount = Int64(nulls)
        guard nulls < rows.count else { return stats }
        switch column.storage {
        case .int64(let values):
            var low = Int64.max, high = Int64.min
            for row in rows where column.isValid(row) {
                low = min(low, values[row])
                high = max(high, values[row])
            }
            stats.minValue = littleEndianBytes(low)
            stats.maxValue = littleEndianBytes(high)
        case .double(let values):
            var low = Double.infinity, high = -Double.infinity, sawNumber = false
            for row in rows where column.isValid(row) && !values[row].isNaN {
                low = min(low, values[row])
                high = max(high, values[row])
                sawNumber = true
            }
            // NaN never goes into min/max; zero bounds are widened to -0.0/+0.0 as the spec asks.
            if sawNumber {
                if low == 0 { low = -0.0 }
                if high == 0 { high = 0.0 }
                stats.minValue = littleEndianBytes(low.bitPattern)
                stats.maxValue = littleEndianBytes(high.bitPattern)
            }
        case .bool(let values):
            var low: UInt8 = 1, high: UInt8 = 0
            for row in rows where column.isValid(row) {
                low = min(low, values[row] != 0 ? 1 : 0)
                high = max(high, values[row] != 0 ? 1 : 0)
            }
            stats.minValue = [low]
            stats.maxValue = [high]
        case .strings, .dictionary:
            if let distinctStrings {
                (stats.minValue, stats.maxValue) = Self.stringBounds(.strings(distinctStrings), 0..<distinctStrings.count) { _ in true }
            } else {
                (stats.minValue, stats.maxValue) = Self.stringBounds(column.storage, rows, column.isValid)
            }
        }
        return stats
    }

    /// Least and greatest of the string values at `rows` where `isValid` (nil when none).
    private static func stringBounds(_ storage: ColumnStorage, _ rows: Range<Int>,
                                     _ isValid: (Int) -> Bool) -> (low: [UInt8]?, high: [UInt8]?) {
        StringRows.with(storage) { strings in
            var low: UnsafeRawBufferPointer?, high: UnsafeRawBufferPointer?
            for row in rows where isValid(row) {
                let value = strings.value(row)
                if low == nil || compareBytes(value, low!) < 0 { low = value }
                if high == nil || compareBytes(value, high!) > 0 { high = value }
            }
            return (low.map { Array($0) }, high.map { Array($0) })
        }
    }

    /// Unsigned lexicographic byte order, shorter first on a common prefix (UTF-8 code point order):
    /// the order of site_key in sites files and of binary statistics; negative, zero or positive.
    public static func compareBytes(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Int {
        let common = min(left.count, right.count)
        if common > 0 {
            let order = memcmp(left.baseAddress!, right.baseAddress!, common)
            if order != 0 { return Int(order) }
        }
        return left.count - right.count
    }

    private func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}
