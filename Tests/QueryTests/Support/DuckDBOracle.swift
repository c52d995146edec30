import Core
import Foundation
import Query

/// Runs SQL on DuckDB (Python package, from the `TRACKHOUSE_PYTHON` interpreter that
/// `make test` provides) over the same dataset, for differential tests and for recording
/// the expected results of `.test` files. Not available = tests that need it are skipped.
enum DuckDBOracle {
    struct Answer: Decodable {
        var rows: [[String]]?
        var error: String?
    }

    static var python: String? {
        guard let path = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"],
              FileManager.default.isExecutableFile(atPath: path) else { return nil }
        return path
    }

    /// Answers for `queries`, in order.
    static func run(_ queries: [String], dataset: TestDataset, python: String) throws -> [Answer] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("query-oracle-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataURL = directory.appendingPathComponent("data.json")
        let queriesURL = directory.appendingPathComponent("queries.json")
        let scriptURL = directory.appendingPathComponent("oracle.py")
        let outputURL = directory.appendingPathComponent("answers.json")
        try datasetJSON(dataset).write(to: dataURL, atomically: true, encoding: .utf8)
        try JSONSerialization.data(withJSONObject: queries).write(to: queriesURL)
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [scriptURL.path, dataURL.path, queriesURL.path, outputURL.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "DuckDBOracle", code: Int(process.terminationStatus))
        }
        return try JSONDecoder().decode([Answer].self, from: Data(contentsOf: outputURL))
    }

    private static func datasetJSON(_ dataset: TestDataset) -> String {
        func table(_ schema: TableSchema, _ rows: [[String: Value]]) -> String {
            let columns = schema.columns.map { "[\"\($0.name)\",\"\($0.type.name)\"]" }.joined(separator: ",")
            let body = rows.map { row in
                "[" + schema.columns.map { column -> String in
                    switch row[column.name] ?? .null {
                    case .null: return "null"
                    case .int64(let v), .timestamp(let v): return String(v)
                    case .double(let v): return v.description
                    case .bool(let v): return v ? "true" : "false"
                    case .string(let v): return jsonQuoted(v)
                    }
                }.joined(separator: ",") + "]"
            }.joined(separator: ",\n")
            return "{\"columns\":[\(columns)],\"rows\":[\(body)]}"
        }
        // Units that lack a column read it as NULL: export what the engine sees.
        var events = dataset.eventRows
        var offset = 0
        for unit in dataset.eventUnits {
            for column in TableSchema.events.columns where unit.columns[column.name] == nil {
                for row in offset..<(offset + unit.rowCount) { events[row][column.name] = .null }
            }
            offset += unit.rowCount
        }
        return "{\"events\":\(table(.events, events)),\"sites\":\(table(.sites, dataset.siteRows))}"
    }

    private static func jsonQuoted(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text])
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }

    private static let script = #"""
import datetime, json, math, sys
import duckdb

data = json.load(open(sys.argv[1]))
queries = json.load(open(sys.argv[2]))
con = duckdb.connect()
con.execute("SET TimeZone='UTC'")
epoch = datetime.datetime(1970, 1, 1)
for name, table in data.items():
    columns = table["columns"]
    con.execute("CREATE TABLE %s (%s)" % (name, ", ".join('"%s" %s' % (c, t) for c, t in columns)))
    rows = []
    for row in table["rows"]:
        values = []
        for (c, t), v in zip(columns, row):
            if v is not None and t == "TIMESTAMP":
                v = epoch + datetime.timedelta(microseconds=v)
            values.append(v)
        rows.append(values)
    if rows:
        con.executemany("INSERT INTO %s VALUES (%s)" % (name, ", ".join("?" for _ in columns)), rows)

def text(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        r = round(v, 6)
        return repr(0.0 if r == 0 else r)
    if isinstance(v, datetime.datetime):
        s = v.strftime("%Y-%m-%d %H:%M:%S")
        if v.microsecond:
            s += ".%06d" % v.microsecond
        return s
    if isinstance(v, str):
        if v == "":
            return "(empty)"
        return v.replace("\t", "\\t").replace("\n", "\\n")
    return str(v)

answers = []
for q in queries:
    try:
        rows = con.execute(q).fetchall()
        answers.append({"rows": [[text(v) for v in row] for row in rows]})
    except Exception as e:
        answers.append({"error": str(e)})
json.dump(answers, open(sys.argv[3], "w"))
"""#
}
