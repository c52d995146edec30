import Configuration
import Core
import Server
import Synchronization

/// Where `serve`'s settings come from, layered with swift-configuration: a `ConfigReader` over
/// the flags ArgumentParser parsed, the `TRACKHOUSE_*` environment and the JSON config file, in
/// that order, so the first provider that has a key wins.
extension ServeSettings {
    static func resolve(flags: [String: Value], environment: [String: String],
                        configFile: String?) async throws(ServeSettingsError) -> ServeSettings {
        // Providers in priority order; `sources[i]` names `providers[i]`.
        var providers: [any ConfigProvider] = []
        var sources: [Source] = []
        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (name, value) in flags {
            if let content = value.configContent { flagValues[AbsoluteConfigKey([name])] = ConfigValue(content, isSecret: false) }
        }
        providers.append(InMemoryProvider(name: "flags", values: flagValues))
        sources.append(.flag)
        // An empty variable counts as unset, as shells and service files often leave them.
        let trackhouseVariables = environment.filter { $0.key.hasPrefix(environmentPrefix) && !$0.value.isEmpty }
        providers.append(EnvironmentVariablesProvider(environmentVariables: trackhouseVariables).prefixKeys(with: "trackhouse"))
        sources.append(.env)
        var fileValues: [String: JSONValue] = [:]
        if let configFile {
            fileValues = try checkedConfigFile(configFile)
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: .init(configFile)))
            } catch {
                throw ServeSettingsError("config file \(configFile) cannot be read: \(error)")
            }
            sources.append(.file)
        }

        let recorder = LookupRecorder()
        let reader = ConfigReader(providers: providers, accessReporter: recorder)
        var entries: [Entry] = []
        for key in keys {
            let configKey = ConfigKey([key.name])
            let found: Value?
            do {
                switch key.kind {
                case .text: found = try await reader.fetchString(forKey: configKey).map { .text($0) }
                case .integer: found = try await reader.fetchInt(forKey: configKey).map { .integer($0) }
                case .number: found = try await reader.fetchDouble(forKey: configKey).map { .number($0) }
                case .boolean: found = try await reader.fetchBool(forKey: configKey).map { .boolean($0) }
                case .list:
                    // A comma-separated variable may end in a comma; the empty items mean nothing.
                    found = try await reader.fetchStringArray(forKey: configKey).map { .list($0.filter { !$0.isEmpty }) }
                }
            } catch {
                // The provider that threw is the last one the reader asked.
                let source = sources[max(0, min(recorder.providersAsked - 1, sources.count - 1))]
                let got: String
                switch source {
                case .env: got = "\"\(trackhouseVariables[key.environmentName] ?? "")\""
                case .file: got = fileValues[key.name].map { JSONWriter.string($0) } ?? "?"
                case .flag, .default: got = "?"
                }
                throw badValue(key, source: source, configFile: configFile, got: got)
            }
            if let found {
                entries.append(Entry(key: key, value: found, source: sources[recorder.providersAsked - 1]))
            } else {
                entries.append(Entry(key: key, value: key.defaultValue, source: .default))
            }
        }
        return ServeSettings(entries: entries, configFile: configFile)
    }

    /// The file's keys, checked before swift-configuration reads it: it must be one JSON object
    /// whose keys are all settings (a misspelled key would otherwise be silently ignored), each
    /// holding a plain value or a list (a nested object would be flattened into other keys).
    private static func checkedConfigFile(_ path: String) throws(ServeSettingsError) -> [String: JSONValue] {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch {
            throw ServeSettingsError("config file \(path) cannot be read (\(error)): give an existing JSON file with --config or \(configFileEnvironmentName)")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw ServeSettingsError("config file \(path) is not valid JSON: \(error)")
        }
        guard case .object(let object) = document else {
            throw ServeSettingsError("config file \(path) must hold one JSON object, like {\"port\": 8080}")
        }
        let unknown = object.keys.filter { key(named: $0) == nil }
        if !unknown.isEmpty {
            throw ServeSettingsError("config file \(path): unknown key\(unknown.count == 1 ? "" : "s") \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")); the keys are \(keys.map(\.name).joined(separator: ", "))")
        }
        var values: [String: JSONValue] = [:]
        for (name, value) in object.pairs {
            switch value {
            case .null, .object:
                throw badValue(key(named: name)!, source: .file, configFile: path, got: JSONWriter.string(value))
            default:
                values[name] = value
            }
        }
        return values
    }
}

extension ServeSettings.Value {
    var configContent: ConfigContent? {
        switch self {
        case .unset: return nil
        case .text(let text): return .string(text)
        case .integer(let value): return .int(value)
        case .number(let value): return .double(value)
        case .boolean(let value): return .bool(value)
        case .list(let items): return .stringArray(items)
        }
    }
}

/// Counts the providers the reader asked for the last key: the last one asked is the one that
/// answered (or threw), which is how `trackhouse config` knows each value's source.
private final class LookupRecorder: AccessReporter {
    private let lastCount = Mutex(0)

    var providersAsked: Int { lastCount.withLock { $0 } }

    func report(_ event: AccessEvent) {
        lastCount.withLock { $0 = event.providerResults.count }
    }
}
