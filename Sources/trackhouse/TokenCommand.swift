import ArgumentParser
import Core
import Ingest
import Server

/// `trackhouse token create|list|revoke`: bearer tokens for the dashboard API. Only the
/// token's SHA-256 is stored (CONTRACT §3); the token itself is printed once by `create` and
/// cannot be shown again. Tokens are named by an id, the first 12 hex digits of that digest,
/// so registries written before ids existed list the same ids and nothing is migrated.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage API bearer tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create a read token for one project (or an admin token for all) and print it once.",
            discussion: "The SHA-256 of the token is added to <data>/projects.json; the token is printed on stdout, its id on stderr.")

        @OptionGroup var dataOptions: DataOptions
        @Option(help: "The project the token reads (required unless --admin).") var project: String?
        @Flag(help: "Create an admin token, which sees every project.")
        var admin = false

        func validate() throws {
            if !admin && project == nil { throw ValidationError("give --project ID, or --admin for an admin token") }
            if admin && project != nil { throw ValidationError("give either --project ID or --admin, not both") }
        }

        func run() throws {
            let path = dataOptions.data + "/projects.json"
            guard FileIO.exists(path) else {
                throw CommandFailure("\(path) does not exist: add a project first (`trackhouse project add --data \(dataOptions.data) --id ID --name NAME`)")
            }
            let token = AccessTokens.generate()
            let createdAt = UTCTime.formatISO(micros: UTCTime.nowMicros() / 1_000_000 * 1_000_000)
            let id = try editRegistry(path) { document in
                try document.addToken(sha256: AccessTokens.sha256Hex(token), projectID: admin ? nil : project, createdAt: createdAt)
            }
            print(token)
            printError(admin ? "admin token \(id) created; it is shown only once"
                             : "read token \(id) for \(project!) created; it is shown only once")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List every token by id (never the token or its digest).")

        enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

        @OptionGroup var dataOptions: DataOptions
        @Option(help: "table or json.") var format: Format = .table

        func run() throws {
            let tokens = try readRegistry(dataOptions.data + "/projects.json").tokens
            switch format {
            case .json:
                print(JSONWriter.string(.object(JSONObject([("tokens", .array(tokens.map(tokenJSON)))]))))
            case .table:
                var rows = [["ID", "KIND", "PROJECT", "SCOPE", "CREATED"]]
                for token in tokens {
                    rows.append([token.id, token.kind.rawValue, token.projectID ?? "*", token.scope, token.createdAt ?? "-"])
                }
                print(renderTable(rows), terminator: "")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "Remove a token by id; a running server refuses it (401) within a second.")

        @OptionGroup var dataOptions: DataOptions
        @Argument(help: "The token id, as `trackhouse token list` shows it.") var id: String

        func run() throws {
            let path = dataOptions.data + "/projects.json"
            let revoked = try editRegistry(path) { document in try document.revokeToken(id: id) }
            printError("revoked \(revoked.kind.rawValue) token \(revoked.id)" + (revoked.projectID.map { " of \($0)" } ?? ""))
        }
    }
}
