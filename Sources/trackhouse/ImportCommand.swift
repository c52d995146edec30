import ArgumentParser
import Ingest
import Logging

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Copy a tree of envelope files (plain or .gz) into the raw layout, validating every line.")

    @Argument(help: "Folder (or single file) of envelope files to import.") var source: String
    @OptionGroup var dataOptions: DataOptions
    @Flag(help: "Print the summary as JSON on stdout.") var json = false

    func run() throws {
        let logger = LogSetup.bootstrap(level: .warning)
        let importer = RawImporter(layout: RawLayout(dataDirectory: dataOptions.data), logger: logger)
        let summary = try importer.importTree(source) { problem in
            printError("\(problem.path):\(problem.line): \(problem.message)")
        }
        if json {
            print(summary.jsonText)
        } else {
            printError("imported \(summary.linesImported) lines from \(summary.filesRead) files (\(summary.filesWritten) raw files written, \(summary.filesSkipped) already present), \(summary.linesRejected) bad lines skipped")
        }
    }
}

func printError(_ text: String) {
    var stderr = StandardErrorStream()
    print(text, to: &stderr)
}

/// `fputs` to the C library's `stderr`: this module's own writes to stderr go through it (files that
/// import Foundation cannot name `stderr` in Swift 6, see the import below).
struct StandardErrorStream: TextOutputStream {
    mutating func write(_ string: String) {
        fputs(string, Glibc.stderr)
    }
}

// `@preconcurrency`: Swift 6 refuses any read of the C global `var stderr`. It is safe here:
// this program never assigns it (the C runtime sets it before `main`), and the `FILE` it
// points to locks itself in each `fputs`. This file must not import Foundation, whose
// plain re-export of Glibc would bring the error back.
@preconcurrency import Glibc
