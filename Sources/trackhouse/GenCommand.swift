import ArgumentParser
import Core
import Foundation
import Workload

struct GenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate a deterministic, realistic raw dataset and projects.json.")

    @Option(help: "Output data folder (must hold no raw files yet).") var out: String
    @Option(help: "Number of projects.") var projects = 3
    @Option(help: "Number of sites.") var sites = 1_000
    @Option(help: "Weeks of history.") var weeks = 12
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "End of the generated range (ISO-8601, exclusive), or 'now'.")
    var end: String = "2026-11-01T00:00:00Z"
    @Flag(help: "No progress on stderr.") var quiet = false
    @Flag(help: "Print the summary as JSON on stdout.") var json = false

    func run() throws {
        var options = GeneratorOptions(outDirectory: out, projects: projects, sites: sites, weeks: weeks, seed: seed)
        if end == "now" { options.endMicros = GeneratorOptions.nowTruncatedToHourMicros() } else {
            guard let micros = UTCTime.parseISO(end) else { throw ValidationError("--end must be ISO-8601 or 'now'") }
            options.endMicros = micros
        }
        let progress = ProgressLine(quiet: quiet)
        let started = Date()
        let summary = try WorkloadGenerator.generate(options: options) { partial in
            progress.update(done: partial.events, total: 0, text: "events generated")
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        if json {
            var object = JSONObject()
            object["events"] = .number(String(summary.events))
            object["lines"] = .number(String(summary.lines))
            object["unknown_project_events"] = .number(String(summary.unknownProjectEvents))
            object["duplicate_lines"] = .number(String(summary.duplicateLines))
            object["files"] = .number(String(summary.files))
            object["bytes"] = .number(String(summary.bytes))
            object["seconds"] = .number(String(format: "%.3f", seconds))
            print(JSONWriter.string(.object(object)))
        }
        if !quiet {
            printError(String(format: "generated %d events (%d lines, %d duplicates, %d unknown-project) in %d files, %.1f MB, %.1f s",
                              summary.events, summary.lines, summary.duplicateLines, summary.unknownProjectEvents,
                              summary.files, Double(summary.bytes) / 1e6, seconds))
        }
    }
}
