import ArgumentParser

/// The one binary. The root command only parses; each subcommand calls into the libraries.
@main
struct Trackhouse: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "trackhouse",
        abstract: "Self-hosted analytics backend for Appsero SDK telemetry: ingest, columnar warehouse, SQL, dashboard API.",
        version: version,
        subcommands: [ServeCommand.self, ImportCommand.self, GenCommand.self, CompactCommand.self, QueryCommand.self, DemoSetupCommand.self, ProjectCommand.self, TokenCommand.self])
}

/// Flags every command that touches the warehouse shares.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The data folder (projects.json, raw/, warehouse/).")
    var data: String = "./data"
}
