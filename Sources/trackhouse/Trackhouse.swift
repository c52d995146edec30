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
    /// Why `query` goes first: ArgumentParser builds the parser of every subcommand before it
    /// looks at the arguments, by reflection over each one's properties, and each first
    /// lookup of a type's protocol conformance scans the static binary's whole conformance
    /// table — about a fifth of the CPU of a small `trackhouse query` process, which analysts'
    /// scripts run one query at a time. `QueryCommand` is parsed on its own instead; anything
    /// it does not accept (help, a bad flag) goes to the full parse, which prints exactly what
    /// it always did, so only the cost differs.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "query", !arguments.contains(where: { ["-h", "--help", "help"].contains($0) }),
           let command = try? QueryCommand.parseAsRoot(Array(arguments.dropFirst())) as? QueryCommand {
            do {
                try command.run()
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
    var data: String {
        if let dataFlag { return dataFlag }
        if let fromEnvironment = ProcessInfo.processInfo.environment["TRACKHOUSE_DATA"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "./data"
    }
}
