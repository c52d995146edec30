import ColumnStore
import Core
import Hummingbird
import Query

extension APIRoutes {
    /// Parameters of `GET …/sites` that are not column filters.
    static let sitesReservedParameters: Set<String> = ["status", "q", "sort", "page", "per_page", "format"]
    static let siteStatuses = ["active", "deactivated", "skipped"]

    enum SitesFormat: String, CaseIterable { case json, csv }

    /// `GET …/projects/{id}/sites?status&q&sort&page&per_page&<column>=<value>…[&format=csv]`.
    func sites(_ request: Request, _ projectID: String) async throws -> Response {
        _ = try access.project(projectID, for: request)
        let parameters = APIParameters(request)
        let query = try SitesQuery(parameters)
        let format: SitesFormat = try parameters.choice("format", default: .json)
        let (page, perPage, offset) = try parameters.pagination()
        let indexes = self.sitesIndexes
        // One snapshot for the whole answer: its version keys the cache, its file the index.
        let snapshot = try warehouseSnapshot()
        // Every page comes from the project's index (`SitesIndex`, paged from the files): the
        // same cost at any page; `SitesQuery`'s SQL is the reference it is tested against.
        @Sendable func indexedPage(limit: Int?, offset: Int) throws -> (total: Int, result: QueryResult) {
            guard let index = try indexes.index(projectID: projectID, in: snapshot) else {
                return (0, QueryResult(columns: SitesIndex.resultColumns, rows: []))
            }
            let page = try index.page(query, limit: limit, offset: offset)
            return (page.total, QueryResult(columns: SitesIndex.resultColumns, rows: page.rows))
        }
        if format == .csv {
            // An export takes every matching site unless the caller asked for a page.
            let paged = parameters["page"] != nil || parameters["per_page"] != nil
            let result = try await self.serverQuery {
                try indexedPage(limit: paged ? perPage : nil, offset: paged ? offset : 0).result
            }
            return APIResponses.streamed(contentType: "text/csv; charset=utf-8", for: request) { Self.csvPieces(result) }
        }
        return try await cachedJSON(request, version: snapshot.version) {
        let (total, result) = try await self.serverQuery { try indexedPage(limit: perPage, offset: offset) }
        let object = JSONObject([
            ("total", .number(String(total))),
            ("page", .number(String(page))),
            ("per_page", .number(String(perPage))),
            ("sites", .array(result.rowObjects)),
        ])
        return .object(object)
        }
    }

    /// The header, then one piece of CSV per batch of rows. The export is opened in
    /// spreadsheets and its strings come from any site that sends telemetry, so text cells
    /// that would run as formulas (`=HYPERLINK(…)`, `@SUM(…)`, a leading tab) are neutralised
    /// with a leading `'` (OWASP CSV injection); SQL's `format=csv` keeps values as they are.
    static func csvPieces(_ result: QueryResult) -> AnyIterator<[UInt8]> {
        var batches = result.batches.makeIterator()
        var headerSent = false
        return AnyIterator {
            if !headerSent {
                headerSent = true
                return Array(QueryResult(columns: result.columns, rows: []).renderCSV().utf8)
            }
            guard let batch = batches.next() else { return nil }
            let text = QueryResult(columns: result.columns, rows: batch).renderCSV(neutralizingFormulas: true)
            // Each piece is rendered with its own header line; only the first one is sent.
            return Array(text.utf8.drop(while: { $0 != 0x0A }).dropFirst())
        }
    }
}
