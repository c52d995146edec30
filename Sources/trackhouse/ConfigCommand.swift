import ArgumentParser
import Server

/// `trackhouse config`: what `serve` would run with, resolved the same way (flags >
/// TRACKHOUSE_* > config file > defaults) and checked the same way, without starting anything.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective serve configuration: every setting, its value and where it came from (flag, env, file or default).",
        discussion: "Takes serve's options, so `trackhouse config --port 9000` shows what `trackhouse serve --port 9000` would use. Secret-like settings (token, secret, password, key) print as ****.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @OptionGroup var options: ServeOptions
    @Option(help: "table or json.") var format: Format = .table

    func run() async throws {
        let settings = try await options.resolve()
        do {
            _ = try settings.serverConfiguration()
        } catch {
            throw CommandFailure(error.description)
        }
        print(format == .json ? settings.renderJSON() : settings.renderTable())
    }
}
