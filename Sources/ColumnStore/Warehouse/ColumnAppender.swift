import Core

/// Builds one `ColumnData` value by value: from typed Swift values (compaction of new events)
/// or by copying rows out of another `ColumnData` (merges and the sites index), without going
/// through Swift optionals or `String` for string columns.
struct ColumnAppender {
    let kind: ColumnKind
    private(set) var count = 0
    private var validity: [UInt8] = []
    private var hasNull = false
    private var int64s: [Int64] = []
    private var bools: [UInt8] = []
    private var strings = StringColumn()

    init(kind: ColumnKind, capacity: Int = 0) {
        self.kind = kind
        validity.reserveCapacity((capacity + 7) / 8)
        switch kind {
        case .int64, .timestamp: int64s.reserveCapacity(capacity)
        case .bool: bools.reserveCapacity(capacity)
        case .string: strings.reserveCapacity(values: capacity, bytes: capacity * 8)
        case .double: break
        }
    }

    @inline(__always)
    private mutating func pushValidity(_ valid: Bool) {
        if count & 7 == 0 { validity.append(0) }
        if valid { validity[count >> 3] |= 1 << UInt8(count & 7) } else { hasNull = true }
        count += 1
    }

    /// `count` rows of the same validity: whole bytes at a time once aligned.
    private mutating func pushValidity(_ valid: Bool, count rowCount: Int) {
        var left = rowCount
        while left > 0 && count & 7 != 0 { pushValidity(valid); left -= 1 }
        if left >= 8 {
            validity.append(contentsOf: repeatElement(valid ? 0xFF : 0, count: left >> 3))
            count += left & ~7
            if !valid { hasNull = true }
            left &= 7
        }
        while left > 0 { pushValidity(valid); left -= 1 }
    }

    mutating func appendNull() {
        switch kind {
        case .int64, .timestamp: int64s.append(0)
        case .bool: bools.append(0)
        case .string: strings.appendEmpty()
        case .double: preconditionFailure("double columns are not built by compaction")
        }
        pushValidity(false)
    }

    mutating func append(_ value: Int64?) {
        guard let value else { return appendNull() }
        int64s.append(value)
        pushValidity(true)
    }

    mutating func append(_ value: Bool?) {
        guard let value else { return appendNull() }
        bools.append(value ? 1 : 0)
        pushValidity(true)
    }

    mutating func append(_ value: String?) {
        guard let value else { return appendNull() }
        strings.append(value)
        pushValidity(true)
    }

    /// Copies row `row` of `source` (same kind).
    mutating func append(from source: ColumnData, row: Int) {
        guard source.isValid(row) else { return appendNull() }
        switch source.storage {
        case .int64(let values): int64s.append(values[row])
        case .bool(let values): bools.append(values[row])
        case .strings(let column):
            column.bytes.withUnsafeBytes { strings.append(bytes: UnsafeRawBufferPointer(rebasing: $0[column.range(at: row)])) }
        case .dictionary(let dictionary, let codes):
            dictionary.bytes.withUnsafeBytes {
                strings.append(bytes: UnsafeRawBufferPointer(rebasing: $0[dictionary.range(at: Int(codes[row]))]))
            }
        case .double: preconditionFailure("double columns are not built by compaction")
        }
        pushValidity(true)
    }

    /// Appends every row of `source` (same kind, `.strings` storage as `finish` makes): the
    /// value arrays are copied in bulk (string offsets rebased), validity bit by bit.
    mutating func append(contentsOf source: ColumnData) {
        switch source.storage {
        case .int64(let values): int64s.append(contentsOf: values)
        case .bool(let values): bools.append(contentsOf: values)
        case .strings(let column): strings.append(contentsOf: column)
        case .dictionary, .double: preconditionFailure("compaction batches hold plain strings, int64s and bools")
        }
        if source.validity == nil && count & 7 == 0 {
            // Whole bytes of ones, and a partial last byte with only the rows' bits set.
            validity.append(contentsOf: repeatElement(0xFF, count: source.count >> 3))
            if source.count & 7 != 0 { validity.append(UInt8(1 << (source.count & 7)) &- 1) }
            count += source.count
        } else {
            for row in 0..<source.count { pushValidity(source.isValid(row)) }
        }
    }

    /// Appends `source`'s rows at `rows`, in that order (a gather; same kind): one switch per
    /// call rather than per value, reading the source through its buffers. A NULL row's
    /// value slot holds whatever the source had there (zero, empty), as `appendNull` would.
    mutating func append(from source: ColumnData, rows: UnsafeBufferPointer<Int32>) {
        switch source.storage {
        case .int64(let values):
            values.withUnsafeBufferPointer { values in int64s.append(contentsOf: rows.lazy.map { values[Int($0)] }) }
        case .bool(let values):
            values.withUnsafeBufferPointer { values in bools.append(contentsOf: rows.lazy.map { values[Int($0)] }) }
        case .strings(let column):
            column.offsets.withUnsafeBufferPointer { offsets in
                column.bytes.withUnsafeBytes { bytes in strings.appendGathered(offsets: offsets, bytes: bytes, rows: rows) }
            }
        case .dictionary(let dictionary, let codes):
            dictionary.offsets.withUnsafeBufferPointer { offsets in
                dictionary.bytes.withUnsafeBytes { bytes in
                    codes.withUnsafeBufferPointer { codes in
                        // A NULL row's code is 0, which an empty dictionary (every row NULL) lacks:
                        // the gather appends an empty value for a code past the entries.
                        strings.appendGathered(offsets: offsets, bytes: bytes, rows: rows, codes: codes)
                    }
                }
            }
        case .double: preconditionFailure("double columns are not built by compaction")
        }
        if source.validity == nil {
            pushValidity(true, count: rows.count)
        } else {
            for row in rows { pushValidity(source.isValid(Int(row))) }
        }
    }

    /// Appends `count` NULLs.
    mutating func appendNulls(_ nullCount: Int) {
        switch kind {
        case .int64, .timestamp: int64s.append(contentsOf: repeatElement(0, count: nullCount))
        case .bool: bools.append(contentsOf: repeatElement(0, count: nullCount))
        case .string: strings.offsets.append(contentsOf: repeatElement(strings.offsets[strings.offsets.count - 1], count: nullCount))
        case .double: preconditionFailure("double columns are not built by compaction")
        }
        pushValidity(false, count: nullCount)
    }

    /// The finished column; the appender is left empty and reusable.
    mutating func finish() -> ColumnData {
        let storage: ColumnStorage
        switch kind {
        case .int64, .timestamp: storage = .int64(int64s)
        case .bool: storage = .bool(bools)
        case .string: storage = .strings(strings)
        case .double: storage = .double([])
        }
        let result = ColumnData(kind: kind, count: count, validity: hasNull ? validity : nil, storage: storage)
        self = ColumnAppender(kind: kind)
        return result
    }
}
