import Core
import Foundation
import Ingest

/// `trackhouse privacy export` / `POST …/privacy/export` (CONTRACT §9): everything stored of
/// one subject, `{"events":[…],"sites":[…],"raw_lines":n}`. Read-only and lock-free: it reads
/// the committed warehouse and the raw files as they are (the same matching as the erase).
/// - `events`: every `events` row of the subject (its columns in CONTRACT order; timestamps
///   ISO-8601 UTC, NULL as null), ordered by `received_at`, then `event_id`.
/// - `sites`: the `sites` rows of the subject — the site (`--site`), or the sites whose
///   latest event carries the email — ordered by `site_key`.
/// - `raw_lines`: how many raw lines (any raw file, compacted or not) are the subject's.
extension Compactor {
    public func exportSubject(projectID: String, subject: PrivacySubject) throws -> JSONValue {
        registry = try loadRegistry()
        guard registry.project(id: projectID) != nil else {
            throw WarehouseError(.io, "no project with id \"\(projectID)\" in \(dataDirectory)/projects.json")
        }
        state = try WarehouseLog.load(layout: layout, parts: .files)
        let matcher = RawSubjectMatcher(projectID: projectID, subject: subject, registry: registry)
        var rawLines = 0
        var rawMatches: [String: Int64] = [:]
        var unindexedMatchTimes: [Int64] = []
        let subjectHash = SubjectKeyIndex.hash(subject: subject)
        var packs = RawKeyIndexReader(dataDirectory: dataDirectory)
        for file in rawLayout.listFiles() {
            // Files the erase index clears are skipped, but for lines past what it covers.
            var from: Int64 = 0
            if case .absent(let covered, let tail) = SubjectKeyIndex.verdict(reader: &packs, file: file, hash: subjectHash) {
                guard tail else { continue }
                from = covered
            }
            var content = try FileIO.readFile(file.path, fromOffset: from)
            if file.isCompressed {
                guard let inflated = try? Gzip.inflate(content) else { continue }
                content = inflated
            }
            for match in matcher.matches(in: content) {
                rawLines += 1
                if let id = match.eventID { rawMatches[id] = match.receivedAtMicros ?? 0 }
                if !match.inIndexedColumn { unindexedMatchTimes.append(match.receivedAtMicros ?? 0) }
            }
        }
        var events: [(time: Int64, id: String, value: JSONValue)] = []
        for segment in state.segments(table: .events, projectID: projectID) {
            if let index = SubjectKeyIndex.loadSegment(dataDirectory: dataDirectory, segment), !index.contains(subjectHash),
               !unindexedMatchTimes.contains(where: { $0 >= segment.receivedAtMin && $0 <= segment.receivedAtMax }) { continue }
            var noKeys: SubjectKeySet?
            let hits = try subjectRows(in: segment, subject: subject, rawMatches: rawMatches, collecting: &noKeys)
            guard !hits.isEmpty else { continue }
            let reader = try ParquetFileReader(path: layout.committedPath(segment.path))
            for (group, marks) in hits {
                let columns = try reader.readRowGroup(group)
                for row in marks.indices where marks[row] {
                    let object = Self.jsonRow(columns, schema: reader.schema, row: row, table: TableSchema.events)
                    events.append((object["received_at_micros"].flatMap { Int64($0.scalarText ?? "") } ?? 0,
                                   object["event_id"]?.stringValue ?? "", object))
                }
            }
        }
        events.sort { ($0.time, $0.id) < ($1.time, $1.id) }
        var sites: [(key: String, value: JSONValue)] = []
        // The merged sites (base and deltas, `SitesLayers`): each site's newest row.
        let layers = try state.sitesLayers(projectID: projectID).map { (file: $0, reader: try ParquetFileReader(path: layout.committedPath($0.path))) }
        let readers = Dictionary(layers.map { ($0.file.path, $0.reader) }, uniquingKeysWith: { first, _ in first })
        for selection in try SitesLayers.selections(layers) where selection.rowCount > 0 {
            let reader = readers[selection.file.path]!
            let columns = try reader.readRowGroup(selection.rowGroup)
            let keys = reader.schema.index(of: "site_key").map { columns[$0] }
            let emails = reader.schema.index(of: "admin_email").map { columns[$0] }
            for row in selection.rows.map({ $0.map(Int.init) }) ?? Array(0..<reader.rowGroups[selection.rowGroup].rowCount)
            where subject.matches(siteKey: keys?.string(at: row), adminEmail: emails?.string(at: row)) {
                sites.append((keys?.string(at: row) ?? "", Self.jsonRow(columns, schema: reader.schema, row: row, table: TableSchema.sites)))
            }
        }
        sites.sort { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
        var object = JSONObject()
        object["events"] = .array(events.map { Self.droppingSortKey($0.value) })
        object["sites"] = .array(sites.map(\.value))
        object["raw_lines"] = .number(String(rawLines))
        return .object(object)
    }

    /// A row as a JSON object keyed by the table's columns in order (a column the file lacks
    /// is null). Events rows carry a hidden sort key, removed before output.
    static func jsonRow(_ columns: [ColumnData], schema: ParquetSchema, row: Int, table: TableSchema) -> JSONValue {
        var object = JSONObject()
        for column in table.columns {
            guard let index = schema.index(of: column.name), columns[index].isValid(row) else {
                object[column.name] = .null
                continue
            }
            let data = columns[index]
            switch column.kind {
            case .string: object[column.name] = data.string(at: row).map { .string($0) } ?? .null
            case .int64: object[column.name] = data.int64(at: row).map { .number(String($0)) } ?? .null
            case .timestamp:
                object[column.name] = data.int64(at: row).map { .string(UTCTime.formatISO(micros: $0)) } ?? .null
                if column.name == "received_at", table.name == TableSchema.events.name, let micros = data.int64(at: row) {
                    object["received_at_micros"] = .number(String(micros))
                }
            case .bool: object[column.name] = data.bool(at: row).map { .bool($0) } ?? .null
            case .double: object[column.name] = data.double(at: row).map { .number(String($0)) } ?? .null
            }
        }
        return .object(object)
    }

    static func droppingSortKey(_ value: JSONValue) -> JSONValue {
        guard case .object(var object) = value else { return value }
        object["received_at_micros"] = nil
        return .object(object)
    }
}
