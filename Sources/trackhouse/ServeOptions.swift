import ArgumentParser
import Foundation
import Logging
import Server

/// `serve`'s flags, shared with `config` (which prints what `serve` would run with). Every one is
/// optional, without a default here, so a flag not given leaves the setting to
/// `TRACKHOUSE_<NAME>`, the config file, then the default (`ServeSettings.keys`).
struct ServeOptions: ParsableArguments {
    @OptionGroup var dataOptions: DataOptions
    @Option(name: .customLong("config"), help: "A JSON file of serve settings, keyed by the long flag names (default: $TRACKHOUSE_CONFIG).")
    var configFile: String?
    @Option(help: "Address to bind (default 127.0.0.1).") var host: String?
    @Option(help: "Port to bind (default 8080).") var port: Int?
    @Option(help: "Which parts run here: ingest, query or all (machines sharing one data folder split the work; default all).")
    var role: String?
    @Option(name: .customLong("writer-id"), help: "Name of this writer in raw file names (default: the host name). Unique per process sharing a data folder.")
    var writerID: String?
    @Option(name: .customLong("rate-limit"), help: "Requests per second allowed per client address (0 = unlimited, the default).")
    var rateLimit: Double?
    @Option(name: .customLong("rate-burst"), help: "Burst size of the per-address rate limit (default 60).")
    var rateBurst: Double?
    @Option(name: .customLong("trusted-proxy"), help: "A proxy address or CIDR whose X-Forwarded-For is believed (repeatable).")
    var trustedProxies: [String] = []
    @Option(name: .customLong("commit-interval-us"), help: "Group commit: under sustained load a new fsync batch starts at most this often (µs; 0 = as soon as the previous one is done). Fewer fsyncs for IOPS-limited disks, up to that much added latency. Default 0.")
    var commitIntervalMicros: Int?
    @Option(name: .customLong("commit-lanes"), help: "Group commit: batches written and fsynced at once, each by its own thread into its own files (1-16). Default 1.")
    var commitLanes: Int?
    @Option(name: .customLong("compact-interval"), help: "Seconds between in-process compactions of new raw data (0 = never; roles query and all; default 15).")
    var compactInterval: Double?
    @Option(name: .customLong("raw-retention-days"), help: "With in-process compaction: delete fully compacted raw files whose hour ended over this many days ago (default: keep them).")
    var rawRetentionDays: Int?
    @Option(name: .customLong("retention-months"), help: "With in-process compaction: drop events months wholly older than this many months (and their raw hours; sites not seen since leave the index). Default: keep all history.")
    var retentionMonths: Int?
    @Option(name: .customLong("ip-mode"), help: "What ingest keeps of the client address in raw lines: full (the default, CONTRACT §2), truncated (/24 IPv4, /48 IPv6) or none.")
    var ipMode: String?
    // `--rollups` exists so a flag can undo `TRACKHOUSE_NO_ROLLUPS=true` or the file's `no-rollups`.
    @Flag(inversion: .prefixedNo, help: "--no-rollups answers chart endpoints by scanning the warehouse instead of from the in-memory rollups.")
    var rollups: Bool?
    @Option(name: .customLong("rollup-days"), help: "Days of history the chart rollups keep in memory, back from the newest event (1-3660; default 120). Charts reaching further back are answered by a scan: the same answer, slower.")
    var rollupDays: Int?
    @Option(name: .customLong("answer-cache-mb"), help: "Rendered read answers kept per warehouse version, in MiB (0 = no cache; default 64).")
    var answerCacheMB: Int?
    @Option(name: .customLong("idle-timeout"), help: "Close a connection that sends nothing for this many seconds: idle keep-alive, or a request that stops arriving (0 = never; default 60). A request being answered is never cut.")
    var idleTimeout: Double?
    @Option(name: .customLong("log-level"), help: "trace, debug, info (the default), notice, warning, error or critical.")
    var logLevel: Logger.Level?
    @Option(name: .customLong("log-format"), help: "text (the default) or json: one JSON object per line with time, level, label, message and metadata.")
    var logFormat: String?
    @Flag(name: .customLong("access-log"), inversion: .prefixedNo, help: "One log line per request: method, route template, status, duration, bytes; never query strings or tokens (default off). SDK requests then go through the router too, so they are logged.")
    var accessLog: Bool?

    /// The settings given as flags, by `ServeSettings` key name.
    var flagValues: [String: ServeSettings.Value] {
        var values: [String: ServeSettings.Value] = [:]
        values["data"] = dataOptions.dataFlag.map { .text($0) }
        values["host"] = host.map { .text($0) }
        values["port"] = port.map { .integer($0) }
        values["role"] = role.map { .text($0) }
        values["writer-id"] = writerID.map { .text($0) }
        values["rate-limit"] = rateLimit.map { .number($0) }
        values["rate-burst"] = rateBurst.map { .number($0) }
        values["trusted-proxy"] = trustedProxies.isEmpty ? nil : .list(trustedProxies)
        values["commit-interval-us"] = commitIntervalMicros.map { .integer($0) }
        values["commit-lanes"] = commitLanes.map { .integer($0) }
        values["compact-interval"] = compactInterval.map { .number($0) }
        values["raw-retention-days"] = rawRetentionDays.map { .integer($0) }
        values["retention-months"] = retentionMonths.map { .integer($0) }
        values["ip-mode"] = ipMode.map { .text($0) }
        values["no-rollups"] = rollups.map { .boolean(!$0) }
        values["rollup-days"] = rollupDays.map { .integer($0) }
        values["answer-cache-mb"] = answerCacheMB.map { .integer($0) }
        values["idle-timeout"] = idleTimeout.map { .number($0) }
        values["log-level"] = logLevel.map { .text($0.rawValue) }
        values["log-format"] = logFormat.map { .text($0) }
        values["access-log"] = accessLog.map { .boolean($0) }
        return values
    }

    /// Flags, then the environment, then the config file, then the defaults; any value that
    /// cannot be used stops here with a message naming where it came from.
    func resolve() async throws -> ServeSettings {
        let environment = ProcessInfo.processInfo.environment
        var configFile = self.configFile
        if configFile == nil, let fromEnvironment = environment[ServeSettings.configFileEnvironmentName], !fromEnvironment.isEmpty {
            configFile = fromEnvironment
        }
        do {
            return try await ServeSettings.resolve(flags: flagValues, environment: environment, configFile: configFile)
        } catch {
            throw CommandFailure(error.description)
        }
    }
}
