import Ingest

/// Paths of the warehouse (one key scheme, forever):
///
///     <data>/warehouse/events/project_id=<id>/month=YYYY-MM/<segment>.parquet
///     <data>/warehouse/sites/project_id=<id>/<snapshot>.parquet
///     <data>/warehouse/_log/<20-digit version>.json        the commit log (hidden from engines)
///
/// Partition keys are folders only: the files hold neither `project_id` nor `month`, so Spark
/// and DuckDB's `hive_partitioning` add them without a duplicate column.
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
        "events/project_id=\(projectID)/month=\(month)"
    }

    public static func sitesPartition(projectID: String) -> String {
        "sites/project_id=\(projectID)"
    }

    public func absolute(_ relative: String) -> String { root + "/" + relative }

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
