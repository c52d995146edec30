import ArgumentParser
import Foundation
import Ingest
import Logging
import Metrics
import Prometheus
import Server

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server: SDK ingest routes, health and metrics.")

    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind.") var port = 8080
    @Option(help: "Which parts run here: ingest, query or all (machines sharing one data folder split the work).")
    var role: String = "all"
    @Option(name: .customLong("writer-id"), help: "Name of this writer in raw file names (default: the host name). Unique per process sharing a data folder.")
    var writerID: String?
    @Option(name: .customLong("rate-limit"), help: "Requests per second allowed per client address (0 = unlimited).")
    var rateLimit: Double = 0
    @Option(name: .customLong("rate-burst"), help: "Burst size of the per-address rate limit.")
    var rateBurst: Double = 60
    @Option(name: .customLong("trusted-proxy"), help: "A proxy address or CIDR whose X-Forwarded-For is believed (repeatable).")
    var trustedProxies: [String] = []
    @Option(name: .customLong("commit-interval-us"), help: "Group commit: under sustained load a new fsync batch starts at most this often (µs; 0 = as soon as the previous one is done). Fewer fsyncs for IOPS-limited disks, up to that much added latency. Default 0.")
    var commitIntervalMicros: Int?
    @Option(name: .customLong("commit-lanes"), help: "Group commit: batches written and fsynced at once, each by its own thread into its own files (1-16). Default 1.")
    var commitLanes: Int?
    @Option(name: .customLong("compact-interval"), help: "Seconds between in-process compactions of new raw data (0 = never; roles query and all).")
    var compactInterval: Double = 15
    @Option(name: .customLong("raw-retention-days"), help: "With in-process compaction: delete fully compacted raw files whose hour ended over this many days ago (default: keep them).")
    var rawRetentionDays: Int?
    @Flag(name: .customLong("no-rollups"), help: "Answer chart endpoints by scanning the warehouse instead of from the in-memory rollups.")
    var noRollups = false
    @Option(name: .customLong("answer-cache-mb"), help: "Rendered read answers kept per warehouse version, in MiB (0 = no cache).")
    var answerCacheMB: Int = 64
    @Option(name: .customLong("idle-timeout"), help: "Close a connection that sends nothing for this many seconds: idle keep-alive, or a request that stops arriving (0 = never). A request being answered is never cut.")
    var idleTimeout: Double = 60
    @Option(name: .customLong("log-level")) var logLevel: Logger.Level = .info

    func validate() throws {
        guard ServerConfiguration.Role(rawValue: role) != nil else {
            throw ValidationError("--role must be ingest, query or all")
        }
        if let writerID, writerID.isEmpty || writerID.contains(where: { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            throw ValidationError("--writer-id may hold only letters, digits, '-' and '_'")
        }
        _ = try TrustedProxies(trustedProxies)
        if let commitIntervalMicros, !(0...100_000).contains(commitIntervalMicros) {
            throw ValidationError("--commit-interval-us must be between 0 and 100000")
        }
        if !(0...86_400).contains(idleTimeout) {
            throw ValidationError("--idle-timeout must be between 0 and 86400 seconds")
        }
        if let rawRetentionDays, rawRetentionDays < 0 {
            throw ValidationError("--raw-retention-days must be 0 or more")
        }
        if !(0...65_536).contains(answerCacheMB) {
            throw ValidationError("--answer-cache-mb must be between 0 and 65536")
        }
        if let commitLanes, !(1...16).contains(commitLanes) {
            throw ValidationError("--commit-lanes must be between 1 and 16")
        }
    }

    func run() async throws {
        let logger = LogSetup.bootstrap(level: logLevel)
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))

        var configuration = ServerConfiguration(dataDirectory: dataOptions.data, writerID: writerID)
        configuration.host = host
        configuration.port = port
        configuration.role = ServerConfiguration.Role(rawValue: role)!
        configuration.compactionIntervalSeconds = compactInterval > 0 ? compactInterval : nil
        configuration.rollupsEnabled = !noRollups
        configuration.rawRetentionDays = rawRetentionDays
        configuration.idleTimeoutSeconds = idleTimeout > 0 ? idleTimeout : nil
        configuration.commitLanes = commitLanes
        configuration.answerCacheBytesMax = answerCacheMB << 20
        configuration.commitIntervalMicros = commitIntervalMicros
        configuration.ingest.trustedProxies = try TrustedProxies(trustedProxies)
        if rateLimit > 0 {
            configuration.ingest.rateLimitPerSecond = rateLimit
            configuration.ingest.rateLimitBurst = rateBurst
        }
        let components = try buildComponents(configuration: configuration, logger: logger)
        let app = buildApplication(components: components, logger: logger,
                                   metricsText: { prometheus.emitToBuffer() },
                                   onServerRunning: { channel in
            logger.info("trackhouse listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        })
        try await app.runService()
    }
}
