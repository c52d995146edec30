import ArgumentParser
import Core
import Foundation
import Ingest
import Logging
import Metrics
import Prometheus
import Server

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server: SDK ingest routes, health and metrics.",
        discussion: "Every option can also come from TRACKHOUSE_<OPTION> (--compact-interval: TRACKHOUSE_COMPACT_INTERVAL) or from the JSON file of --config / TRACKHOUSE_CONFIG; flags win over the environment, the environment over the file. `trackhouse config` shows the result.")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        // One glibc arena per core: the in-process compaction, queries and the rollups free
        // blocks of a few MB on short-lived threads, and with the default (8 per core) those
        // sat in arenas other threads did not reuse — RSS after the 1M-site load run 628 MB
        // against 507 MB with one per core, latencies unchanged (BENCHMARKS.md "Scale").
        MallocTuning.limitArenas(to: max(2, ProcessInfo.processInfo.activeProcessorCount))
        // Flags > TRACKHOUSE_* > config file > defaults (`trackhouse config` prints the result).
        let settings = try await options.resolve()
        let resolved: (configuration: ServerConfiguration, logLevel: Logger.Level)
        do {
            resolved = try settings.serverConfiguration()
        } catch {
            throw CommandFailure(error.description)
        }
        let configuration = resolved.configuration
        let logFormat: LogFormat
        do {
            logFormat = try settings.logFormat()
        } catch {
            throw CommandFailure(error.description)
        }
        let logger = LogSetup.bootstrap(level: resolved.logLevel, format: logFormat)
        let prometheus = PrometheusCollectorRegistry()
        // Every metric gets its `# HELP` from `MetricsCatalog`.
        MetricsSystem.bootstrap(TrackhouseMetricsFactory(registry: prometheus))
        BuildInfo.record(version: Trackhouse.version, commit: Trackhouse.commit)

        let components = try buildComponents(configuration: configuration, logger: logger)
        let app = buildApplication(components: components, logger: logger,
                                   metricsText: { prometheus.emitToBuffer() },
                                   onServerRunning: { channel in
            logger.info("trackhouse listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        })
        try await app.runService()
    }
}
