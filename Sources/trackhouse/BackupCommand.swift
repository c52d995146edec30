import ArgumentParser
import Backup
import Core

/// `trackhouse backup`: a consistent copy of a data folder, safe while `serve` runs on it.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a data folder consistently while the server runs (hard links where possible).",
        discussion: """
            The warehouse is copied exactly as of one commit of its log, the raw files as of just \
            after it (sealed hours linked, open hours up to their last complete line), and the \
            registry and other state files; backup-manifest.json records every file's SHA-256. \
            `trackhouse verify --backup DIR` checks it, `trackhouse restore` puts it back.
            """)

    @OptionGroup var dataOptions: DataOptions
    @Option(help: "The backup folder to create (must be missing or empty).") var to: String
    @Flag(name: .customLong("copy"), help: "Copy every file, even where a hard link would do (same filesystem).")
    var copyOnly = false
    @Flag(help: "Print the summary as JSON on stdout.") var json = false

    func run() throws {
        let logger = LogSetup.bootstrap(level: .warning)
        var backup = WarehouseBackup(dataDirectory: trimmed(dataOptions.data), targetDirectory: trimmed(to), logger: logger)
        backup.copyOnly = copyOnly
        backup.writtenBy = "trackhouse \(Trackhouse.version) (commit \(Trackhouse.commit))"
        let summary: WarehouseBackup.Summary
        do { summary = try backup.run() } catch { throw CommandFailure("backup failed: \(error)") }
        let manifest = summary.manifest
        if json {
            var object = JSONObject()
            object["backup"] = .string(to)
            object["warehouse_version"] = .number(String(manifest.warehouseVersion))
            object["events_rows"] = .number(String(manifest.eventsRows))
            object["sites_rows"] = .number(String(manifest.sitesRows))
            object["files"] = .number(String(manifest.files.count))
            object["bytes"] = .number(String(summary.bytes))
            object["linked_files"] = .number(String(summary.linkedFiles))
            object["copied_files"] = .number(String(summary.copiedFiles))
            object["retries"] = .number(String(summary.retries))
            print(JSONWriter.string(.object(object)))
        } else {
            printError("backed up \(manifest.files.count) files (\(summary.bytes) bytes: \(summary.linkedFiles) hard-linked, \(summary.copiedFiles) copied) to \(to): warehouse version \(manifest.warehouseVersion), \(manifest.eventsRows) events")
        }
    }
}

/// `trackhouse restore`: a verified backup into a data folder.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a data folder (verifies the backup first, then the result).",
        discussion: "The target must be missing or empty unless --force, which replaces what it holds (refused while a server runs on it).")

    @Option(help: "The backup folder (made by `trackhouse backup`).") var from: String
    @Option(help: "The data folder to restore into.") var to: String
    @Flag(help: "Replace the contents of a non-empty target.") var force = false
    @Flag(name: .customLong("copy"), help: "Copy every file, even where a hard link would do.")
    var copyOnly = false

    func run() throws {
        let summary: BackupRestore.Summary
        do {
            summary = try BackupRestore.restore(from: trimmed(from), to: trimmed(to), force: force, copyOnly: copyOnly)
        } catch { throw CommandFailure("restore failed: \(error)") }
        printError("restored \(summary.manifest.files.count) files into \(to) (\(summary.linkedFiles) hard-linked, \(summary.copiedFiles) copied): warehouse version \(summary.manifest.warehouseVersion), \(summary.manifest.eventsRows) events; verified")
    }
}

/// `trackhouse verify`: every committed file present and readable; a backup's checksums.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a data folder or a backup: every committed file present and readable, page and file checksums.",
        discussion: "Exit code 0 when everything checks, 1 with the list of problems (each naming its file) otherwise.")

    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Check this backup folder (its manifest's SHA-256s too) instead of the data folder.") var backup: String?
    @Flag(help: "Print the report as JSON on stdout.") var json = false

    func run() throws {
        let report = backup.map { DataVerifier.verifyBackup(trimmed($0)) } ?? DataVerifier.verifyData(trimmed(dataOptions.data))
        if json {
            print(JSONWriter.string(report.json))
        } else {
            print(report.text)
        }
        if !report.ok { throw ExitCode(1) }
    }
}

/// A folder given with a trailing slash names the same folder (paths are built by appending).
private func trimmed(_ path: String) -> String {
    var path = path
    while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
    return path
}
