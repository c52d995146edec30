import ColumnStore
import Core
import Foundation
import Hummingbird
import Integrations
import Logging
import Query

/// The dashboard API under `/api/v1` (CONTRACT §7) and `POST /api/v1/query` (§6). Each
/// endpoint lives in its own file as an extension of this type.
///
/// Decisions where the contract is silent:
/// - Defaults: `to` = now, `from` = `to` − 30 days; `metric=events`, `interval=day`;
///   `breakdown`'s `at` = now, `active_days` 14, `limit` 20; `timeseries` `limit` 10.
///   `dim` has no default (400). Limits: `limit` ≥ 0, `active_days` ≥ 1, `per_page` 1…1000.
/// - Errors: 400 `bad_request` with "parameter <name>: …"; 401 `unauthorized`; 403
///   `forbidden` (a project token asking for any project it does not hold, even a missing
///   one, so ids are not probeable); 404 `not_found` (admin, unknown project).
/// - Time series: the first bucket is the bucket of `from` (aligned like `date_trunc`) but
///   counts only rows at or after `from`; the last bucket is the last one starting before
///   `to`. `__other__` is, per bucket, the sum of the remaining keys' points (for the
///   distinct-count metrics a site with two values in a bucket counts in both). Keys rank
///   by their sum, ties by key ascending with NULL last.
/// - `breakdown`/`stats` "latest event" ties on `received_at` go to the greater `event_id`
///   (bytewise), as in the sites index. Sites without a site_key are never counted.
/// - `deactivations`: reasons ordered by count descending, then reason_id ascending with
///   NULL (no reason sent) last; `total` counts every deactivation in range.
/// - `sites`: `q` is a case-insensitive substring (LIKE wildcards in `q` are literal);
///   `<column>=<value>` repeated means any of the values; an empty value matches NULL; bool
///   values `true/false/1/0`. CSV exports every matching site unless `page` or `per_page`
///   is given (then that page); it is streamed unless gzip is asked for.
/// - `POST /query`: a project token's SQL runs in its project's scope; an admin token sees
///   all projects, or one with `?project=<id>`. `format=table` is accepted too, and a JSON
///   body `{"sql": "…"}` as well as plain SQL. Engine errors
///   in the caller's SQL are 400 with the engine's code (`syntax_error`, `binder_error`, …)
///   and message; I/O and internal errors are 500.
/// - gzip when `Accept-Encoding` lists `gzip`/`x-gzip`/`*` without `q=0`; `Vary` is always set.
/// - An `--role ingest` server does not serve the API.
public struct APIRoutes: Sendable {
    let access: APIAccess
    let charts: any ChartQueries
    /// Runs the API's own SQL (sites lists, deactivation pages): room for a full CSV export.
    let engine: QueryEngine
    /// Runs callers' SQL with the CLI's default limits.
    let sqlEngine: QueryEngine
    /// `GET …/sites` from memory.
    let sitesIndexes: SitesIndexStore
    /// Rendered answers per warehouse version (`ServerConfiguration.answerCacheBytesMax`).
    let responseCache: ResponseCache
    let serves: Bool
    let logger: Logger
    /// The committed warehouse every reader here goes through (its damaged files go to `/healthz`).
    let warehouse: WarehouseReader
    /// The data folder as configured and as an absolute path: cut from every message a caller
    /// sees, so no answer names the server's folders.
    let dataDirectoryPrefixes: [String]
    /// The integrations' outboxes (`GET …/deliveries`).
    let outboxes: OutboxStore
    /// The privacy endpoints' data folder, raw writer and rollups.
    let privacy: PrivacyContext

    /// Largest sites CSV export, in rows.
    static let exportRowsMax = 2_000_000

    public init(components: TrackhouseComponents, logger: Logger = Logger(label: "trackhouse.api")) {
        let catalog = WarehouseCatalog(warehouse: components.warehouse)
        self.warehouse = components.warehouse
        self.outboxes = components.outboxes
        let configured = components.configuration.dataDirectory
        let absolute = URL(fileURLWithPath: configured).standardizedFileURL.path
        self.dataDirectoryPrefixes = [absolute + "/", configured + "/", absolute, configured]
        let engine = QueryEngine(catalog: catalog, options: QueryOptions(resultRowsMax: Self.exportRowsMax), logger: logger)
        self.access = APIAccess(registry: components.registry)
        let scan = WarehouseChartQueries(engine: engine)
        self.charts = components.rollups.map { RollupChartQueries(rollups: $0, fallback: scan) } ?? scan
        self.engine = engine
        self.sqlEngine = QueryEngine(catalog: catalog, options: QueryOptions(), logger: logger)
        self.sitesIndexes = SitesIndexStore(warehouse: components.warehouse)
        self.responseCache = ResponseCache(bytesMax: max(0, components.configuration.answerCacheBytesMax))
        // An ingest-only node has no business answering reads.
        self.serves = components.configuration.role != .ingest
        self.logger = logger
        self.privacy = PrivacyContext(dataDirectory: configured, writer: components.writer, rollups: components.rollups,
                                      outboxes: components.outboxes)
    }

    func register(on router: Router<TrackhouseRequestContext>, table: RouteTable) {
        guard serves else { return }
        table.on(router, .get, "api/v1/projects") { request, _ in try await self.projects(request) }
        table.on(router, .get, "api/v1/projects/:id/stats") { request, context in try await self.stats(request, try Self.projectID(context)) }
        table.on(router, .get, "api/v1/projects/:id/timeseries") { request, context in try await self.timeseries(request, try Self.projectID(context)) }
        table.on(router, .get, "api/v1/projects/:id/breakdown") { request, context in try await self.breakdown(request, try Self.projectID(context)) }
        table.on(router, .get, "api/v1/projects/:id/deactivations") { request, context in try await self.deactivations(request, try Self.projectID(context)) }
        table.on(router, .get, "api/v1/projects/:id/sites") { request, context in try await self.sites(request, try Self.projectID(context)) }
        table.on(router, .get, "api/v1/projects/:id/deliveries") { request, context in try await self.deliveries(request, try Self.projectID(context)) }
        table.on(router, .post, "api/v1/query") { request, _ in try await self.query(request) }
        table.on(router, .post, "api/v1/projects/:id/privacy/export") { request, context in
            try await self.privacy(request, try Self.projectID(context), erase: false)
        }
        table.on(router, .post, "api/v1/projects/:id/privacy/erase") { request, context in
            try await self.privacy(request, try Self.projectID(context), erase: true)
        }
    }

    /// An engine error as a caller may read it: no server path in it.
    func publicMessage(_ error: any Error) -> String {
        var text = "\(error)"
        for prefix in dataDirectoryPrefixes where !prefix.isEmpty && prefix != "." && prefix != "./" {
            text = text.replacingOccurrences(of: prefix, with: "")
        }
        return text
    }

    /// Runs SQL the API wrote itself on the charts pool: an engine error there is the
    /// server's fault (500), unlike errors in SQL a caller sent to `POST /query`.
    func serverQuery<T: Sendable>(tenant: String = "", _ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await BlockingWork.run(tenant: tenant) { _ in try BlockingWork.retryingOnce(work) }
        } catch let error as QueryError {
            logger.error("API query failed", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, code: "query_failed", message: publicMessage(error))
        }
    }

    /// `/healthz`'s `damaged_files`: live warehouse files that failed to read.
    var damagedFilesJSON: JSONValue {
        .array(warehouse.damagedFiles.map { file in
            .object(JSONObject([("path", .string("warehouse/" + file.path)), ("error", .string(file.error))]))
        })
    }

    static func projectID(_ context: TrackhouseRequestContext) throws -> String {
        guard let id = context.parameters.get("id") else {
            throw APIError(.notFound, code: "not_found", message: "no project id in the path")
        }
        return id
    }

    /// A column of `table` named by a parameter, in its canonical spelling.
    static func column(_ name: String, of table: TableSchema, parameter: String) throws -> TableSchema.Column {
        guard let index = table.columnIndex(named: name) else {
            throw APIParameters.invalid(parameter, "unknown column \"\(name)\" of table \(table.name)")
        }
        return table.columns[index]
    }
}
