import Core
import Logging
import Server
import XCTest

/// `ServeSettings`: names, checks and rendering. Where values come from (flags > environment >
/// file > defaults) is the executable's part, tested through the binary in `ConfigCommandTests`.
final class ServeSettingsTests: XCTestCase {
    private func settings(_ overrides: [String: (ServeSettings.Value, ServeSettings.Source)] = [:],
                          configFile: String? = nil) -> ServeSettings {
        ServeSettings(entries: ServeSettings.keys.map { key in
            if let (value, source) = overrides[key.name] { return .init(key: key, value: value, source: source) }
            return .init(key: key, value: key.defaultValue, source: .default)
        }, configFile: configFile)
    }

    func testEveryKeyHasTheEnvironmentNameOfItsFlag() {
        let names = Dictionary(uniqueKeysWithValues: ServeSettings.keys.map { ($0.flagName, $0.environmentName) })
        XCTAssertEqual(names["--data"], "TRACKHOUSE_DATA")
        XCTAssertEqual(names["--compact-interval"], "TRACKHOUSE_COMPACT_INTERVAL")
        XCTAssertEqual(names["--trusted-proxy"], "TRACKHOUSE_TRUSTED_PROXY")
        XCTAssertEqual(names["--no-rollups"], "TRACKHOUSE_NO_ROLLUPS")
        XCTAssertEqual(names["--commit-interval-us"], "TRACKHOUSE_COMMIT_INTERVAL_US")
        XCTAssertEqual(names["--log-format"], "TRACKHOUSE_LOG_FORMAT")
        XCTAssertEqual(names["--access-log"], "TRACKHOUSE_ACCESS_LOG")
        XCTAssertEqual(names["--rollup-days"], "TRACKHOUSE_ROLLUP_DAYS")
        XCTAssertEqual(ServeSettings.keys.count, 21, "every serve option has a setting")
        XCTAssertEqual(names["--ip-mode"], "TRACKHOUSE_IP_MODE")
        XCTAssertEqual(names["--retention-months"], "TRACKHOUSE_RETENTION_MONTHS")
        XCTAssertFalse(ServeSettings.keys.contains { $0.isSecret }, "no setting today is a secret")
    }

    func testDefaultsAreServerConfigurationsDefaults() throws {
        let (configuration, level) = try settings().serverConfiguration()
        let plain = ServerConfiguration(dataDirectory: "./data")
        XCTAssertEqual(configuration.dataDirectory, "./data")
        XCTAssertEqual(configuration.host, plain.host)
        XCTAssertEqual(configuration.port, plain.port)
        XCTAssertEqual(configuration.role, plain.role)
        XCTAssertEqual(configuration.writerID, plain.writerID)
        XCTAssertEqual(configuration.compactionIntervalSeconds, plain.compactionIntervalSeconds)
        XCTAssertEqual(configuration.idleTimeoutSeconds, plain.idleTimeoutSeconds)
        XCTAssertEqual(configuration.answerCacheBytesMax, plain.answerCacheBytesMax)
        XCTAssertEqual(configuration.rollupsEnabled, plain.rollupsEnabled)
        XCTAssertNil(configuration.commitLanes)
        XCTAssertNil(configuration.commitIntervalMicros)
        XCTAssertNil(configuration.rawRetentionDays)
        XCTAssertNil(configuration.ingest.rateLimitPerSecond)
        XCTAssertEqual(level, .info)
        XCTAssertFalse(configuration.accessLog)
        XCTAssertEqual(try settings().logFormat(), .text)
    }

    func testLogFormatAndAccessLogAreChecked() throws {
        let chosen = settings(["log-format": (.text("json"), .env), "access-log": (.boolean(true), .flag)])
        XCTAssertEqual(try chosen.logFormat(), .json)
        XCTAssertTrue(try chosen.serverConfiguration().configuration.accessLog)
        XCTAssertThrowsError(try settings(["log-format": (.text("xml"), .env)]).logFormat()) { error in
            XCTAssertEqual("\(error)", "TRACKHOUSE_LOG_FORMAT must be text or json (got \"xml\")")
        }
    }

    func testValuesReachTheServerConfiguration() throws {
        let (configuration, level) = try settings([
            "port": (.integer(9000), .env), "role": (.text("query"), .file),
            "compact-interval": (.number(0), .flag), "no-rollups": (.boolean(true), .env),
            "rate-limit": (.number(5), .file), "rate-burst": (.number(10), .file),
            "answer-cache-mb": (.integer(1), .flag), "log-level": (.text("error"), .env),
            "trusted-proxy": (.list(["10.0.0.0/8"]), .env),
            "retention-months": (.integer(6), .env), "ip-mode": (.text("none"), .file),
        ]).serverConfiguration()
        XCTAssertEqual(configuration.retentionMonths, 6)
        XCTAssertEqual(configuration.ingest.ipMode, .none)
        XCTAssertEqual(configuration.port, 9000)
        XCTAssertEqual(configuration.role, .query)
        XCTAssertNil(configuration.compactionIntervalSeconds, "0 turns compaction off")
        XCTAssertFalse(configuration.rollupsEnabled)
        XCTAssertEqual(configuration.ingest.rateLimitPerSecond, 5)
        XCTAssertEqual(configuration.ingest.rateLimitBurst, 10)
        XCTAssertEqual(configuration.answerCacheBytesMax, 1 << 20)
        XCTAssertEqual(level, .error)
    }

    /// Each bad value is refused with where it came from, what it must be and what it was.
    func testBadValuesNameTheirSourceAndKey() {
        let cases: [(String, ServeSettings.Value, ServeSettings.Source, String)] = [
            ("port", .integer(70_000), .env, "TRACKHOUSE_PORT must be a port number (0-65535) (got 70000)"),
            ("port", .integer(-1), .flag, "--port must be a port number"),
            ("role", .text("reader"), .file, "\"role\" in /etc/th.json must be ingest, query or all (got \"reader\")"),
            ("writer-id", .text("a b"), .env, "TRACKHOUSE_WRITER_ID must be letters, digits"),
            ("host", .text(""), .env, "TRACKHOUSE_HOST must be an address to bind"),
            ("data", .text(""), .file, "\"data\" in /etc/th.json must be a folder path"),
            ("commit-lanes", .integer(17), .flag, "--commit-lanes must be between 1 and 16"),
            ("commit-interval-us", .integer(100_001), .env, "TRACKHOUSE_COMMIT_INTERVAL_US must be between 0 and 100000"),
            ("raw-retention-days", .integer(-1), .flag, "--raw-retention-days must be 0 or more"),
            ("retention-months", .integer(0), .flag, "--retention-months must be a number of months, 1 or more"),
            ("ip-mode", .text("partial"), .env, "TRACKHOUSE_IP_MODE must be full, truncated or none"),
            ("answer-cache-mb", .integer(70_000), .file, "\"answer-cache-mb\" in /etc/th.json must be between 0 and 65536"),
            ("idle-timeout", .number(90_000), .env, "TRACKHOUSE_IDLE_TIMEOUT must be between 0 and 86400 seconds"),
            ("compact-interval", .number(-5), .env, "TRACKHOUSE_COMPACT_INTERVAL must be a number of seconds, 0 or more"),
            ("compact-interval", .number(.nan), .env, "TRACKHOUSE_COMPACT_INTERVAL must be"),
            ("rate-limit", .number(-1), .file, "\"rate-limit\" in /etc/th.json must be a number of requests per second"),
            ("rate-burst", .number(0), .env, "TRACKHOUSE_RATE_BURST must be a number above 0"),
            ("log-level", .text("loud"), .env, "TRACKHOUSE_LOG_LEVEL must be trace, debug, info"),
            ("trusted-proxy", .list(["not-an-address"]), .env, "TRACKHOUSE_TRUSTED_PROXY: "),
        ]
        for (name, value, source, expected) in cases {
            XCTAssertThrowsError(try settings([name: (value, source)], configFile: "/etc/th.json").serverConfiguration(), name) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(name): \(error)")
            }
        }
    }

    func testTableAndJSONShowEverySettingWithItsSource() throws {
        let resolved = settings(["port": (.integer(9000), .env), "host": (.text("0.0.0.0"), .file),
                                 "trusted-proxy": (.list(["10.0.0.0/8", "::1"]), .flag)], configFile: "/etc/th.json")
        let table = resolved.renderTable()
        let lines = table.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "config file: /etc/th.json")
        XCTAssertEqual(lines.count, 2 + ServeSettings.keys.count)
        let port = try XCTUnwrap(lines.first { $0.hasPrefix("port ") })
        XCTAssertEqual(port.split(separator: " ", omittingEmptySubsequences: true), ["port", "9000", "env", "TRACKHOUSE_PORT"])
        XCTAssertTrue(lines.contains { $0.hasPrefix("compact-interval ") && $0.contains(" 15 ") && $0.contains(" default ") }, table)
        XCTAssertTrue(lines.contains { $0.hasPrefix("trusted-proxy ") && $0.contains("10.0.0.0/8,::1") && $0.contains(" flag ") }, table)
        XCTAssertTrue(lines.contains { $0.hasPrefix("raw-retention-days ") && $0.contains("(not set)") }, table)

        let json = try JSONParser.parse(resolved.renderJSON())
        XCTAssertEqual(json["config_file"], .string("/etc/th.json"))
        XCTAssertEqual(json["settings"]?["port"]?["value"], .number("9000"))
        XCTAssertEqual(json["settings"]?["port"]?["source"], .string("env"))
        XCTAssertEqual(json["settings"]?["port"]?["env"], .string("TRACKHOUSE_PORT"))
        XCTAssertEqual(json["settings"]?["host"]?["source"], .string("file"))
        XCTAssertEqual(json["settings"]?["trusted-proxy"]?["value"], .array([.string("10.0.0.0/8"), .string("::1")]))
        XCTAssertEqual(json["settings"]?["raw-retention-days"]?["value"], .null)
        XCTAssertEqual(json["settings"]?["no-rollups"]?["value"], .bool(false))
        XCTAssertEqual(json["settings"]?.objectValue?.count, ServeSettings.keys.count)
    }

    /// A future secret (an SMTP password, a webhook token) never reaches the output or an error.
    func testSecretLikeSettingsAreMasked() throws {
        for name in ["smtp-password", "webhook-token", "signing-secret", "api-key"] {
            XCTAssertTrue(ServeSettings.Key(name, .text, default: .unset, expectation: "text").isSecret, name)
        }
        let secret = ServeSettings.Key("smtp-password", .text, default: .unset, expectation: "text")
        let resolved = ServeSettings(entries: [.init(key: secret, value: .text("hunter2"), source: .env)])
        XCTAssertFalse(resolved.renderTable().contains("hunter2"))
        XCTAssertTrue(resolved.renderTable().contains("****"))
        XCTAssertFalse(resolved.renderJSON().contains("hunter2"))
        XCTAssertEqual(try JSONParser.parse(resolved.renderJSON())["settings"]?["smtp-password"]?["value"], .string("****"))
        let error = ServeSettings.badValue(secret, source: .env, configFile: nil, got: "\"hunter2\"")
        XCTAssertFalse(error.description.contains("hunter2"), error.description)
        XCTAssertTrue(error.description.hasPrefix("TRACKHOUSE_SMTP_PASSWORD must be"))
    }
}
