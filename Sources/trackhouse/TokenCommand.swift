import ArgumentParser
import Core
import Ingest
import Server

/// `trackhouse token create`: bearer tokens for the dashboard API. Only the token's SHA-256
/// is stored (CONTRACT §3); the token itself is printed once and cannot be shown again.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage API bearer tokens.",
        subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create a read token for one project (or an admin token for all) and print it once.",
            discussion: "The SHA-256 of the token is added to <data>/projects.json; the token is printed on stdout.")

        @OptionGroup var dataOptions: DataOptions
        @Option(help: "The project the token reads (required unless --admin).") var project: String?
        @Flag(help: "Create an admin token, which sees every project (with --project, that project must exist).")
        var admin = false

        func validate() throws {
            if !admin && project == nil { throw ValidationError("give --project ID, or --admin for an admin token") }
        }

        func run() throws {
            let path = dataOptions.data + "/projects.json"
            guard FileIO.exists(path) else {
                throw CommandFailure("\(path) does not exist: create the registry (projects) first")
            }
            var registry: ProjectRegistry
            do {
                registry = try ProjectRegistry.parse(try FileIO.readFile(path), path: path)
            } catch {
                throw CommandFailure("cannot read the registry: \(error)")
            }
            let token = AccessTokens.generate()
            let digest = AccessTokens.sha256Hex(token)
            if let id = project, registry.project(id: id) == nil {
                let known = registry.projects.map(\.id).joined(separator: ", ")
                throw CommandFailure("no project \"\(id)\" in \(path) (known: \(known.isEmpty ? "none" : known))")
            }
            if admin {
                registry.addAdminTokenHash(digest)
            } else if let id = project, var entry = registry.project(id: id) {
                entry.tokens.append(.init(sha256: digest, scope: "read"))
                registry.replaceProject(entry)
            }
            // Atomic replace: a server reloading the registry sees the old file or the new one.
            try FileIO.writeFileAtomically(path, registry.serialized())
            print(token)
            printError(admin ? "admin token created; it is shown only once" : "read token for \(project!) created; it is shown only once")
        }
    }
}
