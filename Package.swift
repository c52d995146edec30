// swift-tools-version:6.2
// Trackhouse: one Swift program over a file-based warehouse.
//   Core        – file I/O, UTC time, JSON, gzip, byte buffers, ParallelFor, the table schemas.
//   Ingest      – the Appsero SDK routes, durable hourly JSON partitions.
//   Workload    – the deterministic test-data generator (`gen`, tests, benchmarks).
//   ColumnStore – Parquet segments, compaction, the commit log and its reader.
//   Query       – vectorized SQL over the segments.
//   Integrations – outbound deliveries (webhooks, mailing lists) fed by committed events.
//   Mail        – SMTP (STARTTLS, AUTH), MIME messages, the digest and deactivation-forward mails.
//   Server      – the HTTP API and the dashboard page.
import PackageDescription

// No flag changes behaviour between builds: the release build keeps bounds and overflow
// checks (hot loops avoid them explicitly, with `&+` and buffer pointers).
let swiftSettings: [SwiftSetting] = []

let package = Package(
    name: "trackhouse",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trackhouse", targets: ["trackhouse"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        // Already in the graph through Hummingbird: named for the ingest fast path's channel handlers.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // `serve`'s settings layered from flags, environment and a JSON file (the executable only).
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        // Outbound HTTP of the integrations (webhooks, mailing-list APIs): TLS verified, timeouts.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // SMTP's STARTTLS (the Mail target); async-http-client builds on the same TLS stack.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // The commit `trackhouse --version` names: `scripts/build-info.sh` (run by the Makefile
        // before every build) writes a header the C file includes when present; "unknown" without.
        .target(name: "CTrackhouseBuild", path: "Sources/CTrackhouseBuild", exclude: ["README.md"]),
        // What every stage shares; depends on nothing of ours.
        .target(name: "Core", dependencies: ["CZlib"], exclude: ["README.md"], swiftSettings: swiftSettings),
        .target(name: "Ingest", dependencies: [
            "Core",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ], exclude: ["README.md"], swiftSettings: swiftSettings),
        // The test-data generator (`gen`, tests, benchmarks); nothing on the serving path uses it.
        .target(name: "Workload", dependencies: [
            "Core", "Ingest",
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"], swiftSettings: swiftSettings),
        .target(name: "ColumnStore", dependencies: [
            "CZstd", "CZlib", "Core", "Ingest",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"], swiftSettings: swiftSettings),
        .target(name: "Query", dependencies: [
            "Core", "ColumnStore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ], exclude: ["README.md"], swiftSettings: swiftSettings),
        // Outbound deliveries: lifecycle events from committed events, the durable outbox, the kinds.
        .target(name: "Integrations", dependencies: [
            "Core", "Ingest", "ColumnStore", "Mail",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], exclude: ["README.md"], swiftSettings: swiftSettings),
        // Email out: an SMTP client on SwiftNIO, MIME messages, the digest and forward mails.
        // Depends on nothing above Core, so every stage that sends mail can use it.
        .target(name: "Mail", dependencies: [
            "Core",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"], swiftSettings: swiftSettings),
        .target(name: "Server", dependencies: [
            "Core", "Ingest", "ColumnStore", "Query", "Integrations", "Mail",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md", "Rollups/README.md"],
        // The dashboard and the API document (`GET /api/v1/openapi.json`): real files for their
        // tools, compiled into the binary as byte arrays.
        resources: [.embedInCode("Resources/index.html"), .embedInCode("Resources/app.js"),
                    .embedInCode("Resources/app.css"), .embedInCode("Resources/openapi.json")],
        swiftSettings: swiftSettings),
        // Consistent backups of a running server's data folder, restore and verify.
        .target(name: "Backup", dependencies: [
            "Core", "Ingest", "ColumnStore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"], swiftSettings: swiftSettings),
        .executableTarget(name: "trackhouse", dependencies: [
            "Server", "Core", "Ingest", "ColumnStore", "Query", "Workload", "Backup", "CTrackhouseBuild", "Integrations",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Configuration", package: "swift-configuration"),
        ], exclude: ["README.md"], swiftSettings: swiftSettings),
        // The benchmarks' binary (anchors and probes, Benchmarks/README.md), so the product carries
        // no measuring hooks. Built by the benchmark scripts, not by `make demo`.
        .executableTarget(name: "trackhouse-bench", dependencies: [
            "Server", "Core", "Ingest",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], path: "Benchmarks/trackhouse-bench", swiftSettings: swiftSettings),
        .target(name: "TrackhouseTestSupport", dependencies: [
            "Core", "Ingest", .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/TrackhouseTestSupport"),
        .testTarget(name: "CoreTests", dependencies: ["Core", "TrackhouseTestSupport"]),
        .testTarget(name: "IngestTests", dependencies: ["Core", "Ingest", "TrackhouseTestSupport"]),
        .testTarget(name: "WorkloadTests", dependencies: ["Workload", "Core", "Ingest"]),
        .testTarget(name: "ColumnStoreTests", dependencies: ["ColumnStore", "Core", "Ingest", "Workload", "TrackhouseTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "QueryTests", dependencies: ["Query", "ColumnStore", "Core", "Workload"], exclude: ["sql", "differential"]),
        .testTarget(name: "IntegrationsTests", dependencies: [
            "Integrations", "ColumnStore", "Core", "Ingest", "Mail", "TrackhouseTestSupport",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "MailTests", dependencies: [
            "Mail", "Core", "TrackhouseTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Core", "Ingest", "Workload", "TrackhouseTestSupport", "ColumnStore", "Backup", "Integrations", "Mail",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
