import ColumnStore

/// Reads one scan unit in batches: filter columns first, the filter, then the other
/// columns only if some row passed (a unit where nothing passes never reads them), taking
/// the passing rows as a selection over the unit's column instead of copying.
struct UnitScanner {
    let plan: QueryPlan
    let executor: ExpressionExecutor
    let context: ExecutionContext
    /// Set for top-N queries that can read their other columns for a few rows only.
    var narrowing: TopNRowNarrowing? = nil

    func scan(_ unit: any ScanUnit, consume: (DataChunk) throws -> Bool) throws {
        defer { executor.resetDictionaryCache() }
        if let narrowing {
            try scanNarrowed(unit, narrowing, consume: consume)
            return
        }
        let schema = plan.query.schema
        let rowCount = unit.rowCount
        var unitColumns = [Vector?](repeating: nil, count: schema.columns.count)
        // Columns the query does not read stay constant NULLs, built once per unit.
        let placeholders = schema.columns.map { Vector.constant(.null, type: $0.type, count: 0) }
        var columnsRead = 0
        // A unit every row of which passes (`QueryPlan.filterTrueUnits`): no filter, and the
        // columns only the filter reads stay unread.
        let filter = plan.filterTrueUnits.contains(unit.name) ? nil : plan.filter
        for column in plan.filterColumns where filter != nil || !plan.filterOnlyColumns.contains(column) {
            unitColumns[column] = try columnVector(unit, column, read: &columnsRead)
        }
        var otherColumnsLoaded = plan.otherColumns.isEmpty
        defer { context.countScanned(rows: rowCount, columns: columnsRead) }

        // No filter and no column read (count(*) over a unit every row of which passes): each
        // full batch is the same placeholders, built once rather than one vector per column each time.
        let fullPlaceholderBatch = filter == nil && plan.otherColumns.isEmpty && unitColumns.allSatisfy({ $0 == nil })
            ? Self.batch(unitColumns, placeholders, 0, vectorSize) : nil
        var start = 0
        while start < rowCount {
            try context.checkpoint()
            let end = min(start + vectorSize, rowCount)
            let count = end - start
            if let fullPlaceholderBatch, count == vectorSize {
                if try !consume(DataChunk(columns: fullPlaceholderBatch, count: count)) { return }
                start = end
                continue
            }
            var columns = Self.batch(unitColumns, placeholders, start, end)
            var selection: [UInt32]?
            if let filter {
                let passing = try executor.select(filter, DataChunk(columns: columns, count: count))
                if passing.isEmpty {
                    start = end
                    continue
                }
                if passing.count < count { selection = passing }
            }
            if !otherColumnsLoaded {
                for column in plan.otherColumns { unitColumns[column] = try columnVector(unit, column, read: &columnsRead) }
                otherColumnsLoaded = true
            }
            if let selection {
                for column in plan.filterColumns {
                    if plan.filterOnlyColumns.contains(column) {
                        columns[column] = placeholders[column]
                        columns[column].count = selection.count
                    } else {
                        columns[column] = columns[column].sliced(selection)
                    }
                }
                let unitRows = selection.map { UInt32(start) + $0 }
                for column in plan.otherColumns { columns[column] = unitColumns[column]!.sliced(unitRows) }
                for index in columns.indices where unitColumns[index] == nil {
                    columns[index].count = selection.count
                }
            } else {
                for column in plan.otherColumns { columns[column] = unitColumns[column]!.range(start, end) }
            }
            let keepGoing = try consume(DataChunk(columns: columns, count: selection?.count ?? count))
            if !keepGoing { return }
            start = end
        }
    }

    /// Rows `start..<end` of the unit's read columns; a column not read is its constant NULL
    /// placeholder with that count.
    private static func batch(_ unitColumns: [Vector?], _ placeholders: [Vector], _ start: Int, _ end: Int) -> [Vector] {
        unitColumns.indices.map { index in
            if let unitColumn = unitColumns[index] { return unitColumn.range(start, end) }
            var placeholder = placeholders[index]
            placeholder.count = end - start
            return placeholder
        }
    }

    /// `TopNRowNarrowing`'s steps 1–3 for one unit.
    private func scanNarrowed(_ unit: any ScanUnit, _ narrowing: TopNRowNarrowing, consume: (DataChunk) throws -> Bool) throws {
        let schema = plan.query.schema
        let rowCount = unit.rowCount
        var unitColumns = [Vector?](repeating: nil, count: schema.columns.count)
        var columnsRead = 0
        defer { context.countScanned(rows: rowCount, columns: columnsRead) }
        // Step 1: filter and key columns for the whole unit, then the passing rows.
        var early = plan.filterColumns
        for column in narrowing.keyColumns where !early.contains(column) { early.append(column) }
        for column in early { unitColumns[column] = try columnVector(unit, column, read: &columnsRead) }
        var passing: [UInt32] = []
        if let filter = plan.filter {
            let placeholders = schema.columns.map { Vector.constant(.null, type: $0.type, count: 0) }
            var start = 0
            while start < rowCount {
                try context.checkpoint()
                let end = min(start + vectorSize, rowCount)
                let columns = Self.batch(unitColumns, placeholders, start, end)
                for row in try executor.select(filter, DataChunk(columns: columns, count: end - start)) {
                    passing.append(UInt32(start) + row)
                }
                start = end
            }
        } else {
            passing = (0..<UInt32(rowCount)).map { $0 }
        }
        if passing.isEmpty { return }
        // Step 2.
        let rows = narrowing.candidates(keyVectors: narrowing.keyColumns.map { unitColumns[$0]! }, passing: passing)
        // Step 3: the other columns over the candidates' span only.
        let span = Int(rows.first!)..<Int(rows.last!) + 1
        var spanColumns = [Vector?](repeating: nil, count: schema.columns.count)
        for column in plan.otherColumns where unitColumns[column] == nil {
            spanColumns[column] = try columnVector(unit, column, read: &columnsRead, rows: span)
        }
        var start = 0
        while start < rows.count {
            try context.checkpoint()
            let batch = Array(rows[start..<min(start + vectorSize, rows.count)])
            let inSpan = batch.map { $0 - UInt32(span.lowerBound) }
            let columns: [Vector] = schema.columns.indices.map { index in
                if let unitColumn = unitColumns[index] { return unitColumn.sliced(batch) }
                if let spanColumn = spanColumns[index] { return spanColumn.sliced(inSpan) }
                return Vector.constant(.null, type: schema.columns[index].type, count: batch.count)
            }
            if try !consume(DataChunk(columns: columns, count: batch.count)) { return }
            start += batch.count
        }
    }

    /// The unit's column (or rows `rows` of it): a constant when statistics prove every
    /// `date_trunc` the query applies to it gives one value in this unit (see
    /// `QueryPlan.truncatedOnlyColumns`), else read from storage (counted in `read`).
    private func columnVector(_ unit: any ScanUnit, _ column: Int, read: inout Int, rows: Range<Int>? = nil) throws -> Vector {
        if let parts = plan.truncatedOnlyColumns[column],
           let statistics = unit.statistics(column: plan.query.schema.columns[column].name),
           statistics.nullCount == 0, let low = Self.micros(statistics.min), let high = Self.micros(statistics.max),
           parts.allSatisfy({ truncateTimestamp(low, to: $0) == truncateTimestamp(high, to: $0) }) {
            return Vector.constant(.timestamp(low), type: .timestamp, count: rows?.count ?? unit.rowCount)
        }
        read += 1
        return try loadColumn(unit, column, rows: rows)
    }

    private static func micros(_ value: Value?) -> Int64? {
        switch value {
        case .timestamp(let micros)?, .int64(let micros)?: return micros
        default: return nil
        }
    }

    /// Decodes a storage column into a unit-sized vector, checking it against the schema.
    private func loadColumn(_ unit: any ScanUnit, _ column: Int, rows: Range<Int>? = nil) throws -> Vector {
        let schemaColumn = plan.query.schema.columns[column]
        let type = schemaColumn.type
        let rowCount = rows?.count ?? unit.rowCount
        let data: ColumnData?
        do {
            data = try rows.map { try unit.readColumn(name: schemaColumn.name, rows: $0) } ?? unit.readColumn(name: schemaColumn.name)
        } catch let error as QueryError {
            throw error
        } catch {
            throw QueryError(.io, "reading column \(schemaColumn.name) of \(unit.name) failed: \(error)")
        }
        guard let data else { return Vector.constant(.null, type: type, count: rowCount) }
        func corrupt(_ reason: String) -> QueryError {
            QueryError(.io, "column \(schemaColumn.name) of \(unit.name): \(reason)")
        }
        guard data.count == rowCount else {
            throw corrupt("has \(data.count) rows, \(rows == nil ? "the unit has" : "asked for") \(rowCount)")
        }
        var validity: [UInt8]?
        if let bitmap = data.validity {
            guard bitmap.count * 8 >= data.count else { throw corrupt("validity bitmap is too short") }
            validity = expandValidity(bitmap, count: data.count)
        }
        func expect(_ ok: Bool) throws {
            if !ok { throw corrupt("storage kind \(data.kind) does not match the schema type \(type.name)") }
        }
        switch data.storage {
        case .int64(let values):
            try expect((type == .bigint || type == .timestamp) && values.count == data.count)
            return Vector(type: type, buffer: .int64(values), validity: validity, count: data.count)
        case .double(let values):
            try expect(type == .double && values.count == data.count)
            return Vector(type: type, buffer: .double(values), validity: validity, count: data.count)
        case .bool(let values):
            try expect(type == .boolean && values.count == data.count)
            return Vector(type: type, buffer: .bool(values.map { $0 == 0 ? 0 : 1 }), validity: validity,
                          count: data.count)
        case .strings(let strings):
            try expect(type == .varchar)
            try checkOffsets(strings, entries: data.count, corrupt)
            return Vector(type: type, buffer: .string(strings), validity: validity, count: data.count)
        case .dictionary(var dictionary, var codes):
            try expect(type == .varchar && codes.count == data.count)
            try checkOffsets(dictionary, entries: dictionary.count, corrupt)
            let entryCount = UInt32(dictionary.count)
            var entryValidity: [UInt8]?
            if let validity {
                // NULL rows point at one extra, invalid entry, so validity lives on the entries.
                dictionary.offsets.append(dictionary.offsets.last ?? 0)
                entryValidity = [UInt8](repeating: 1, count: Int(entryCount) + 1)
                entryValidity![Int(entryCount)] = 0
            }
            // One pass: redirect NULL rows, and find the first out-of-range code of a valid row.
            var badRow = -1
            codes.withUnsafeMutableBufferPointer { codes in
                if let validity {
                    validity.withUnsafeBufferPointer { validity in
                        for row in 0..<codes.count {
                            if validity[row] == 0 {
                                codes[row] = entryCount
                            } else if codes[row] >= entryCount, badRow < 0 {
                                badRow = row
                            }
                        }
                    }
                } else {
                    for row in 0..<codes.count where codes[row] >= entryCount && badRow < 0 { badRow = row }
                }
            }
            if badRow >= 0 {
                throw corrupt("dictionary code \(codes[badRow]) at row \(badRow) is out of range (\(entryCount) entries)")
            }
            return Vector(type: type, buffer: .string(dictionary), validity: entryValidity,
                          encoding: .dictionary(codes), count: data.count, dictionaryToken: DictionaryToken())
        }
    }

    private func checkOffsets(_ strings: StringColumn, entries: Int, _ corrupt: (String) -> QueryError) throws {
        guard strings.offsets.count == entries + 1, strings.offsets.first == 0 else {
            throw corrupt("string offsets do not match the row count")
        }
        var previous: Int32 = 0
        var ascending = true
        strings.offsets.withUnsafeBufferPointer { offsets in
            for offset in offsets {
                if offset < previous { ascending = false }
                previous = offset
            }
        }
        guard ascending else { throw corrupt("string offsets are not ascending") }
        guard Int(previous) <= strings.bytes.count else { throw corrupt("string offsets run past the bytes") }
    }
}

/// One byte per row (1 = valid) from a Parquet-style bitmap (bit `row & 7` of byte `row >> 3`),
/// a byte of the bitmap at a time: all-valid bytes (the common case) are a single store.
func expandValidity(_ bitmap: [UInt8], count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 1, count: count)
    bitmap.withUnsafeBufferPointer { bitmap in
        bytes.withUnsafeMutableBufferPointer { bytes in
            var row = 0
            var index = 0
            while row < count {
                let bits = bitmap[index]
                let end = min(row + 8, count)
                if bits != 0xFF {
                    for bit in 0..<(end - row) { bytes[row + bit] = (bits >> UInt8(bit)) & 1 }
                }
                row = end
                index += 1
            }
        }
    }
    return bytes
}
