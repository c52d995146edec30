import ArgumentParser
import ColumnStore
import Core
import Foundation
import Ingest
import Integrations
import Logging
import Server

/// `trackhouse privacy export|erase` (CONTRACT §9).
struct PrivacyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "privacy",
        abstract: "Answer access and erasure requests: export or erase one person (email) or site of a project.",
        subcommands: [PrivacyExportCommand.self, PrivacyEraseCommand.self])
}

/// The selectors both subcommands share.
struct PrivacySubjectOptions: ParsableArguments {
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "The project id.") var project: String
    @Option(help: "Match events and raw lines whose admin_email (or old clients' user_email) is this address, trimmed and case-insensitively.")
    var email: String?
    @Option(name: .customLong("site"), help: "Match every event and raw line of this site_key (a URL is reduced to its site_key).")
    var site: String?

    func validate() throws {
        guard (email == nil) != (site == nil) else { throw ValidationError("give exactly one of --email and --site") }
        _ = try subject()
    }

    func subject() throws -> PrivacySubject {
        if let email {
            guard let subject = PrivacySubject.email(normalizing: email) else { throw ValidationError("--email must not be empty") }
            return subject
        }
        guard let subject = site.flatMap(PrivacySubject.site(normalizing:)) else { throw ValidationError("--site must be a site key or URL") }
        return subject
    }
}

struct PrivacyExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print everything stored of the subject as JSON: {\"events\":[…],\"sites\":[…],\"raw_lines\":n}.")

    @OptionGroup var selection: PrivacySubjectOptions

    func run() throws {
        let logger = LogSetup.bootstrap(level: .warning)
        let compactor = Compactor(dataDirectory: selection.dataOptions.data, logger: logger)
        do {
            print(JSONWriter.string(try compactor.exportSubject(projectID: selection.project, subject: try selection.subject())))
        } catch {
            throw CommandFailure("privacy export failed: \(error)")
        }
    }
}

struct PrivacyEraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Remove the subject from raw files, events and sites (rewriting only the files that hold it); rerun after an interruption to finish.",
        discussion: """
        Refuses while a trackhouse server writes raw files in the same data folder: use the server's \
        POST /api/v1/projects/<id>/privacy/erase instead (it coordinates with its writer), or stop it. \
        Waits for a running compaction to finish. Appends a line with a SHA-256 of the subject to \
        <data>/privacy/audit.ndjson.
        """)

    @OptionGroup var selection: PrivacySubjectOptions
    @Flag(help: "Print the summary as JSON: {\"events_removed\",\"sites_removed\",\"raw_lines_removed\",\"files_rewritten\"}.")
    var json = false
    @Option(name: .customLong("lock-wait"), help: "Seconds to wait for a running compaction (default 600).")
    var lockWaitSeconds: Double = 600

    func run() throws {
        let logger = LogSetup.bootstrap(level: .warning)
        let data = selection.dataOptions.data
        var options = Compactor.Options()
        // Test hook (crash tests): SIGKILL after the numbered point of the erase algorithm.
        options.eraseCrashAfterStep = ProcessInfo.processInfo.environment["TRACKHOUSE_TEST_ERASE_CRASH_AFTER"].flatMap { Int($0) }
        let report: EraseReport
        do {
            let exclusion = try RawWriterExclusion(layout: RawLayout(dataDirectory: data))
            defer { exclusion.release() }
            report = try Compactor(dataDirectory: data, options: options, logger: logger)
                .erase(projectID: selection.project, subject: try selection.subject(), lockWaitSeconds: lockWaitSeconds,
                       dropFromOtherStores: { project, subject in
                           try PrivacyOutbox.drop(OutboxStore(dataDirectory: data), projectID: project, subject: subject)
                           // The chart rollups' saved state holds site keys: the next start builds it anew.
                           RollupStore.removeStateFile(dataDirectory: data)
                       })
        } catch {
            throw CommandFailure("privacy erase failed: \(error)")
        }
        print(json ? JSONWriter.string(report.json) : report.text)
    }
}
