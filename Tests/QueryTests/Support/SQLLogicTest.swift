import Foundation
import Query

/// One block of a `.test` file (sqllogictest style, as in DuckDB's test/sql):
///
///     # what the case checks
///     query [rowsort] [nodiff] [scope=<project>]
///     SELECT ...
///     ----
///     value<TAB>value          (NULL as NULL, empty string as (empty))
///
///     statement error
///     SELECT ...
///     ----
///     a substring of the error message
///
///     explain
///     SELECT ...
///     ----
///     lines that must each appear in the EXPLAIN output
///
/// `nodiff` keeps a case out of the DuckDB comparison (engine-specific output or settings).
struct SQLTestCase {
    enum Kind { case query, statementError, explain }

    var kind: Kind
    var sql: String
    var expected: [String]
    var rowSort = false
    var noDiff = false
    var scope: String?
    var file: String
    var line: Int
    /// Line range of the expected block in the file, for recording.
    var expectedLines: Range<Int>
}

enum SQLTestFile {
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("sql")
    }

    static func all() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "test" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func parse(_ url: URL) throws -> [SQLTestCase] {
        let lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        var cases: [SQLTestCase] = []
        var index = 0
        while index < lines.count {
            let header = lines[index].trimmingCharacters(in: .whitespaces)
            let words = header.split(separator: " ").map(String.init)
            guard let first = words.first, ["query", "statement", "explain"].contains(first) else {
                index += 1
                continue
            }
            let kind: SQLTestCase.Kind = first == "query" ? .query : (first == "explain" ? .explain : .statementError)
            let headerLine = index + 1
            index += 1
            var sqlLines: [String] = []
            while index < lines.count, lines[index] != "----" {
                sqlLines.append(lines[index])
                index += 1
            }
            index += 1 // ----
            let expectedStart = index
            var expected: [String] = []
            while index < lines.count, !lines[index].isEmpty {
                expected.append(lines[index])
                index += 1
            }
            var testCase = SQLTestCase(kind: kind, sql: sqlLines.joined(separator: "\n"), expected: expected,
                                       file: url.lastPathComponent, line: headerLine,
                                       expectedLines: expectedStart..<index)
            testCase.rowSort = words.contains("rowsort")
            testCase.noDiff = words.contains("nodiff")
            testCase.scope = words.first { $0.hasPrefix("scope=") }.map { String($0.dropFirst(6)) }
            cases.append(testCase)
        }
        return cases
    }
}

/// Renders values the way the `.test` files spell them (the DuckDB oracle does the same).
func testText(_ value: Value) -> String {
    switch value {
    case .null: return "NULL"
    case .int64(let v): return String(v)
    case .double(let v): return testDouble(v)
    case .bool(let v): return v ? "true" : "false"
    case .string(let v):
        if v.isEmpty { return "(empty)" }
        return v.replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\n", with: "\\n")
    case .timestamp(let micros): return testTimestamp(micros)
    }
}

func testDouble(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    let rounded = (value * 1_000_000).rounded() / 1_000_000
    return (rounded == 0 ? 0.0 : rounded).description
}

func testTimestamp(_ micros: Int64) -> String {
    let days = micros >= 0 ? micros / 86_400_000_000 : (micros - 86_399_999_999) / 86_400_000_000
    var rest = micros - days * 86_400_000_000
    // civil from days (Howard Hinnant)
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    let hour = rest / 3_600_000_000
    rest -= hour * 3_600_000_000
    let minute = rest / 60_000_000
    rest -= minute * 60_000_000
    let second = rest / 1_000_000
    let fraction = rest - second * 1_000_000
    func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
    if fraction != 0 { text += "." + pad(fraction, 6) }
    return text
}

/// Result rows as `.test` lines.
func testLines(_ result: QueryResult, rowSort: Bool) -> [String] {
    var lines = result.rows.map { $0.map(testText).joined(separator: "\t") }
    if rowSort { lines.sort() }
    return lines
}
