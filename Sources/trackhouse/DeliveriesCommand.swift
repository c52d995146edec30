import ArgumentParser
import Core
import Foundation
import Integrations

/// `trackhouse deliveries [list]` and `trackhouse deliveries retry` (CONTRACT §8): the
/// integrations' outboxes under `<data>/outbox`, read and edited with the same locks `serve`
/// uses, so both work while it runs.
struct DeliveriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "List the integrations' deliveries, or send dead ones again.",
        subcommands: [List.self, Retry.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List deliveries, newest first (the default subcommand).")

        @OptionGroup var dataOptions: DataOptions
        @Option(help: "Only this project.") var project: String?
        @Option(help: "pending, delivered or dead.") var status: String?
        @Flag(help: "Print {\"total\",\"deliveries\":[…]} as the API does (with a project field per delivery).") var json = false

        func run() throws {
            var wanted: OutboxLog.Status?
            if let status {
                guard let parsed = OutboxLog.Status(rawValue: status) else {
                    throw ValidationError("--status must be pending, delivered or dead (got \"\(status)\")")
                }
                wanted = parsed
            }
            let store = OutboxStore(dataDirectory: dataOptions.data)
            var rows: [(project: String, item: DeliveryListItem)] = []
            for projectID in store.projectIDs() where project == nil || projectID == project {
                rows += try store.deliveries(projectID: projectID, status: wanted).map { (projectID, $0) }
            }
            if json {
                let list: [JSONValue] = rows.map { row in
                    guard case .object(var object) = row.item.json else { return row.item.json }
                    object["project_id"] = .string(row.project)
                    return .object(object)
                }
                print(JSONWriter.string(.object(JSONObject([("total", .number(String(rows.count))), ("deliveries", .array(list))]))))
                return
            }
            if rows.isEmpty {
                print("no deliveries")
                return
            }
            print(["PROJECT", "INTEGRATION", "ID", "TYPE", "STATUS", "ATTEMPTS", "LAST", "NEXT/DELIVERED", "LAST ERROR"].joined(separator: "\t"))
            for row in rows {
                let entry = row.item.entry
                let when = entry.status == .delivered ? entry.deliveredAtMicros : (entry.status == .pending ? entry.nextAttemptAtMicros : nil)
                print([row.project, row.item.integrationID, entry.id, entry.type, entry.status.rawValue, String(entry.attempts),
                       entry.lastStatus.map(String.init) ?? "-", when.map { UTCTime.formatISO(micros: $0) } ?? "-",
                       entry.lastError ?? ""].joined(separator: "\t"))
            }
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry", abstract: "Make dead deliveries pending again, due now (serve sends them at its next poll).")

        @OptionGroup var dataOptions: DataOptions
        @Option(help: "Only this project.") var project: String?
        @Option(help: "Only this integration.") var integration: String?
        @Option(name: .customLong("id"), help: "Only this delivery id.") var deliveryID: String?

        func run() throws {
            let count = try OutboxStore(dataDirectory: dataOptions.data)
                .retryDead(projectID: project, integrationID: integration, deliveryID: deliveryID)
            print("\(count) dead \(count == 1 ? "delivery" : "deliveries") made pending again")
        }
    }
}
