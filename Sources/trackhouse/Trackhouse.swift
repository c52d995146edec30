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

    /// The entry point: `query` first, then ArgumentParser's whole tree.
    ///
    /// Why `query` goes first: ArgumentParser builds its parsers by reflection over each
    /// command's properties, and each first lookup of a type's protocol conformance scans the
    /// static binary's whole conformance table — about a sixth of the CPU of a small
    /// `trackhouse query` process (perf, 2026-12-07), which analysts' scripts run one query at
    /// a time. `QueryInvocation.parse` reads the command's few flags by hand instead; anything
    /// it does not take (help, a bad flag) goes to the full parse, which prints exactly what it
    /// always did, so only the cost differs. `TRACKHOUSE_QUERY_FULL_PARSE=1` skips the fast
    /// path (the equivalence test runs both).
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "query", getenv("TRACKHOUSE_QUERY_FULL_PARSE").map({ String(cString: $0) }) != "1",
           let invocation = QueryInvocation.parse(Array(arguments.dropFirst())) {
            do {
                try invocation.run()
            } catch {
                Trackhouse.exit(withError: error)
            }
            return
        }
        await main(nil)
    }
}

/// Flags every command that touches the warehouse shares.
struct DataOptions: ParsableArguments {
    /// Optional so `serve` can tell "not given" from the default (`ServeOptions`).
    @Option(name: .customLong("data"), help: "The data folder (projects.json, raw/, warehouse/). Default: $TRACKHOUSE_DATA, else ./data.")
    var dataFlag: String?

    /// `--data`, else `TRACKHOUSE_DATA`, else `./data`: the folder `serve` would use without a
    /// config file, so `token`, `compact` and `query` find it from the same environment.
    var data: String { Self.resolve(dataFlag) }

    static func resolve(_ dataFlag: String?) -> String {
        if let dataFlag { return dataFlag }
        // One variable by `getenv`, not `ProcessInfo.environment` (which copies them all).
        if let fromEnvironment = getenv("TRACKHOUSE_DATA").map({ String(cString: $0) }), !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "./data"
    }
}
