import ColumnStore
import Core
import Hummingbird
import HummingbirdCore
import Ingest
import Integrations
import Logging
import NIOCore
import Query
import ServiceLifecycle

/// The pieces `buildApplication` made, for tests that want to look inside.
public struct TrackhouseComponents: Sendable {
    public let configuration: ServerConfiguration
    public let registry: RegistryStore
    public let writer: RawLogWriter?
    public let ingest: IngestService?
    public let compaction: CompactionService?
    public let rollups: RollupStore?
    /// The committed warehouse as every reader in the server sees it (SQL, sites, rollups).
    public let warehouse: WarehouseReader
    /// The integrations' outboxes (the deliveries API reads them).
    public let outboxes: OutboxStore
    /// Follows the warehouse into the outboxes and delivers them (nil on an ingest-only node).
    public let deliveries: DeliveryWorker?
}

/// Runs the integrations' delivery worker until shutdown. In-flight requests are abandoned
/// on shutdown: they are still pending in the outbox and go again at the next start.
struct DeliveryService: Service {
    let worker: DeliveryWorker

    func run() async throws {
        await cancelWhenGracefulShutdown { await worker.run() }
    }
}

/// Keeps the raw writer open while the server runs and flushes it on shutdown. Registered
/// before the HTTP server, so on SIGTERM the server stops taking requests first and the writer
/// closes after the last in-flight append.
struct RawLogService: Service {
    let writer: RawLogWriter

    func run() async throws {
        try await gracefulShutdown()
        writer.shutdown()
    }
}

/// Builds the router (used by `buildApplication` and by in-process tests). `frontDoorRoutes`
/// are registered on it too: they answer here when the event loop does not take them.
public func buildRouter(components: TrackhouseComponents, metricsText: (@Sendable () -> [UInt8])? = nil,
                        frontDoorRoutes: [FrontDoorRoute] = []) -> Router<TrackhouseRequestContext> {
    buildRouterAndRoutes(components: components, metricsText: metricsText, frontDoorRoutes: frontDoorRoutes).router
}

/// The router and the table of what was registered on it (which the OpenAPI document is
/// checked against).
func buildRouterAndRoutes(components: TrackhouseComponents, metricsText: (@Sendable () -> [UInt8])? = nil,
                          frontDoorRoutes: [FrontDoorRoute] = []) -> (router: Router<TrackhouseRequestContext>, table: RouteTable) {
    // HEAD is answered wherever GET is (the GET's headers, no body).
    let router = Router(context: TrackhouseRequestContext.self, options: .autoGenerateHeadEndpoints)
    let table = RouteTable()
    // Outermost: counts every answer with the status an error becomes below it.
    router.add(middleware: RequestMetricsMiddleware(metrics: HTTPRouteMetrics(), accessLog: accessLogger(components.configuration)))
    // Next, so it wraps every route and the not-found answer.
    router.add(middleware: EdgeErrorMiddleware(table: table))
    if let ingest = components.ingest {
        IngestRoutes(service: ingest).register(on: router, table: table)
    }
    let api = APIRoutes(components: components)
    api.register(on: router, table: table)
    let bodyBytesMax = components.ingest?.options.bodyBytesMax ?? (1 << 20)
    for route in frontDoorRoutes {
        table.on(router, .post, String(route.path.drop(while: { $0 == "/" }))) { request, _ -> Response in
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: bodyBytesMax)
            } catch is NIOTooManyBytesError {
                // The front door's refusal, as the SDK routes give it on either path.
                return JSONResponse.error(status: 413, code: "payload_too_large",
                                          message: "the body is larger than \(bodyBytesMax) bytes")
            }
            let (status, json) = route.answer(Array(buffer.readableBytesView))
            return JSONResponse.make(status: .init(code: status), bytes: json)
        }
    }
    DashboardRoutes().register(on: router, table: table)
    OpenAPIDocument.register(on: router, table: table)
    SDKOtherRoutes().register(on: router, table: table)
    table.on(router, .get, "healthz") { _, _ -> Response in
        var object = JSONObject()
        // Degraded: the server answers, but some warehouse file cannot be read (its queries
        // fail, every other one works) or some project's rollups could not be built.
        let damaged = api.damagedFilesJSON
        let rollupError = components.rollups?.status.error
        let degraded = !api.warehouse.damagedFiles.isEmpty || rollupError != nil
        object["status"] = .string(degraded ? "degraded" : "ok")
        object["damaged_files"] = damaged
        object["role"] = .string(components.configuration.role.rawValue)
        var registry = JSONObject()
        registry["projects"] = .number(String(components.registry.registry.projects.count))
        registry["error"] = components.registry.lastError.map { .string($0) } ?? .null
        object["registry"] = .object(registry)
        object["compaction"] = components.compaction?.healthJSON ?? .null
        object["rollups"] = components.rollups.map { api.rollupsHealthJSON($0) } ?? .null
        if let deliveries = components.deliveries {
            var integrations = JSONObject()
            integrations["configured"] = .number(String(deliveries.catalog.all.count))
            integrations["refused"] = .array(deliveries.catalog.errors.map { .string($0.description) })
            integrations["follow_error"] = deliveries.lastFollowError.map { .string(api.publicMessage(DeliveryConfigurationError($0))) } ?? .null
            object["integrations"] = .object(integrations)
        }
        return JSONResponse.make(status: .ok, .object(object))
    }
    if let metricsText {
        table.on(router, .get, "metrics") { _, _ -> Response in
            // Sampled now rather than kept current: a scrape every few seconds costs less than
            // updating gauges on every commit.
            components.rollups?.recordLag()
            var bytes = metricsText()
            bytes += Array(ProcessMetrics.render(ProcessMetrics.sample()).utf8)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
    return (router, table)
}

/// The access log's logger when `--access-log` is on: its own label, at info whatever
/// `--log-level` says (asking for an access log is asking for its lines).
func accessLogger(_ configuration: ServerConfiguration) -> Logger? {
    guard configuration.accessLog else { return nil }
    var logger = Logger(label: "trackhouse.access")
    logger.logLevel = .info
    return logger
}

/// Opens the data folder, starts the raw writer and wires the HTTP application.
public func buildComponents(configuration: ServerConfiguration, logger: Logger) throws -> TrackhouseComponents {
    try FileIO.makeDirectories(configuration.dataDirectory)
    let registry = RegistryStore(path: configuration.dataDirectory + "/projects.json")
    if let error = registry.lastError {
        logger.warning("projects registry not loaded; every SDK request gets 404 until it is fixed", metadata: ["registry.error": "\(error)"])
    }
    var compaction: CompactionService? = nil
    if configuration.role != .ingest, let interval = configuration.compactionIntervalSeconds {
        compaction = CompactionService(dataDirectory: configuration.dataDirectory, intervalSeconds: interval,
                                       rawRetentionDays: configuration.rawRetentionDays,
                                       retentionMonths: configuration.retentionMonths, logger: logger)
    }
    let warehouse = WarehouseReader(dataDirectory: configuration.dataDirectory)
    var rollups: RollupStore? = nil
    if configuration.role != .ingest && configuration.rollupsEnabled {
        // Saved under `<data>/rollups/` so the next start reads them instead of every segment.
        let store = RollupStore(warehouse: warehouse, stateDirectory: RollupStore.stateDirectory(dataDirectory: configuration.dataDirectory),
                                windowDays: configuration.rollupWindowDays, logger: logger)
        // Fold each compaction's commit into the charts right away instead of at the next poll.
        compaction?.onRun = { _ in store.refreshSoon() }
        // Loading starts now, on the rollups' own queue: the raw writer's recovery below
        // walks the raw tree (tens of thousands of folders, mostly disk reads on a cold start)
        // while the state file is decoded (CPU), instead of one after the other.
        store.refreshSoon()
        rollups = store
    }
    var writer: RawLogWriter? = nil
    var ingest: IngestService? = nil
    if configuration.role != .query {
        var options = RawLogWriter.Options(writerID: configuration.writerID)
        options.sealEnabled = configuration.sealEnabled
        if let lanes = configuration.commitLanes { options.lanes = lanes }
        if let interval = configuration.commitIntervalMicros { options.commitIntervalMicros = interval }
        let rawWriter = RawLogWriter(layout: RawLayout(dataDirectory: configuration.dataDirectory), options: options, logger: logger)
        try rawWriter.start()
        writer = rawWriter
        ingest = IngestService(registry: registry, writer: rawWriter, options: configuration.ingest, logger: logger)
    }
    let outboxes = OutboxStore(dataDirectory: configuration.dataDirectory)
    var deliveries: DeliveryWorker? = nil
    if configuration.role != .ingest, var options = configuration.deliveries {
        // Digests: figures by the dashboard's chart queries (the rollups when built), added
        // to the outbox once per closed period (`DigestScheduler`).
        let engine = QueryEngine(catalog: WarehouseCatalog(warehouse: warehouse), logger: logger)
        let scan = WarehouseChartQueries(engine: engine)
        let charts: any ChartQueries = rollups.map { RollupChartQueries(rollups: $0, fallback: scan) } ?? scan
        let scheduler = DigestScheduler(outboxes: outboxes, figures: DigestFiguresQuery(charts: charts, engine: engine),
                                        registry: registry, settleSeconds: configuration.digestSettleSeconds, logger: logger)
        let previousHook = options.beforeDispatch
        options.beforeDispatch = { catalog in
            previousHook?(catalog)
            scheduler.step(catalog: catalog)
        }
        let worker = DeliveryWorker(dataDirectory: configuration.dataDirectory, warehouse: warehouse, outboxes: outboxes,
                                    options: options, logger: logger)
        // A commit of this server's compaction is followed right away; commits of a
        // `trackhouse compact` run elsewhere are found by the worker's poll.
        let previous = compaction?.onRun
        compaction?.onRun = { report in
            previous?(report)
            worker.wake()
        }
        deliveries = worker
    }
    return TrackhouseComponents(configuration: configuration, registry: registry, writer: writer, ingest: ingest,
                                compaction: compaction, rollups: rollups, warehouse: warehouse,
                                outboxes: outboxes, deliveries: deliveries)
}

/// The HTTP application over `components`. `frontDoorRoutes` are the embedding program's own
/// `POST` routes, answered by the same front door as the SDK routes (`FrontDoorRoute`).
public func buildApplication(components: TrackhouseComponents, logger: Logger,
                             metricsText: (@Sendable () -> [UInt8])? = nil,
                             frontDoorRoutes: [FrontDoorRoute] = [],
                             onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
    let router = buildRouter(components: components, metricsText: metricsText, frontDoorRoutes: frontDoorRoutes)
    // The SDK routes are answered on the event loop (`IngestChannelHandler`); the router keeps
    // them too, for in-process tests and as the same code's second caller.
    // With the access log on they go through the router, which logs every request (the
    // event loop's path stays free of per-request logging).
    let onEventLoop = components.configuration.ingestOnEventLoop && !components.configuration.accessLog
    let ingestRoutes = onEventLoop ? components.ingest.map { IngestRoutes(service: $0) } : nil
    let frontDoorRoutesOnEventLoop = onEventLoop ? frontDoorRoutes : []
    var services: [any Service] = []
    if let writer = components.writer { services.append(RawLogService(writer: writer)) }
    if let compaction = components.compaction { services.append(compaction) }
    if let rollups = components.rollups { services.append(rollups) }
    if let deliveries = components.deliveries { services.append(DeliveryService(worker: deliveries)) }
    let idleTimeout = components.configuration.idleTimeoutSeconds.map { TimeAmount.nanoseconds(Int64($0 * 1e9)) }
    return Application(
        router: router,
        server: HTTPServerBuilder { responder in
            TrackhouseHTTP1Channel(responder: responder, idleTimeout: idleTimeout, ingestRoutes: ingestRoutes,
                                   frontDoorRoutes: frontDoorRoutesOnEventLoop, serverName: "trackhouse")
        },
        configuration: .init(address: .hostname(components.configuration.host, port: components.configuration.port),
                             serverName: "trackhouse"),
        services: services,
        onServerRunning: onServerRunning,
        logger: logger)
}
