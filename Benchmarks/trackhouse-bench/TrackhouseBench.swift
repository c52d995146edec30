import ArgumentParser
import Logging

/// The benchmarks' own binary, beside the product (`trackhouse`), which carries no measuring
/// hooks: the anchors and probes `Benchmarks/*` scripts compare the product against.
@main
struct TrackhouseBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trackhouse-bench",
        abstract: "Benchmark anchors and probes for Trackhouse (Benchmarks/README.md).",
        subcommands: [ServeCommand.self, DecodeCommand.self])
}

enum LogSetup {
    /// Only the executable bootstraps logging; libraries take the Logger we hand them.
    static func bootstrap(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "trackhouse-bench")
        logger.logLevel = level
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
