import ArgumentParser
import CTrackhouseBuild
import Foundation

/// The one binary. The root command only parses; each subcommand calls into the libraries.
@main
struct Trackhouse: AsyncParsableCommand {
    static let version = "0.1.0"
    /// The git commit of the build (`scripts/build-info.sh`), "unknown" when it was not known.
    static let commit = String(cString: trackhouse_build_commit())

    static let configuration = CommandConfiguration(
        commandName: "trackhouse",
        abstract: "Self-hosted analytics backend for Appsero SDK telemetry: ingest, columnar warehouse, SQL, dashboard API.",
        version: "trackhouse \(version) (commit \(commit))",
        subcommands: [ServeCommand.self, ImportCommand.self, GenCommand.self, CompactCommand.self, QueryCommand.self, DemoSetupCommand.self, ProjectCommand.self, TokenCommand.self, ConfigCommand.self,
                      BackupCommand.self, RestoreCommand.self, VerifyCommand.self, DeliveriesCommand.self, PrivacyCommand.self])
}

/// Flags every command that touches the warehouse shares.
struct DataOptions: ParsableArguments {
    /// Optional so `serve` can tell "not given" from the default (`ServeOptions`).
    @Option(name: .customLong("data"), help: "The data folder (projects.json, raw/, warehouse/). Default: $TRACKHOUSE_DATA, else ./data.")
    var dataFlag: String?

    /// `--data`, else `TRACKHOUSE_DATA`, else `./data`: the folder `serve` would use without a
    /// config file, so `token`, `compact` and `query` find it from the same environment.
    var data: String {
        if let dataFlag { return dataFlag }
        if let fromEnvironment = ProcessInfo.processInfo.environment["TRACKHOUSE_DATA"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "./data"
    }
}
