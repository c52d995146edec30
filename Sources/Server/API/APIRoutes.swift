import Hummingbird
import Ingest
import Logging
import Query

/// The dashboard API under `/api/v1` (CONTRACT §7) and `POST /api/v1/query` (§6). Each
/// endpoint lives in its own file as an extension of this type.
public struct APIRoutes: Sendable {
    let access: APIAccess
    let charts: any ChartQueries
    /// Runs the API's own SQL (sites lists, deactivation pages): room for a full CSV export.
    let engine: QueryEngine
    /// Runs callers' SQL with the CLI's default limits.
    let sqlEngine: QueryEngine
    let serves: Bool

    /// Largest sites CSV export, in rows.
    static let exportRowsMax = 2_000_000

    public init(components: TrackhouseComponents, logger: Logger = Logger(label: "trackhouse.api")) {
        let catalog = WarehouseCatalog(dataDirectory: components.configuration.dataDirectory)
        let engine = QueryEngine(catalog: catalog, options: QueryOptions(resultRowsMax: Self.exportRowsMax), logger: logger)
        self.access = APIAccess(registry: components.registry)
        self.charts = WarehouseChartQueries(engine: engine)
        self.engine = engine
        self.sqlEngine = QueryEngine(catalog: catalog, options: QueryOptions(), logger: logger)
        // An ingest-only node has no business answering reads.
        self.serves = components.configuration.role != .ingest
    }

    public func register(on router: Router<TrackhouseRequestContext>) {
        guard serves else { return }
        let api = router.group("api/v1")
        api.get("projects") { request, _ in try await self.projects(request) }
        api.get("projects/:id/stats") { request, context in try await self.stats(request, try Self.projectID(context)) }
        api.get("projects/:id/timeseries") { request, context in try await self.timeseries(request, try Self.projectID(context)) }
        api.get("projects/:id/breakdown") { request, context in try await self.breakdown(request, try Self.projectID(context)) }
        api.get("projects/:id/deactivations") { request, context in try await self.deactivations(request, try Self.projectID(context)) }
        api.get("projects/:id/sites") { request, context in try await self.sites(request, try Self.projectID(context)) }
        api.post("query") { request, _ in try await self.query(request) }
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
