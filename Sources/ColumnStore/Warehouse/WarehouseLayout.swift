import Core


/// Paths of the warehouse (one key scheme, forever):
///
///     <data>/warehouse/events/project=<id>/month=YYYY-MM/<segment>.parquet
///     <data>/warehouse/sites/project=<id>/<snapshot>.parquet
///     <data>/warehouse/sites-delta/project=<id>/delta-<version>.parquet   sites a commit touched
///     <data>/warehouse/_log/<20-digit version>.json        the commit log (hidden from engines)
///
/// Every file holds every column of its table, `project_id` included, so a file read on its own
/// (or by an engine told nothing about partitions) is complete. The folder keys are named
/// apart from every file column (`project`, `month`): hive-partitioned readers add them as
/// extra columns, never as a duplicate of a file column (an error in Spark), and a project id
/// that looks like a number (`0123`) stays the string it is in `project_id`, whatever type
/// Spark or pyarrow infer for the `project` folder key.
///
/// Before 2026-12-03 the folders were `project_id=<id>` and files had no `project_id` column
/// (`legacyProjectKey`); compaction rewrites such segments into this layout (step 8a).
public struct WarehouseLayout: Sendable {
    public let dataDirectory: String

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    public var root: String { dataDirectory + "/warehouse" }
    public var logDirectory: String { root + "/_log" }

    public static func monthKey(micros: Int64) -> String {
        let civil = UTCTime.civil(micros: micros)
        return civil.month < 10 ? "\(civil.year)-0\(civil.month)" : "\(civil.year)-\(civil.month)"
    }

    /// Relative (to `root`) folder of an events partition.
    public static func eventsPartition(projectID: String, month: String) -> String {
        "events/\(projectKey)=\(projectID)/month=\(month)"
    }

    public static func sitesPartition(projectID: String) -> String {
        "sites/\(projectKey)=\(projectID)"
    }

    /// Folder of a project's sites deltas: outside `sites/`, so an engine globbing
    /// `sites/**/*.parquet` reads exactly one full snapshot per project.
    public static func sitesDeltaPartition(projectID: String) -> String {
        "\(sitesDeltaFolder)/\(projectKey)=\(projectID)"
    }

    public static let sitesDeltaFolder = "sites-delta"

    /// The top folders holding table files (recovery walks them).
    public static let tableFolders = ["events", "sites", sitesDeltaFolder]

    /// The folder key of a project.
    public static let projectKey = "project"
    /// The folder key of the first layout, whose files lack the `project_id` column.
    public static let legacyProjectKey = "project_id"

    /// Whether a segment path (relative to `root`) is in the first layout.
    public static func isLegacy(_ relative: String) -> Bool {
        relative.hasPrefix("events/\(legacyProjectKey)=") || relative.hasPrefix("sites/\(legacyProjectKey)=")
    }

    public func absolute(_ relative: String) -> String { root + "/" + relative }

    /// Where a committed file's bytes are now, for readers that hold no compaction lock. A
    /// commit is visible before the compactor's publish step renames its new files from their
    /// hidden `.tmp-` names (Compactor steps 6–7), and a later commit renames replaced files to
    /// hidden `.replaced-` names: each rename is atomic, so the bytes are under one of the three
    /// names, and a reader that looked in the middle of a rename finds them on the second pass.
    /// (Readers keep the descriptor, so a rename after the open changes nothing.)
    public func committedPath(_ relative: String) -> String {
        let names = [absolute(relative), absolute(Self.temporaryName(relative)), absolute(Self.replacedName(relative))]
        for _ in 0..<2 {
            for path in names where FileIO.exists(path) { return path }
        }
        return names[0]
    }

    /// The hidden name a file gets once a commit replaced it (a merge, a newer snapshot). It
    /// stays there for `Compactor.Options.replacedRetentionSeconds` so that readers following
    /// the log (the server's rollups) can still read what a commit added after a later merge
    /// replaced it; no `.parquet` suffix and a leading dot keep it out of every glob.
    public static func replacedName(_ relative: String) -> String {
        FileIO.parentDirectory(relative) + "/" + replacedPrefix + FileIO.lastComponent(relative) + ".old"
    }

    public static let replacedPrefix = ".replaced-"

    /// The hidden name a file has until its commit is durable.
    public static func temporaryName(_ relative: String) -> String {
        let directory = FileIO.parentDirectory(relative)
        return directory + "/.tmp-" + FileIO.lastComponent(relative)
    }
}
