/// What a compaction run did; printed as a summary or as JSON (`--json`).
public struct CompactionReport: Sendable {
    public struct ProjectCounts: Sendable {
        public var eventsIn = 0
        public var eventsOut = 0
        public var duplicatesDropped = 0
    }

    public var projects: [String: ProjectCounts] = [:]
    public var rawFilesPlanned = 0
    public var rawFilesUnreadable = 0
    public var rawBytesIn: Int64 = 0
    public var linesRead = 0
    public var linesInvalid = 0
    public var tornTailsSkipped = 0
    public var unknownProjectEvents = 0
    public var castFailures = 0
    public var segmentsWritten = 0
    public var segmentsMerged = 0
    public var bytesOut: Int64 = 0
    /// Full sites snapshots (bases) written: a project's first, a fold, a commit past the fold policy.
    public var sitesSnapshots = 0
    /// Sites deltas written (the sites one commit touched).
    public var sitesDeltas = 0
    /// Projects whose deltas a fold merged into a new base.
    public var sitesFolds = 0
    public var commits = 0
    /// Checkpoints of the commit log written by this run (0 or 1).
    public var checkpoints = 0
    /// Raw files deleted by raw retention (`rawRetentionDays`).
    public var rawFilesDeleted = 0
    /// Events segments of months dropped by history retention (`retentionMonths`).
    public var segmentsRetired = 0
    /// Progress entries of raw files that no longer exist, dropped before a checkpoint.
    public var rawProgressPruned = 0
    /// Raw files this run listed: the whole tree, or the hours from `Options.rawListedFromHour`.
    public var rawFilesListed = 0
    /// Every raw file of an hour before this one that the run listed is complete (fully
    /// compacted, its hour over): a later run may list from here (`Options.rawListedFromHour`).
    public var rawSettledBeforeHour: Int64 = .min
    public var seconds = 0.0
    public var warehouseVersion = 0

    subscript(project id: String) -> ProjectCounts {
        get { projects[id, default: ProjectCounts()] }
        set { projects[id] = newValue }
    }

    public var eventsIn: Int { projects.values.reduce(0) { $0 + $1.eventsIn } }
    public var eventsOut: Int { projects.values.reduce(0) { $0 + $1.eventsOut } }
    public var duplicatesDropped: Int { projects.values.reduce(0) { $0 + $1.duplicatesDropped } }

    public var json: JSONValue {
        func n<T: BinaryInteger>(_ v: T) -> JSONValue { .number(String(v)) }
        var perProject = JSONObject()
        for id in projects.keys.sorted() {
            let counts = projects[id]!
            perProject[id] = .object(JSONObject([("events_in", n(counts.eventsIn)), ("events_out", n(counts.eventsOut)),
                                                 ("duplicates_dropped", n(counts.duplicatesDropped))]))
        }
        return .object(JSONObject([
            ("projects", .object(perProject)),
            ("events_in", n(eventsIn)), ("events_out", n(eventsOut)), ("duplicates_dropped", n(duplicatesDropped)),
            ("unknown_project_events", n(unknownProjectEvents)), ("cast_failures", n(castFailures)),
            ("lines_read", n(linesRead)), ("lines_invalid", n(linesInvalid)), ("torn_tails_skipped", n(tornTailsSkipped)),
            ("raw_files", n(rawFilesPlanned)), ("raw_files_unreadable", n(rawFilesUnreadable)),
            ("bytes_in", n(rawBytesIn)), ("bytes_out", n(bytesOut)),
            ("segments_written", n(segmentsWritten)), ("segments_merged", n(segmentsMerged)),
            ("sites_snapshots", n(sitesSnapshots)), ("sites_deltas", n(sitesDeltas)), ("sites_folds", n(sitesFolds)), ("commits", n(commits)), ("checkpoints", n(checkpoints)),
            ("raw_files_deleted", n(rawFilesDeleted)), ("segments_retired", n(segmentsRetired)), ("raw_progress_pruned", n(rawProgressPruned)),
            ("raw_files_listed", n(rawFilesListed)),
            ("seconds", .number(String(format: "%.3f", seconds))), ("warehouse_version", n(warehouseVersion)),
        ]))
    }

    /// The human summary printed on stderr.
    public var text: String {
        var lines: [String] = []
        lines.append(String(format: "compacted %d raw files (%.1f MB) in %.2f s: %d events in, %d out, %d duplicates dropped",
                            rawFilesPlanned, Double(rawBytesIn) / 1e6, seconds, eventsIn, eventsOut, duplicatesDropped))
        for id in projects.keys.sorted() {
            let c = projects[id]!
            lines.append("  \(id): \(c.eventsIn) in, \(c.eventsOut) out, \(c.duplicatesDropped) duplicates")
        }
        lines.append("  unknown projects: \(unknownProjectEvents) events; field cast failures: \(castFailures); invalid lines: \(linesInvalid)")
        lines.append(String(format: "  wrote %d segments, %d sites snapshots, %d sites deltas (%d folded), merged %d segments; %.1f MB out; warehouse version %d",
                            segmentsWritten, sitesSnapshots, sitesDeltas, sitesFolds, segmentsMerged, Double(bytesOut) / 1e6, warehouseVersion))
        if rawFilesDeleted > 0 {
            lines.append("  raw retention: deleted \(rawFilesDeleted) compacted raw files")
        }
        if rawProgressPruned > 0 {
            lines.append("  checkpoint: forgot the progress of \(rawProgressPruned) raw files that no longer exist")
        }
        return lines.joined(separator: "\n")
    }
}

import Core
import Foundation
