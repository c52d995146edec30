import ColumnStore
import Core
import Query

/// A deterministic events/sites dataset for the SQL tests: about 450 events over three
/// projects and three months, in scan units shaped like Parquet row groups (partitioned by
/// project and month), with dictionary-encoded and plain string columns, NULLs, a column
/// missing from one unit, and one unit without statistics.
struct TestDataset {
    static let projects = ["acme-seo", "beta-forms", "gamma"]
    static let shared = TestDataset()

    var eventRows: [[String: Value]] = []
    var siteRows: [[String: Value]] = []
    var eventUnits: [InMemoryScanUnit] = []
    var siteUnits: [InMemoryScanUnit] = []

    var catalog: InMemoryCatalog {
        InMemoryCatalog(tables: [InMemoryTable(schema: .events, units: eventUnits),
                                 InMemoryTable(schema: .sites, units: siteUnits)])
    }

    /// Columns stored dictionary-encoded (site_key alternates per unit).
    static let dictionaryColumns: Set<String> = [
        "project_id", "event", "wp_locale", "php_minor", "wp_minor", "php_version", "reason_id", "status",
    ]

    init() {
        var random = SplitMix64(seed: 20_261_128)
        let layout: [(project: String, month: String, unitRowCounts: [Int])] = [
            ("acme-seo", "2026-01", [60]),
            ("acme-seo", "2026-02", [50, 45]),
            ("acme-seo", "2026-03", [55]),
            ("beta-forms", "2026-01", [40]),
            ("beta-forms", "2026-02", [48]),
            ("beta-forms", "2026-03", [52]),
            ("gamma", "2026-01", [30]),
            ("gamma", "2026-03", [35]),
        ]
        var eventNumber = 0
        var unitNumber = 0
        for part in layout {
            let monthStart = parseMonthStart(part.month)
            let monthSeconds: Int64 = 28 * 86_400
            for (rowGroup, rowCount) in part.unitRowCounts.enumerated() {
                var unitRows: [[String: Value]] = []
                // Row groups of one file cover consecutive time ranges, sorted by received_at.
                let span = monthSeconds / Int64(part.unitRowCounts.count)
                let base = monthStart + Int64(rowGroup) * span * 1_000_000
                var offsets = (0..<rowCount).map { _ in Int64(random.next() % UInt64(span)) * 1_000_000 }
                offsets.sort()
                for row in 0..<rowCount {
                    eventNumber += 1
                    var micros = base + offsets[row]
                    if row % 7 == 3 { micros += Int64(random.next() % 1_000_000) }
                    unitRows.append(makeEvent(number: eventNumber, project: part.project, micros: micros,
                                              random: &random))
                }
                eventRows += unitRows
                var omitted: Set<String> = []
                if part.project == "gamma" && part.month == "2026-01" { omitted = ["extra", "users"] }
                let name = "events/\(part.project)/\(part.month)/part-0.parquet#rg\(rowGroup)"
                eventUnits.append(makeUnit(name: name, schema: .events, rows: unitRows,
                                           partition: ["project_id": part.project, "month": part.month],
                                           plainSiteKey: unitNumber % 2 == 1, omitted: omitted,
                                           withStatistics: !(part.project == "beta-forms" && part.month == "2026-02")))
                unitNumber += 1
            }
        }
        siteRows = TestDataset.latestSites(eventRows)
        for project in TestDataset.projects {
            let rows = siteRows.filter { $0["project_id"] == .string(project) }
            siteUnits.append(makeUnit(name: "sites/\(project)/sites.parquet#rg0", schema: .sites, rows: rows,
                                      partition: ["project_id": project], plainSiteKey: false, omitted: [],
                                      withStatistics: true))
        }
    }

    private func makeEvent(number: Int, project: String, micros: Int64, random: inout SplitMix64) -> [String: Value] {
        func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
        var row: [String: Value] = [:]
        let roll = random.next() % 100
        let event = roll < 70 ? "track" : (roll < 85 ? "deactivate" : "skip")
        row["event_id"] = .string(String(format6(number)))
        row["received_at"] = .timestamp(micros)
        row["project_id"] = .string(project)
        row["event"] = .string(event)
        let siteNumber = Int(random.next() % 40)
        let hasURL = event != "skip" && !chance(5)
        if hasURL {
            let site = "site\(siteNumber < 10 ? "0" : "")\(siteNumber).example.com"
            row["site_key"] = .string(site)
            row["url"] = .string("https://www.\(site)/")
            row["site_name"] = .string(chance(10) ? "Site, \"quoted\" \(siteNumber)" : "Site \(siteNumber)")
            row["admin_email"] = .string("admin@site\(siteNumber).example.com")
            row["first_name"] = .string(pick(["Ana", "Bo", "Chen", "Dana", "Émile"]))
        }
        row["site_hash"] = chance(10) ? .null : .string(hexHash(siteNumber))
        let php = pick(["7.4.33", "8.0.30", "8.1.2", "8.2.10", "8.3.1", ""])
        if !php.isEmpty {
            row["php_version"] = .string(php)
            row["php_minor"] = .string(String(php.split(separator: ".").prefix(2).joined(separator: ".")))
        }
        let wp = pick(["6.3.1", "6.4", "6.5.2", "6.5.3", ""])
        if !wp.isEmpty {
            row["wp_version"] = .string(wp)
            row["wp_minor"] = .string(String(wp.split(separator: ".").prefix(2).joined(separator: ".")))
        }
        let locale = pick(["en_US", "en_US", "de_DE", "fr_FR", "es_ES", ""])
        if !locale.isEmpty { row["wp_locale"] = .string(locale) }
        row["project_version"] = .string(pick(["1.0.0", "1.1.0", "1.2.3", "2.0.0"]))
        row["client_version"] = .string(pick(["1.2.0", "2.0.1"]))
        row["server_software"] = .string(pick(["Apache", "nginx/1.24.0", "LiteSpeed"]))
        row["php_curl"] = chance(10) ? .null : .bool(chance(80))
        row["wp_multisite"] = .bool(chance(15))
        row["wp_debug_mode"] = chance(20) ? .null : .bool(chance(30))
        row["is_local"] = .bool(chance(5))
        if event != "skip" {
            row["users_total"] = chance(8) ? .null : .int64(Int64(random.next() % 50))
            row["active_plugins"] = .int64(Int64(random.next() % 30))
            row["inactive_plugins"] = chance(10) ? .null : .int64(Int64(random.next() % 10))
            let editors = Int(random.next() % 5)
            row["users"] = .string("{\"administrator\":1,\"editor\":\(editors)}")
            row["plugins"] = .string("[{\"slug\":\"akismet\",\"name\":\"Akismet\",\"version\":\"5.\(editors)\"}]")
            if chance(60) {
                let posts = Int(random.next() % 500)
                row["extra"] = .string("{\"total_posts\":\(posts),\"theme\":{\"name\":\"\(pick(["Astra", "Neve"]))\"}}")
            }
        }
        if event == "deactivate" {
            row["reason_id"] = chance(20) ? .null : .string(pick(["could-not-understand", "found-better-plugin",
                                                                 "other", "too-expensive"]))
            if chance(40) { row["reason_info"] = .string("it's broken, sorry") }
        }
        if event == "skip" { row["previously_skipped"] = .bool(chance(30)) }
        row["tracking_skipped"] = .bool(event == "skip")
        return row
    }

    /// The `sites` rows: the latest event per (project_id, site_key) plus the four extra columns.
    static func latestSites(_ events: [[String: Value]]) -> [[String: Value]] {
        var groups: [String: [[String: Value]]] = [:]
        for event in events {
            guard case .string(let project) = event["project_id"], case .string(let site) = event["site_key"] else {
                continue
            }
            groups["\(project)|\(site)", default: []].append(event)
        }
        var result: [[String: Value]] = []
        for key in groups.keys.sorted() {
            let rows = groups[key]!
            func micros(_ row: [String: Value]) -> Int64 {
                if case .timestamp(let value) = row["received_at"] { return value }
                return 0
            }
            func id(_ row: [String: Value]) -> String {
                if case .string(let value) = row["event_id"] { return value }
                return ""
            }
            let latest = rows.max { (micros($0), id($0)) < (micros($1), id($1)) }!
            var site = latest
            site["first_seen"] = .timestamp(rows.map(micros).min()!)
            site["last_seen"] = .timestamp(rows.map(micros).max()!)
            site["event_count"] = .int64(Int64(rows.count))
            site["status"] = .string(latest["event"] == .string("track") ? "active" : "deactivated")
            result.append(site)
        }
        return result
    }

    private func makeUnit(name: String, schema: TableSchema, rows: [[String: Value]], partition: [String: String],
                          plainSiteKey: Bool, omitted: Set<String>, withStatistics: Bool) -> InMemoryScanUnit {
        var columns: [String: ColumnData] = [:]
        for column in schema.columns where !omitted.contains(column.name) {
            let values = rows.map { $0[column.name] ?? .null }
            let dictionary = TestDataset.dictionaryColumns.contains(column.name)
                || (column.name == "site_key" && !plainSiteKey)
            columns[column.name] = makeColumn(column.kind, values, dictionary: dictionary)
        }
        return InMemoryScanUnit(name: name, rowCount: rows.count, partitionValues: partition, columns: columns,
                                computeStatistics: withStatistics)
    }
}

/// Builds a storage column from values, like a Parquet reader would hand it over.
func makeColumn(_ kind: ColumnKind, _ values: [Value], dictionary: Bool = false) -> ColumnData {
    var validity = [UInt8](repeating: 0, count: (values.count + 7) / 8)
    var hasNull = false
    for (row, value) in values.enumerated() {
        if value.isNull { hasNull = true } else { validity[row >> 3] |= 1 << UInt8(row & 7) }
    }
    let storage: ColumnStorage
    switch kind {
    case .int64, .timestamp:
        storage = .int64(values.map {
            switch $0 {
            case .int64(let v), .timestamp(let v): return v
            default: return 0
            }
        })
    case .double:
        storage = .double(values.map { if case .double(let v) = $0 { return v } else { return 0 } })
    case .bool:
        storage = .bool(values.map { if case .bool(let v) = $0 { return v ? 1 : 0 } else { return 0 } })
    case .string:
        let strings = values.map { if case .string(let v) = $0 { return v } else { return "" } }
        if dictionary {
            var entries: [String] = []
            var codesByEntry: [String: UInt32] = [:]
            var codes: [UInt32] = []
            for (row, string) in strings.enumerated() {
                if values[row].isNull { codes.append(0); continue }
                if let code = codesByEntry[string] {
                    codes.append(code)
                } else {
                    codesByEntry[string] = UInt32(entries.count)
                    codes.append(UInt32(entries.count))
                    entries.append(string)
                }
            }
            if entries.isEmpty { entries = [""] }
            storage = .dictionary(dictionary: StringColumn(entries), codes: codes)
        } else {
            storage = .strings(StringColumn(strings))
        }
    }
    return ColumnData(kind: kind, count: values.count, validity: hasNull ? validity : nil, storage: storage)
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func format6(_ number: Int) -> String {
    let digits = String(number)
    return "ev" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
}

private func hexHash(_ site: Int) -> String {
    var random = SplitMix64(seed: UInt64(site) &+ 77)
    let digits = Array("0123456789abcdef")
    return String((0..<32).map { _ in digits[Int(random.next() % 16)] })
}

private func parseMonthStart(_ month: String) -> Int64 {
    let parts = month.split(separator: "-").map { Int64($0)! }
    // Days from 1970-01-01 to the first of the month (years 2026.. only).
    var days: Int64 = 0
    for year in 1970..<parts[0] { days += (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 366 : 365 }
    let monthDays: [Int64] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    for month in 1..<parts[1] { days += monthDays[Int(month) - 1] }
    return days * 86_400 * 1_000_000
}

/// A table of `rows` rows in units of `unitRows`: `users_total = n`, `site_key = "k<n % keys>"`
/// (dictionary-encoded in even units, plain in odd ones), `event_id = "e<n>"`,
/// `received_at` = 2026-01-01 00:00:00 UTC + n seconds, and (when asked) a dictionary
/// `project_id` column besides the partition value.
func bigCatalog(rows: Int, unitRows: Int, keys: Int, projectIDColumn: Bool = true) -> InMemoryCatalog {
    var units: [InMemoryScanUnit] = []
    var start = 0
    while start < rows {
        let end = min(rows, start + unitRows)
        let numbers = (start..<end).map { Value.int64(Int64($0)) }
        let strings = (start..<end).map { Value.string("k\($0 % keys)") }
        let times = (start..<end).map { Value.timestamp(1_767_225_600_000_000 + Int64($0) * 1_000_000) }
        var columns = ["users_total": makeColumn(.int64, numbers),
                       "site_key": makeColumn(.string, strings, dictionary: units.count % 2 == 0),
                       "event_id": makeColumn(.string, numbers.map { .string("e\($0)") }),
                       "received_at": makeColumn(.timestamp, times)]
        if projectIDColumn {
            columns["project_id"] = makeColumn(.string, numbers.map { _ in .string("big") }, dictionary: true)
        }
        units.append(InMemoryScanUnit(name: "big#\(units.count)", rowCount: end - start,
                                      partitionValues: ["project_id": "big"], columns: columns))
        start = end
    }
    return InMemoryCatalog(tables: [InMemoryTable(schema: .events, units: units)])
}
