/// Input checks: a writer bug or caller mistake must become an error, not a corrupt file.
extension ParquetWriter {
    static func validate(schema: ParquetSchema, options: Options) throws {
        guard !schema.columns.isEmpty else { throw ParquetError(.invalidInput, "schema has no columns") }
        var names = Set<String>()
        for column in schema.columns {
            guard !column.name.isEmpty, names.insert(column.name).inserted else {
                throw ParquetError(.invalidInput, "column name '\(column.name)' is empty or repeated")
            }
        }
        // Row groups our own reader accepts; page value counts and sizes are i32 in the page header.
        guard (1...ParquetFileReader.rowGroupRowsMax).contains(options.rowGroupRowsMax),
              (1...Int(Int32.max)).contains(options.pageRowsMax),
              (1...Int(Int32.max) / 2).contains(options.pageBytesMax),
              options.dictionaryBytesMax >= 0, options.dictionaryEntriesMax >= 0 else {
            throw ParquetError(.invalidInput, "row group, page or dictionary limit out of range")
        }
    }

    /// Checks shapes and returns the row count shared by all columns.
    func validate(_ columns: [ColumnData]) throws -> Int {
        guard columns.count == schema.columns.count else {
            throw ParquetError(.invalidInput, "row group has \(columns.count) columns, schema has \(schema.columns.count)", path: path)
        }
        let rows = columns[0].count
        for (column, spec) in zip(columns, schema.columns) {
            func fail(_ message: String) -> ParquetError {
                ParquetError(.invalidInput, "column '\(spec.name)': \(message)", path: path)
            }
            guard column.kind == spec.kind else { throw fail("kind \(column.kind), schema says \(spec.kind)") }
            guard column.count == rows else { throw fail("\(column.count) rows, first column has \(rows)") }
            if let validity = column.validity {
                guard validity.count >= (rows + 7) / 8 else { throw fail("validity bitmap too short") }
                if !spec.isOptional && column.nullCount > 0 { throw fail("nulls in a REQUIRED column") }
            }
            switch (spec.kind, column.storage) {
            case (.int64, .int64(let values)), (.timestamp, .int64(let values)):
                guard values.count == rows else { throw fail("\(values.count) values for \(rows) rows") }
            case (.double, .double(let values)):
                guard values.count == rows else { throw fail("\(values.count) values for \(rows) rows") }
            case (.bool, .bool(let values)):
                guard values.count == rows else { throw fail("\(values.count) values for \(rows) rows") }
            case (.string, .strings(let strings)):
                guard strings.count == rows else { throw fail("\(strings.count) values for \(rows) rows") }
                try validate(strings, fail)
            case (.string, .dictionary(let dictionary, let codes)):
                guard codes.count == rows else { throw fail("\(codes.count) codes for \(rows) rows") }
                try validate(dictionary, fail)
                for row in 0..<rows where column.isValid(row) && Int(codes[row]) >= dictionary.count {
                    throw fail("row \(row) has code \(codes[row]) outside a dictionary of \(dictionary.count)")
                }
            default:
                throw fail("storage does not match kind \(spec.kind)")
            }
        }
        return rows
    }

    private func validate(_ strings: StringColumn, _ fail: (String) -> ParquetError) throws {
        guard strings.offsets.first == 0, Int(strings.offsets.last!) == strings.bytes.count else {
            throw fail("string offsets do not span the byte buffer")
        }
        for index in 1..<strings.offsets.count where strings.offsets[index] < strings.offsets[index - 1] {
            throw fail("string offsets decrease at \(index)")
        }
    }
}
