import ArgumentParser
import Logging

/// The benchmarks' own binary, beside the product (`trackhouse`), which carries no measuring
/// hooks: the anchors and probes `Benchmarks/*` scripts compare the product against.
@main
struct TrackhouseBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trackhouse-bench",
        abstract: "Benchmark anchors and probes for Trackhouse (Benchmarks/README.md).",
        subcommands: [ServeCommand.self, DecodeCommand.self, HummingbirdAnchorCommand.self])
}

/// Only the executable bootstraps logging (as `trackhouse` does, at one level for every logger).
enum LogSetup {
    static func bootstrap(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label, metadataProvider: nil)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "trackhouse-bench")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
