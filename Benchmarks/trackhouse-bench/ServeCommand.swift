import ArgumentParser
import Logging
import Metrics
import Prometheus
import Server

/// `trackhouse-bench serve`: the product's server (`Server.buildApplication`, the same
/// channel pipeline and event-loop front door as `trackhouse serve`) plus the ingest
/// benchmark's anchor, `POST /_bench/bare`: a route on the same stack that reads the body and
/// stores nothing. It is added through `FrontDoorRoute`, so it is answered where the SDK routes
/// are (on the event loop, or by the router with `--ingest-on-router`) and the durable/bare
/// ratio compares the durable path with the HTTP stack alone.
///
/// Takes the `serve` options the ingest benchmarks vary; the rest keep `serve`'s defaults.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server with the bare anchor route POST /_bench/bare (reads the body, stores nothing).")

    @Option(help: "The data folder (projects.json, raw/, warehouse/).") var data = "./data"
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind.") var port = 8080
    @Option(help: "Which parts run here: ingest, query or all.") var role = "all"
    @Option(name: .customLong("writer-id"), help: "Name of this writer in raw file names (default: the host name).")
    var writerID: String?
    @Option(name: .customLong("commit-interval-us"), help: "As `trackhouse serve --commit-interval-us`.")
    var commitIntervalMicros: Int?
    @Option(name: .customLong("commit-lanes"), help: "As `trackhouse serve --commit-lanes`.")
    var commitLanes: Int?
    @Flag(name: .customLong("ingest-on-router"),
          help: "Answer the SDK routes and the bare route through the router on a task instead of on the event loop (same answers; the front door's comparison).")
    var ingestOnRouter = false
    @Option(name: .customLong("compact-interval"), help: "Seconds between in-process compactions (0 = never; roles query and all).")
    var compactInterval: Double = 15
    @Flag(name: .customLong("no-rollups"), help: "Answer chart endpoints by scanning the warehouse.")
    var noRollups = false
    @Option(name: .customLong("idle-timeout"), help: "As `trackhouse serve --idle-timeout` (0 = never).")
    var idleTimeout: Double = 60
    @Option(name: .customLong("log-level")) var logLevel: Logger.Level = .info

    func validate() throws {
        guard ServerConfiguration.Role(rawValue: role) != nil else {
            throw ValidationError("--role must be ingest, query or all")
        }
        if let commitIntervalMicros, !(0...100_000).contains(commitIntervalMicros) {
            throw ValidationError("--commit-interval-us must be between 0 and 100000")
        }
        if let commitLanes, !(1...16).contains(commitLanes) {
            throw ValidationError("--commit-lanes must be between 1 and 16")
        }
    }

    /// `{"ok":true,"bytes":N}`: the body was read, nothing was decoded or stored.
    static let bareRoute = FrontDoorRoute(path: "/_bench/bare") { body in
        var json: [UInt8] = Array(#"{"ok":true,"bytes":"#.utf8)
        json.append(contentsOf: String(body.count).utf8)
        json.append(UInt8(ascii: "}"))
        return (200, json)
    }

    func run() async throws {
        let logger = LogSetup.bootstrap(level: logLevel)
        // /metrics as `serve` has it: the benchmark reads the fsync counters from it.
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))

        var configuration = ServerConfiguration(dataDirectory: data, writerID: writerID)
        configuration.host = host
        configuration.port = port
        configuration.role = ServerConfiguration.Role(rawValue: role)!
        configuration.ingestOnEventLoop = !ingestOnRouter
        configuration.compactionIntervalSeconds = compactInterval > 0 ? compactInterval : nil
        configuration.rollupsEnabled = !noRollups
        configuration.idleTimeoutSeconds = idleTimeout > 0 ? idleTimeout : nil
        configuration.commitLanes = commitLanes
        configuration.commitIntervalMicros = commitIntervalMicros
        let components = try buildComponents(configuration: configuration, logger: logger)
        let app = buildApplication(components: components, logger: logger,
                                   metricsText: { prometheus.emitToBuffer() },
                                   frontDoorRoutes: [Self.bareRoute],
                                   onServerRunning: { channel in
            logger.info("trackhouse-bench listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        })
        try await app.runService()
    }
}
