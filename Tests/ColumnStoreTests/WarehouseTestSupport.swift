import Core
import Foundation
import Logging
@_exported import TrackhouseTestSupport
@testable import ColumnStore
import Workload

enum WarehouseTestSupport {
    static let end = UTCTime.parseISO("2026-06-01T00:00:00Z")!

    /// A generated raw dataset (deterministic for the seed).
    static func generate(into directory: String, sites: Int = 300, weeks: Int = 10, seed: UInt64 = 11) throws {
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: directory, projects: 3, sites: sites,
                                                                     weeks: weeks, seed: seed, endMicros: end))
    }

    /// A new temporary data directory holding a copy of `directory`'s raw files and
    /// registry (nothing compacted): the same input for a second compaction.
    static func copyOfRawData(_ directory: String, _ name: String = #function) throws -> String {
        let copy = TrackhouseTestSupport.makeTemporaryDirectory(name)
        try copyTree(directory + "/raw", copy + "/raw")
        try copyTree(directory + "/projects.json", copy + "/projects.json")
        return copy
    }

    static func copyTree(_ source: String, _ target: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/cp")
        process.arguments = ["-a", source, target]
        try process.run()
        process.waitUntilExit()
    }

    /// Every committed row of a table, rendered as text (partition key included), sorted by
    /// UTF-8 bytes: two warehouses hold the same table when these are equal. Strings escape
    /// backslash, newline and carriage return so a row is one line, as `Tests/interop/row_text.py`
    /// renders other engines' rows.
    static func tableRows(_ dataDirectory: String, _ table: SegmentEntry.Table) throws -> [String] {
        let layout = WarehouseLayout(dataDirectory: dataDirectory)
        let state = try WarehouseLog.load(layout: layout)
        let columns = table == .events ? TableSchema.events.columns : TableSchema.sites.columns
        var rows: [String] = []
        // `sites` is each project's base overlaid by its deltas: the merged rows (SitesLayers).
        var parts: [(segment: SegmentEntry, reader: ParquetFileReader, group: Int, rows: [Int32]?)] = []
        if table == .sites {
            for projectID in Set(state.segments.values.map(\.projectID)).sorted() {
                let layers = try state.sitesLayers(projectID: projectID).map { (file: $0, reader: try ParquetFileReader(path: layout.absolute($0.path))) }
                for selection in try SitesLayers.selections(layers) {
                    parts.append((selection.file, layers.first { $0.file.path == selection.file.path }!.reader, selection.rowGroup, selection.rows))
                }
            }
        } else {
            for segment in state.segments(table: table) {
                let reader = try ParquetFileReader(path: layout.absolute(segment.path))
                for group in 0..<reader.rowGroups.count { parts.append((segment, reader, group, nil)) }
            }
        }
        for (segment, reader, group, selected) in parts {
            do {
                let data = try reader.readRowGroup(group)
                for row in selected.map({ $0.map(Int.init) }) ?? Array(0..<reader.rowGroups[group].rowCount) {
                    var cells: [String] = []
                    for column in columns {
                        if column.name == "project_id" { cells.append(segment.projectID); continue }
                        guard let position = reader.schema.index(of: column.name) else { cells.append("∅"); continue }
                        let value = data[position]
                        switch column.kind {
                        case .string: cells.append(value.string(at: row).map(escapedCell) ?? "∅")
                        case .timestamp, .int64: cells.append(value.int64(at: row).map(String.init) ?? "∅")
                        case .bool: cells.append(value.bool(at: row).map { $0 ? "t" : "f" } ?? "∅")
                        case .double: cells.append(value.double(at: row).map { String($0) } ?? "∅")
                        }
                    }
                    rows.append(cells.joined(separator: "|"))
                }
            }
        }
        return sortedByBytes(rows)
    }

    static func escapedCell(_ text: String) -> String {
        var escaped = ""
        escaped.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped.unicodeScalars.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": escaped.unicodeScalars.append(contentsOf: "\\n".unicodeScalars)
            case "\r": escaped.unicodeScalars.append(contentsOf: "\\r".unicodeScalars)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Byte order, as Python sorts `str.encode("utf-8")`: Swift's `<` compares canonically
    /// equivalent strings (`é` and `e` + U+0301) as equal, which other engines do not.
    static func sortedByBytes(_ lines: [String]) -> [String] {
        lines.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
