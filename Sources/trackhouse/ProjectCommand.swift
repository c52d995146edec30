import ArgumentParser
import Core
import Ingest

/// `trackhouse project add|list|show|update|remove`: edits `<data>/projects.json` through
/// `RegistryDocument`, which keeps every field it does not manage and writes atomically under
/// a lock. A running `serve` re-reads the file within a second of a change.
struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Add, list, show, update and remove projects in <data>/projects.json.",
        subcommands: [Add.self, List.self, Show.self, Update.self, Remove.self])

    enum ListFormat: String, ExpressibleByArgument, CaseIterable { case table, json }
    enum ShowFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    static let serverURLHelp: ArgumentHelp = "This server's public base URL, as WordPress sites reach it (used in the printed snippet)."
    static let serverURLPlaceholder = "https://trackhouse.example.com"

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a project and print the SDK snippet that sends its telemetry here.")

        @OptionGroup var dataOptions: DataOptions
        @Option(help: "The project id: 1–64 of a-z 0-9 _ -, starting with a letter or digit (e.g. acme-seo).") var id: String
        @Option(help: "The display name (e.g. \"Acme SEO\").") var name: String
        @Option(help: "plugin or theme.") var type: String = "plugin"
        @Option(help: "The SDK project hash (keep the one from Appsero's dashboard when moving); generated when omitted.")
        var hash: String?
        @Option(name: .customLong("server-url"), help: serverURLHelp) var serverURL: String = serverURLPlaceholder

        func run() throws {
            let path = dataOptions.data + "/projects.json"
            let hash = self.hash?.trimmingCharacters(in: .whitespaces) ?? RegistryDocument.generateHash()
            try editRegistry(path) { document in
                try document.addProject(id: id, name: name, type: type, hash: hash)
            }
            printError("project \(id) added to \(path); a running `trackhouse serve` picks it up within a second")
            print(SDKGuide.text(hash: hash.lowercased(), name: name.trimmingCharacters(in: .whitespacesAndNewlines),
                                type: type, serverURL: serverURL, projectID: id,
                                isPlaceholderURL: serverURL == ProjectCommand.serverURLPlaceholder))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the projects.")

        @OptionGroup var dataOptions: DataOptions
        @Option(help: "table or json.") var format: ListFormat = .table

        func run() throws {
            let document = try readRegistry(dataOptions.data + "/projects.json")
            let tokens = document.tokens
            switch format {
            case .json:
                let list = document.projects.map { project -> JSONValue in
                    let id = project["id"]?.stringValue ?? ""
                    return .object(JSONObject([
                        ("id", .string(id)), ("name", project["name"] ?? .string(id)),
                        ("type", project["type"] ?? .string("plugin")), ("hash", project["hash"] ?? .null),
                        ("tokens", .number(String(tokens.filter { $0.projectID == id }.count))),
                    ]))
                }
                print(JSONWriter.string(.object(JSONObject([("projects", .array(list))]))))
            case .table:
                var rows = [["ID", "NAME", "TYPE", "HASH", "TOKENS"]]
                for project in document.projects {
                    let id = project["id"]?.stringValue ?? ""
                    rows.append([id, project["name"]?.stringValue ?? id, project["type"]?.stringValue ?? "plugin",
                                 project["hash"]?.stringValue ?? "", String(tokens.filter { $0.projectID == id }.count)])
                }
                print(renderTable(rows), terminator: "")
                if rows.count == 1 { printError("no projects yet: add one with `trackhouse project add --id ID --name NAME`") }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show one project (its tokens by id only) and its SDK snippet.")

        @OptionGroup var dataOptions: DataOptions
        @Argument(help: "The project id.") var id: String
        @Option(help: "text or json.") var format: ShowFormat = .text
        @Option(name: .customLong("server-url"), help: serverURLHelp) var serverURL: String = serverURLPlaceholder

        func run() throws {
            let document = try readRegistry(dataOptions.data + "/projects.json")
            guard var project = document.project(id: id) else {
                let known = document.projects.compactMap { $0["id"]?.stringValue }
                throw CommandFailure("no project \"\(id)\" (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            }
            let tokens = document.tokens.filter { $0.projectID == id }
            // The digests stay in the file: listed tokens are ids, as `token list` shows them.
            project["tokens"] = .array(tokens.map(tokenJSON))
            switch format {
            case .json:
                print(JSONWriter.string(.object(project)))
            case .text:
                let hash = project["hash"]?.stringValue ?? ""
                let name = project["name"]?.stringValue ?? id
                let type = project["type"]?.stringValue ?? "plugin"
                print("id:     \(id)\nname:   \(name)\ntype:   \(type)\nhash:   \(hash)")
                let fields = jsonArray(project["extra_fields"])
                print("extra fields: " + (fields.isEmpty ? "none" : fields.map { "\($0["key"]?.stringValue ?? "?"):\($0["type"]?.stringValue ?? "?")" }.joined(separator: ", ")))
                let reasons = jsonArray(project["deactivation_reasons"]).compactMap(\.stringValue)
                print("deactivation reasons (besides the built-in ones): " + (reasons.isEmpty ? "none" : reasons.joined(separator: ", ")))
                print("tokens: " + (tokens.isEmpty ? "none (create one with `trackhouse token create --project \(id)`)"
                                    : tokens.map { "\($0.id) (\($0.scope), created \($0.createdAt ?? "unknown"))" }.joined(separator: ", ")))
                let known: Set<String> = ["id", "name", "type", "hash", "extra_fields", "deactivation_reasons", "tokens"]
                let others = project.keys.filter { !known.contains($0) }
                if !others.isEmpty { print("other fields (kept as they are): " + others.joined(separator: ", ")) }
                print("")
                print(SDKGuide.text(hash: hash, name: name, type: type, serverURL: serverURL, projectID: id,
                                    isPlaceholderURL: serverURL == ProjectCommand.serverURLPlaceholder))
            }
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update",
            abstract: "Change a project's name, type, extra fields or deactivation reasons.",
            discussion: "The id and hash do not change: sites send the hash, and the warehouse files are under the id.")

        @OptionGroup var dataOptions: DataOptions
        @Argument(help: "The project id.") var id: String
        @Option(help: "A new display name.") var name: String?
        @Option(help: "plugin or theme.") var type: String?
        @Option(name: .customLong("add-extra-field"), help: "KEY:TYPE (string|int|float|bool): keep extra[KEY] in the events' extra column (repeatable).")
        var addExtraFields: [String] = []
        @Option(name: .customLong("remove-extra-field"), help: "KEY (repeatable).") var removeExtraFields: [String] = []
        @Option(name: .customLong("add-reason"), help: "A custom deactivation reason_id to keep (repeatable).") var addReasons: [String] = []
        @Option(name: .customLong("remove-reason"), help: "A custom deactivation reason_id to drop (repeatable).") var removeReasons: [String] = []

        func run() throws {
            var changes = RegistryDocument.ProjectChanges()
            changes.name = name
            changes.type = type
            changes.addExtraFields = try addExtraFields.map { spec in
                guard let colon = spec.lastIndex(of: ":") else {
                    throw CommandFailure("--add-extra-field \(spec): write KEY:TYPE, e.g. total_posts:int")
                }
                return (key: String(spec[..<colon]), type: String(spec[spec.index(after: colon)...]))
            }
            changes.removeExtraFields = removeExtraFields
            changes.addReasons = addReasons
            changes.removeReasons = removeReasons
            guard !changes.isEmpty else {
                throw CommandFailure("nothing to change: give --name, --type, --add-extra-field, --remove-extra-field, --add-reason or --remove-reason")
            }
            let path = dataOptions.data + "/projects.json"
            try editRegistry(path) { document in try document.updateProject(id: id, changes) }
            printError("project \(id) updated in \(path)")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a project and its tokens from the registry (its warehouse files stay).")

        @OptionGroup var dataOptions: DataOptions
        @Argument(help: "The project id.") var id: String
        @Flag(help: "Remove without asking for confirmation.") var yes = false

        func run() throws {
            let path = dataOptions.data + "/projects.json"
            let document = try readRegistry(path)
            guard document.project(id: id) != nil else {
                let known = document.projects.compactMap { $0["id"]?.stringValue }
                throw CommandFailure("no project \"\(id)\" (known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            }
            let tokenCount = document.tokens.filter { $0.projectID == id }.count
            guard yes else {
                throw CommandFailure("""
                    removing \(id) makes ingest answer 404 to its hash (nothing more is stored), revokes its \(tokenCount) token(s), \
                    and leaves its events out of compaction; files already in the warehouse stay. Re-run with --yes to remove it.
                    """)
            }
            try editRegistry(path) { document in try document.removeProject(id: id) }
            printError("project \(id) removed from \(path) with \(tokenCount) token(s); its warehouse files under warehouse/*/project=\(id) are kept")
        }
    }
}

/// What `project add` and `project show` print: the PHP a vendor adds to the plugin.
enum SDKGuide {
    static func text(hash: String, name: String, type: String, serverURL: String, projectID: String, isPlaceholderURL: Bool) -> String {
        var base = serverURL
        while base.hasSuffix("/") { base.removeLast() }
        let phpName = phpString(name)
        let phpHash = phpString(hash)
        let phpBase = phpString(base)
        var text = """
        Project \(projectID): hash \(hash)

        1. In the \(type)'s main file, with the Appsero client SDK (composer require appsero/client):

            if ( ! class_exists( 'Appsero\\Client' ) ) {
                require_once __DIR__ . '/vendor/appsero/client/src/Client.php';
            }
            $client = new Appsero\\Client( \(phpHash), \(phpName), __FILE__ );
            $client->insights()->init();

        2. Send its telemetry to this server. Recommended, scoped to this project (only requests
           carrying its hash to the three telemetry routes move; everything else, including other
           vendors' Appsero clients and license and update checks, still goes to Appsero):

            add_filter( 'pre_http_request', function ( $response, $args, $url ) {
                $appsero = 'https://api.appsero.com/';
                if ( false !== $response || 0 !== strpos( $url, $appsero ) ) {
                    return $response;
                }
                $route = substr( $url, strlen( $appsero ) );
                $hash  = isset( $args['body']['hash'] ) && is_string( $args['body']['hash'] ) ? $args['body']['hash'] : '';
                if ( ! in_array( $route, array( 'track', 'deactivate', 'tracking-skipped' ), true ) || 0 !== strcasecmp( $hash, \(phpHash) ) ) {
                    return $response;
                }
                return wp_remote_post( \(phpBase) . '/' . $route, $args );
            }, 10, 3 );

           Or the SDK's own filter, which is GLOBAL:

            add_filter( 'appsero_endpoint', function () {
                return \(phpBase);
            } );

           WARNING: the SDK calls appsero_endpoint with only the default URL, not the client or its
           hash, so it cannot be scoped to one plugin: it redirects EVERY Appsero client on the site,
           other vendors' plugins and themes included. Their telemetry is then refused here (404,
           unknown hash, nothing stored), and their license activation/check and update checks get
           Trackhouse's 404 JSON answer, which their SDK treats as a failed check. Use it only where
           your plugin is the only Appsero client on the site.

        3. Check: curl \(base)/healthz ; after a site opts in (or its weekly send), its events show in
           trackhouse query "SELECT count(*) FROM events WHERE project_id = '\(projectID)'"
           Dashboard token: trackhouse token create --project \(projectID)
        """
        if isPlaceholderURL {
            text += "\n\nReplace \(base) with this server's public URL (or pass --server-url)."
        }
        return text
    }

    /// A single-quoted PHP string literal.
    static func phpString(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}

func readRegistry(_ path: String) throws -> RegistryDocument {
    do {
        return try RegistryDocument.read(path: path)
    } catch {
        throw CommandFailure("cannot read the registry: \(error)\nfix the file (its format is in the README, \"The registry\"), then run the command again")
    }
}

func editRegistry<Result>(_ path: String, _ edit: (inout RegistryDocument) throws -> Result) throws -> Result {
    do {
        return try RegistryDocument.edit(path: path, edit)
    } catch let error as RegistryEditError {
        throw CommandFailure(error.message)
    } catch let error as RegistryError {
        throw CommandFailure("cannot read the registry: \(error)\nfix the file (its format is in the README, \"The registry\"), then run the command again")
    }
}

func jsonArray(_ value: JSONValue?) -> [JSONValue] {
    if case .array(let items)? = value { return items }
    return []
}

func tokenJSON(_ token: RegistryDocument.TokenInfo) -> JSONValue {
    .object(JSONObject([
        ("id", .string(token.id)), ("kind", .string(token.kind.rawValue)),
        ("project", token.projectID.map { .string($0) } ?? .null), ("scope", .string(token.scope)),
        ("created_at", token.createdAt.map { .string($0) } ?? .null),
    ]))
}

/// Left-aligned columns, two spaces apart, one line per row.
func renderTable(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    var widths = Array(repeating: 0, count: first.count)
    for row in rows { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
    var text = ""
    for row in rows {
        var line = ""
        for (column, cell) in row.enumerated() {
            line += column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
        }
        text += line + "\n"
    }
    return text
}
