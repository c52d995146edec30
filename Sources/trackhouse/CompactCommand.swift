import ArgumentParser
import ColumnStore
import Core
import Foundation
import Logging
import Server

struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Compact sealed raw hours into Parquet segments, merge small segments, update the latest-sites index.")

    @OptionGroup var dataOptions: DataOptions
    @Flag(name: .customLong("include-open"), help: "Also compact the complete lines of hours still being written.")
    var includeOpen = false
    @Option(name: .customLong("seal-grace"), help: "Seconds after an hour ends before it counts as sealed.")
    var sealGraceSeconds: Int64 = 300
    @Option(name: .customLong("segment-rows"), help: "Target rows of a merged month segment.")
    var segmentRows = 524_288
    @Option(name: .customLong("row-group-rows"), help: "Rows per Parquet row group.")
    var rowGroupRows = 131_072
    @Option(name: .customLong("chunk-events"), help: "Events per commit while compacting a backlog (bounds memory).")
    var chunkEvents = 200_000
    @Flag(name: .customLong("no-merge"), help: "Skip merging small segments.")
    var noMerge = false
    @Option(name: .customLong("raw-retention-days"), help: "Delete fully compacted raw files older than this many days (default: keep).")
    var rawRetentionDays: Int?
    @Option(name: .customLong("retention-months"), help: "Drop events months wholly older than this many months, their raw hours, and sites not seen since (default: keep all history).")
    var retentionMonths: Int?
    @Option(name: .customLong("sites-fold-ratio"), help: "Fold a project's sites deltas into a new base once their rows pass this share of the base's (default: never by rows, only by --sites-deltas-max and at the end; serve uses 0.25).")
    var sitesFoldRatio: Double?
    @Option(name: .customLong("sites-deltas-max"), help: "Fold a project's sites deltas into a new base once it has more than this many (default 32).")
    var sitesDeltasMax: Int?
    @Flag(name: .customLong("no-sites-fold"), help: "Leave sites deltas as they are at the end (default: fold them, so sites/ holds one full snapshot per project).")
    var noSitesFold = false
    @Flag(name: .customLong("no-rollups"), help: "Leave the chart rollups' state file as it is (default: bring it up to this compaction's commit, so the next `serve` start reads it instead of building the rollups from every events segment).")
    var noRollups = false
    @Option(name: .customLong("rollup-days"), help: "Days of history the saved chart rollups keep, back from the newest event (1-3660; default 120): give the value `serve` runs with.")
    var rollupDays = RollupStore.windowDaysDefault
    @Flag(help: "No progress on stderr.") var quiet = false
    @Flag(help: "Print the summary as JSON on stdout.") var json = false

    func validate() throws {
        if let retentionMonths, retentionMonths < 1 {
            throw ValidationError("--retention-months must be 1 or more")
        }
        if let sitesFoldRatio, !(sitesFoldRatio >= 0) {
            throw ValidationError("--sites-fold-ratio must be 0 or more")
        }
        if let sitesDeltasMax, sitesDeltasMax < 0 {
            throw ValidationError("--sites-deltas-max must be 0 or more")
        }
        if let rawRetentionDays, rawRetentionDays < 0 {
            throw ValidationError("--raw-retention-days must be 0 or more")
        }
        guard (1...3660).contains(rollupDays) else {
            throw ValidationError("--rollup-days must be between 1 and 3660")
        }
        guard rowGroupRows >= 1024, segmentRows >= rowGroupRows, chunkEvents >= 1 else {
            throw ValidationError("--row-group-rows must be at least 1024 and --segment-rows at least --row-group-rows")
        }
    }

    func run() throws {
        let logger = LogSetup.bootstrap(level: .warning)
        var options = Compactor.Options()
        // Parse workers and each file's column encoders allocate and free blocks of a few MB
        // on several threads; with glibc's default of up to 8 arenas per core, freed blocks
        // sat in the arena of the thread that freed them while another thread mapped new
        // pages: 1,068 MB peak on the 1M-site backlog against 861 MB with one arena per busy
        // thread, and ~7 % more CPU in page faults (BENCHMARKS.md "Compaction").
        MallocTuning.limitArenas(to: max(2, options.parseThreads))
        options.includeOpenHours = includeOpen
        options.sealGraceSeconds = sealGraceSeconds
        options.segmentRowsTarget = segmentRows
        options.rowGroupRows = rowGroupRows
        options.chunkEventsMax = chunkEvents
        options.mergeSmallSegments = !noMerge
        options.rawRetentionDays = rawRetentionDays
        options.retentionMonths = retentionMonths
        // A one-shot run over a backlog folds at its end, so its deltas are folded by count
        // only: at 1M sites (24 chunks) 2 base writes instead of 9 by rows (ratio 1) or 22
        // (0.25). `serve` keeps 0.25: its readers merge every delta on each read.
        options.sitesFold.deltaRowsRatioMax = sitesFoldRatio ?? SitesFoldPolicy.batchDeltaRowsRatioMax
        options.sitesFold.deltasMax = sitesDeltasMax ?? SitesFoldPolicy.batchDeltasMax
        if noSitesFold {
            options.sitesFold.foldAtEnd = false
            options.sitesFold.deltaAgeSecondsMax = Int64.max / 2_000_000
            options.sitesFold.deltasMax = Int.max
        }
        // Test hook (crash tests): SIGKILL after the numbered point of a sites fold.
        options.sitesFoldCrashAfterStep = ProcessInfo.processInfo.environment["TRACKHOUSE_TEST_FOLD_CRASH_AFTER"].flatMap { Int($0) }
        let progress = ProgressLine(quiet: quiet)
        let compactor = Compactor(dataDirectory: dataOptions.data, options: options, logger: logger) { done, total, text in
            progress.update(done: done, total: total, text: text)
        }
        let report: CompactionReport
        do {
            report = try compactor.run()
        } catch {
            progress.finish()
            throw CommandFailure("compaction failed: \(error)")
        }
        progress.finish()
        // The compaction's buffers are free now: hand their pages back before the rollups
        // take theirs, so the process peaks at the larger of the two, not their sum.
        FreedMemory.release()
        let rollups = noRollups ? nil : saveRollups(report: report, logger: logger)
        if json {
            var object = report.json
            if case .object(var fields) = object, let rollups {
                fields["rollups"] = rollups.json
                object = .object(fields)
            }
            print(JSONWriter.string(object))
        }
        if !quiet {
            printError(report.text)
            if let rollups { printError(rollups.text) }
        }
    }

    /// What bringing the rollups' state file up to date did.
    struct RollupsSaved {
        var seconds: Double
        var events: Int
        var version: Int
        var error: String?

        var json: JSONValue {
            var fields = JSONObject([("seconds", .number(String(format: "%.3f", seconds))), ("events", .number(String(events))),
                                     ("version", .number(String(version)))])
            if let error { fields["error"] = .string(error) }
            return .object(fields)
        }

        var text: String {
            if let error { return "  chart rollups: not saved (\(error)); the next serve start builds them" }
            return String(format: "  chart rollups: %d events saved at version %d in %.2f s", events, version, seconds)
        }
    }

    /// A commit brings the rollups' state file up to it, so a start reads the state instead
    /// of every segment: read the file and follow the new commits, or build when there is no
    /// usable file, then write it. Skipped when nothing was committed and a file exists (a
    /// file behind the log is still followed by the next start). A failure is reported, not
    /// thrown: the warehouse is committed either way, and `serve` then builds.
    private func saveRollups(report: CompactionReport, logger: Logger) -> RollupsSaved? {
        let directory = RollupStore.stateDirectory(dataDirectory: dataOptions.data)
        guard report.commits > 0 || !FileIO.exists(RollupStore.statePath(dataDirectory: dataOptions.data)) else { return nil }
        let started = DispatchTime.now().uptimeNanoseconds
        let store = RollupStore(warehouse: WarehouseReader(dataDirectory: dataOptions.data), stateDirectory: directory,
                                windowDays: rollupDays, logger: logger)
        var error: String?
        do {
            try store.refresh()
            store.persistNow()
            if store.persistedVersion != store.status.version { error = "the state file could not be written" }
        } catch let failure {
            error = "\(failure)"
        }
        let status = store.status
        return RollupsSaved(seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, events: status.events,
                            version: status.version, error: error ?? status.error)
    }
}

/// An error already phrased for people: printed as is, exit code 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
