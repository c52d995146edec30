/// Output formats of `trackhouse query --format` and `POST /api/v1/query?format=`.
public enum ResultFormat: String, Sendable, CaseIterable {
    case json, jsonl, csv, table
}

extension QueryResult {
    public func render(_ format: ResultFormat) -> String {
        switch format {
        case .json: return renderJSON()
        case .jsonl: return renderJSONLines()
        case .csv: return renderCSV()
        case .table: return renderTable()
        }
    }

    /// `{"columns":[{"name":..,"type":..}],"rows":[[...]],"stats":{...}}`.
    public func renderJSON() -> String {
        var out = "{\"columns\":["
        for (index, column) in columns.enumerated() {
            if index > 0 { out += "," }
            out += "{\"name\":\(jsonString(column.name)),\"type\":\(jsonString(column.type.name))}"
        }
        out += "],\"rows\":["
        var first = true
        for batch in batches {
            for row in batch {
                if !first { out += "," }
                first = false
                out += "["
                for (index, value) in row.enumerated() {
                    if index > 0 { out += "," }
                    out += jsonValue(value)
                }
                out += "]"
            }
        }
        out += "],\"stats\":{"
        out += "\"rows\":\(rowCount),\"elapsed_ms\":\(formatDouble((stats.elapsedMs * 1000).rounded() / 1000)),"
        out += "\"units_total\":\(stats.unitsTotal),\"units_pruned\":\(stats.unitsPruned),"
        out += "\"units_scanned\":\(stats.unitsScanned),\"units_skipped\":\(stats.unitsSkipped),"
        out += "\"rows_scanned\":\(stats.rowsScanned)"
        out += "}}"
        return out
    }

    /// One JSON object per row, keyed by column name, each line ending in "\n".
    public func renderJSONLines() -> String {
        var out = ""
        let names = columns.map { jsonString($0.name) }
        for batch in batches {
            for row in batch {
                out += "{"
                for (index, (name, value)) in zip(names, row).enumerated() {
                    if index > 0 { out += "," }
                    out += name + ":" + jsonValue(value)
                }
                out += "}\n"
            }
        }
        return out
    }

    /// RFC 4180: header row, CRLF-free "\n" line ends, fields with `,` `"` or line breaks
    /// quoted with `""` escapes, NULL as an empty field.
    ///
    /// `neutralizingFormulas` is for exports that people open in spreadsheets (the sites CSV
    /// of the dashboard API), not for data handed to engines (`format=csv` of SQL, which keeps
    /// every value as it is): a VARCHAR cell that begins with `=`, `+`, `-`, `@`, tab or CR,
    /// which Excel, LibreOffice and Google Sheets would run as a formula (OWASP "CSV
    /// Injection"), gets a leading `'` and is quoted. Numbers, bools and timestamps are never
    /// changed (`-5` in a BIGINT column stays `-5`).
    public func renderCSV(neutralizingFormulas: Bool = false) -> String {
        // Fields are appended in place (no `joined`): the generic `joined(separator:)` costs a
        // runtime conformance lookup at its first call, a measurable part of a small query's process.
        var out = ""
        for (index, column) in columns.enumerated() {
            if index > 0 { out += "," }
            out += csvField(column.name)
        }
        out += "\n"
        for batch in batches {
            for row in batch {
                for (index, value) in row.enumerated() {
                    if index > 0 { out += "," }
                    if value.isNull { continue }
                    if neutralizingFormulas, case .string(let text) = value {
                        out += csvTextField(text)
                    } else {
                        out += csvField(displayText(value))
                    }
                }
                out += "\n"
            }
        }
        return out
    }

    /// Aligned text for people: header, rule, rows, and a row count.
    public func renderTable() -> String {
        let header = columns.map(\.name)
        let body = rows.map { $0.map { $0.isNull ? "NULL" : displayText($0).replacingOccurrences(of: "\n", with: "\\n") } }
        var widths = header.map(\.count)
        for row in body { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        let numeric = columns.map { $0.type == .bigint || $0.type == .double }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                return numeric[index] ? padding + cell : cell + padding
            }.joined(separator: " | ")
        }
        var out = line(header) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "-+-") + "\n"
        for row in body { out += line(row) + "\n" }
        out += "(\(body.count) row\(body.count == 1 ? "" : "s"))\n"
        return out
    }
}

/// Text of a value in CSV and table output; timestamps in ISO-8601 UTC like the JSON output.
func displayText(_ value: Value) -> String {
    switch value {
    case .timestamp(let micros): return formatTimestamp(micros, style: .iso)
    default: return value.textForCast
    }
}

func jsonValue(_ value: Value) -> String {
    switch value {
    case .null: return "null"
    case .int64(let v): return String(v)
    case .double(let v): return v.isFinite ? formatDouble(v) : "null"
    case .bool(let v): return v ? "true" : "false"
    case .string(let v): return jsonString(v)
    case .timestamp(let v): return jsonString(formatTimestamp(v, style: .iso))
    }
}

func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

func csvField(_ text: String) -> String {
    if text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    return text
}

/// A string cell of a spreadsheet export: `csvField`, except that text a spreadsheet would
/// take for a formula (first character `=` `+` `-` `@`, tab or CR) is prefixed with `'` and
/// always quoted, as OWASP's CSV injection guidance recommends.
func csvTextField(_ text: String) -> String {
    guard let first = text.utf8.first,
          first == UInt8(ascii: "=") || first == UInt8(ascii: "+") || first == UInt8(ascii: "-")
              || first == UInt8(ascii: "@") || first == 0x09 || first == 0x0D else { return csvField(text) }
    return "\"'" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
