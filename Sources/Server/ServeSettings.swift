import Core
import Ingest
import Logging

/// `trackhouse serve`'s settings by name. Each setting is a long flag (`--compact-interval`), an
/// environment variable (`TRACKHOUSE_COMPACT_INTERVAL`) and a config-file key
/// (`compact-interval`). The executable finds each value and where it came from (flags >
/// environment > file > defaults); this type holds the catalog, checks the values and builds the
/// `ServerConfiguration`, so no library reads the environment or a file of settings.
public struct ServeSettings: Sendable {
    /// How a value is written, which decides how the environment's text is read.
    public enum Kind: Sendable {
        case text, integer, number, boolean, list
    }

    /// Where an effective value came from, as `trackhouse config` prints it.
    public enum Source: String, Sendable {
        case flag, env, file, `default`
    }

    public enum Value: Sendable, Equatable {
        case unset
        case text(String)
        case integer(Int)
        case number(Double)
        case boolean(Bool)
        case list([String])
    }

    /// One setting: its name (file key, and the long flag without `--`), how it is written and
    /// what the user is told when a value is not acceptable.
    public struct Key: Sendable {
        public let name: String
        public let kind: Kind
        public let defaultValue: Value
        /// Completes "`<where>` must be …" in error messages.
        public let expectation: String

        public init(_ name: String, _ kind: Kind, default defaultValue: Value, expectation: String) {
            self.name = name
            self.kind = kind
            self.defaultValue = defaultValue
            self.expectation = expectation
        }

        public var flagName: String { "--" + name }
        /// `TRACKHOUSE_` and the name in upper snake case: `compact-interval` → `TRACKHOUSE_COMPACT_INTERVAL`.
        public var environmentName: String {
            ServeSettings.environmentPrefix + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
        }
        /// Values of settings named like secrets are never printed (`trackhouse config` shows `****`).
        public var isSecret: Bool {
            let lowered = name.lowercased()
            return ["token", "secret", "password", "key"].contains { lowered.contains($0) }
        }
    }

    public struct Entry: Sendable {
        public let key: Key
        public let value: Value
        public let source: Source

        public init(key: Key, value: Value, source: Source) {
            self.key = key
            self.value = value
            self.source = source
        }
    }

    public static let environmentPrefix = "TRACKHOUSE_"
    /// The variable naming the config file when `--config` is not given.
    public static let configFileEnvironmentName = "TRACKHOUSE_CONFIG"

    /// Every `serve` setting, in `--help` order. The defaults are `ServerConfiguration`'s.
    public static let keys: [Key] = [
        Key("data", .text, default: .text("./data"), expectation: "a folder path"),
        Key("host", .text, default: .text("127.0.0.1"), expectation: "an address to bind"),
        Key("port", .integer, default: .integer(8080), expectation: "a port number (0-65535)"),
        Key("role", .text, default: .text("all"), expectation: "ingest, query or all"),
        Key("writer-id", .text, default: .text(ServerConfiguration.defaultWriterID()),
            expectation: "letters, digits, '-' and '_' only"),
        Key("rate-limit", .number, default: .number(0), expectation: "a number of requests per second, 0 or more"),
        Key("rate-burst", .number, default: .number(60), expectation: "a number above 0"),
        Key("trusted-proxy", .list, default: .list([]), expectation: "a list of addresses or CIDRs"),
        Key("commit-interval-us", .integer, default: .unset, expectation: "between 0 and 100000"),
        Key("commit-lanes", .integer, default: .unset, expectation: "between 1 and 16"),
        Key("compact-interval", .number, default: .number(15), expectation: "a number of seconds, 0 or more"),
        Key("raw-retention-days", .integer, default: .unset, expectation: "0 or more"),
        Key("retention-months", .integer, default: .unset, expectation: "a number of months, 1 or more"),
        Key("ip-mode", .text, default: .text("full"), expectation: "full, truncated or none"),
        Key("no-rollups", .boolean, default: .boolean(false), expectation: "true or false"),
        Key("rollup-days", .integer, default: .integer(ProjectRollup.windowDaysDefault), expectation: "a number of days between 1 and 3660"),
        Key("answer-cache-mb", .integer, default: .integer(64), expectation: "between 0 and 65536"),
        Key("idle-timeout", .number, default: .number(60), expectation: "between 0 and 86400 seconds"),
        Key("log-level", .text, default: .text("info"),
            expectation: Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")),
        Key("log-format", .text, default: .text("text"), expectation: "text or json"),
        Key("access-log", .boolean, default: .boolean(false), expectation: "true or false"),
    ]

    public static func key(named name: String) -> Key? { keys.first { $0.name == name } }

    public var entries: [Entry]
    /// The JSON file the `file` values came from, if one was read.
    public var configFile: String?

    public init(entries: [Entry], configFile: String? = nil) {
        self.entries = entries
        self.configFile = configFile
    }

    /// Where a value came from, spelled the way the user wrote it: `--port`, `TRACKHOUSE_PORT`,
    /// `"port" in /etc/trackhouse.json`.
    public static func origin(of key: Key, source: Source, configFile: String?) -> String {
        switch source {
        case .flag: return key.flagName
        case .env: return key.environmentName
        case .file: return "\"\(key.name)\" in \(configFile ?? "the config file")"
        case .default: return "the default of \(key.flagName)"
        }
    }

    /// "`<origin>` must be `<expectation>` (got …)": the message for a value that is not acceptable.
    public static func badValue(_ key: Key, source: Source, configFile: String?, got: String) -> ServeSettingsError {
        let shown = key.isSecret ? "****" : got
        return ServeSettingsError("\(origin(of: key, source: source, configFile: configFile)) must be \(key.expectation) (got \(shown))")
    }

    public func entry(_ name: String) -> Entry? { entries.first { $0.key.name == name } }

    /// Checks every value and builds what `serve` runs with.
    public func serverConfiguration() throws(ServeSettingsError) -> (configuration: ServerConfiguration, logLevel: Logger.Level) {
        func reject(_ entry: Entry) -> ServeSettingsError {
            ServeSettings.badValue(entry.key, source: entry.source, configFile: configFile, got: entry.value.quoted)
        }
        func text(_ name: String) throws(ServeSettingsError) -> String {
            guard let entry = entry(name), case .text(let value) = entry.value else { return "" }
            if value.isEmpty { throw reject(entry) }
            return value
        }
        func integer(_ name: String, in range: ClosedRange<Int>) throws(ServeSettingsError) -> Int? {
            guard let entry = entry(name), case .integer(let value) = entry.value else { return nil }
            if !range.contains(value) { throw reject(entry) }
            return value
        }
        func number(_ name: String, in range: ClosedRange<Double>) throws(ServeSettingsError) -> Double {
            guard let entry = entry(name), case .number(let value) = entry.value else { return 0 }
            if !value.isFinite || !range.contains(value) { throw reject(entry) }
            return value
        }

        let roleEntry = entry("role")
        guard let role = ServerConfiguration.Role(rawValue: try text("role")) else { throw reject(roleEntry!) }
        let writerEntry = entry("writer-id")
        let writerID = try text("writer-id")
        if writerID.contains(where: { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            throw reject(writerEntry!)
        }
        var configuration = ServerConfiguration(dataDirectory: try text("data"), writerID: writerID)
        configuration.host = try text("host")
        configuration.port = try integer("port", in: 0...65_535) ?? configuration.port
        configuration.role = role
        let rateLimit = try number("rate-limit", in: 0...Double.greatestFiniteMagnitude)
        let rateBurst = try number("rate-burst", in: Double.leastNonzeroMagnitude...Double.greatestFiniteMagnitude)
        if rateLimit > 0 {
            configuration.ingest.rateLimitPerSecond = rateLimit
            configuration.ingest.rateLimitBurst = rateBurst
        }
        if let proxiesEntry = entry("trusted-proxy"), case .list(let proxies) = proxiesEntry.value {
            do {
                configuration.ingest.trustedProxies = try TrustedProxies(proxies)
            } catch {
                throw ServeSettingsError("\(ServeSettings.origin(of: proxiesEntry.key, source: proxiesEntry.source, configFile: configFile)): \(error)")
            }
        }
        configuration.commitIntervalMicros = try integer("commit-interval-us", in: 0...100_000)
        configuration.commitLanes = try integer("commit-lanes", in: 1...16)
        let compactInterval = try number("compact-interval", in: 0...Double.greatestFiniteMagnitude)
        configuration.compactionIntervalSeconds = compactInterval > 0 ? compactInterval : nil
        configuration.rawRetentionDays = try integer("raw-retention-days", in: 0...Int.max)
        configuration.retentionMonths = try integer("retention-months", in: 1...1_200)
        let ipModeEntry = entry("ip-mode")
        guard let ipMode = IPMode(rawValue: try text("ip-mode")) else { throw reject(ipModeEntry!) }
        configuration.ingest.ipMode = ipMode
        if let rollupsEntry = entry("no-rollups"), case .boolean(let noRollups) = rollupsEntry.value {
            configuration.rollupsEnabled = !noRollups
        }
        configuration.rollupWindowDays = try integer("rollup-days", in: 1...3_660) ?? ProjectRollup.windowDaysDefault
        configuration.answerCacheBytesMax = (try integer("answer-cache-mb", in: 0...65_536) ?? 64) << 20
        let idleTimeout = try number("idle-timeout", in: 0...86_400)
        configuration.idleTimeoutSeconds = idleTimeout > 0 ? idleTimeout : nil
        if let accessLogEntry = entry("access-log"), case .boolean(let accessLog) = accessLogEntry.value {
            configuration.accessLog = accessLog
        }
        let levelEntry = entry("log-level")
        guard let logLevel = Logger.Level(rawValue: try text("log-level")) else { throw reject(levelEntry!) }
        return (configuration, logLevel)
    }
}

/// How `serve` writes its log to stderr: `text` (swift-log's stream format) or `json` (one
/// object per line: time, level, label, message, metadata).
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

extension ServeSettings {
    /// `--log-format`, checked.
    public func logFormat() throws(ServeSettingsError) -> LogFormat {
        guard let entry = entry("log-format") else { return .text }
        guard case .text(let text) = entry.value, let format = LogFormat(rawValue: text) else {
            throw ServeSettings.badValue(entry.key, source: entry.source, configFile: configFile, got: entry.value.quoted)
        }
        return format
    }
}

/// A setting that cannot be used, phrased for the person who set it (which flag, variable or
/// file key, what it must be, what it was).
public struct ServeSettingsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}

extension ServeSettings.Value {
    /// The value as `trackhouse config` shows it, and as error messages quote it.
    public var display: String {
        switch self {
        case .unset: return "(not set)"
        case .text(let text): return text
        case .integer(let value): return String(value)
        case .number(let value): return ServeSettings.Value.numberText(value)
        case .boolean(let value): return value ? "true" : "false"
        case .list(let items): return items.isEmpty ? "(none)" : items.joined(separator: ",")
        }
    }

    var quoted: String {
        if case .text(let text) = self { return "\"\(text)\"" }
        return display
    }

    var json: JSONValue {
        switch self {
        case .unset: return .null
        case .text(let text): return .string(text)
        case .integer(let value): return .number(String(value))
        case .number(let value): return value.isFinite ? .number(ServeSettings.Value.numberText(value)) : .string(String(value))
        case .boolean(let value): return .bool(value)
        case .list(let items): return .array(items.map { .string($0) })
        }
    }

    /// `15` rather than `15.0`: whole numbers print as they are usually typed.
    static func numberText(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }
}

extension ServeSettings {
    static let maskedValue = "****"

    /// One line per setting: key, value (secrets masked), source and environment variable.
    public func renderTable() -> String {
        let header = ["KEY", "VALUE", "SOURCE", "ENVIRONMENT"]
        let rows = entries.map { entry in
            [entry.key.name, entry.key.isSecret && entry.value != .unset ? Self.maskedValue : entry.value.display,
             entry.source.rawValue, entry.key.environmentName]
        }
        let widths = (0..<header.count).map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }
        var lines = ["config file: \(configFile ?? "(none)")", line(header)]
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }

    /// `{"config_file": …, "settings": {"<key>": {"value", "source", "env"}}}`, secrets masked.
    public func renderJSON() -> String {
        var settings = JSONObject()
        for entry in entries {
            var object = JSONObject()
            object["value"] = entry.key.isSecret && entry.value != .unset ? .string(Self.maskedValue) : entry.value.json
            object["source"] = .string(entry.source.rawValue)
            object["env"] = .string(entry.key.environmentName)
            settings[entry.key.name] = .object(object)
        }
        var root = JSONObject()
        root["config_file"] = configFile.map { .string($0) } ?? .null
        root["settings"] = .object(settings)
        return JSONWriter.string(.object(root))
    }
}
