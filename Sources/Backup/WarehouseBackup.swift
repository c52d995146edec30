#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ColumnStore
import Core
import Ingest
import Logging

/// `trackhouse backup`: a consistent copy of a data folder while a server ingests into it and
/// compacts it. The copy is itself a data folder (plus the manifest), so a restore is a copy
/// back and any Trackhouse command can read a backup as it is.
///
/// 1. The target must be missing or empty.
/// 2. Warehouse: load the commit log: state S at version V (its newest commit). Place every
///    file live at V and every `_log` file of version ≤ V (a hard link when both folders are
///    on one filesystem and `copyOnly` is off; a copy otherwise). A live file that a merge or
///    a newer sites snapshot replaced meanwhile is taken from its hidden `.replaced-` name
///    (the compactor keeps it, with the same bytes, for `replacedRetentionSeconds`, 10 min).
///    A file gone under both names, or a log file gone (a checkpoint removed the commits it
///    superseded), means the log moved on: the copied warehouse is dropped and step 2 starts
///    over at the new newest version, at most `attemptsMax` times. Never a mix of versions.
/// 3. Invariant: the copy's log loads as version V with exactly S's files; otherwise step 2
///    again.
/// 4. Raw, after step 2, so every raw file holds at least what the log at V says was
///    compacted (files only grow; a sealed `.gz` holds the same lines): sealed `.gz` files are
///    placed like segments; files still being written (the open hour, and the last one until
///    it is sealed) are copied up to their last complete line, so the backup holds every
///    request acknowledged before that copy (its answer waited for the line's fsync). A plain
///    file whose `.gz` appeared meanwhile (sealed while copied) is replaced by the `.gz`.
/// 5. State: every other regular file of the data folder (`projects.json`, …) is copied,
///    except locks, hidden temps and backups kept inside the data folder (folders holding a
///    manifest, and the target itself).
/// 6. The manifest: size and SHA-256 of every file, written atomically, last.
public struct WarehouseBackup {
    public struct Summary: Sendable {
        public var manifest: BackupManifest
        public var linkedFiles = 0
        public var copiedFiles = 0
        /// Times step 2 started over because the log moved on under it.
        public var retries = 0
        public var bytes: Int64 { manifest.files.reduce(0) { $0 + $1.bytes } }
    }

    public let dataDirectory: String
    public let targetDirectory: String
    /// Copies every file even where hard links would work (a backup on the same disk that
    /// must not share inodes with the data, e.g. before moving it elsewhere with `mv`).
    public var copyOnly = false
    public var attemptsMax = 5
    public var writtenBy = "trackhouse"
    let logger: Logger

    public init(dataDirectory: String, targetDirectory: String, logger: Logger) {
        self.dataDirectory = dataDirectory
        self.targetDirectory = targetDirectory
        self.logger = logger
    }

    public func run() throws -> Summary {
        // Step 1.
        if FileIO.exists(targetDirectory) {
            guard FileIO.isDirectory(targetDirectory), FileIO.list(targetDirectory).isEmpty else {
                throw BackupError(.targetNotEmpty, "\(targetDirectory) is not an empty folder: back up into a new folder")
            }
        }
        guard FileIO.isDirectory(dataDirectory) else {
            throw BackupError(.io, "\(dataDirectory) is not a folder: give the server's data folder with --data")
        }
        try FileIO.makeDirectories(targetDirectory)
        if let entry = FileTransfer.topEntry(of: targetDirectory, inside: dataDirectory), entry.isEmpty || entry == "raw" || entry == "warehouse" {
            rmdir(targetDirectory)
            throw BackupError(.targetNotEmpty, "\(targetDirectory) is inside the data folder's \(entry.isEmpty ? "root" : entry + "/"): back up into a folder of its own (e.g. \(dataDirectory)/backups/<date>, or another disk)")
        }
        var summary = Summary(manifest: BackupManifest(createdAtMicros: UTCTime.nowMicros(), writtenBy: writtenBy,
                                                       warehouseVersion: 0, eventsRows: 0, sitesRows: 0, files: []))
        // Steps 2–3.
        if let state = try copyWarehouse(&summary) {
            summary.manifest.warehouseVersion = state.version
            summary.manifest.eventsRows = state.segments(table: .events).reduce(0) { $0 + $1.rows }
            // The merged sites (base and deltas), counted in the copy: its files are the state's.
            summary.manifest.sitesRows = try state.sitesRowCount(layout: WarehouseLayout(dataDirectory: targetDirectory))
        }
        // Steps 4–5.
        try copyRaw(&summary)
        try copyState(&summary)
        // Step 6.
        var files: [BackupManifest.File] = []
        for path in FileIO.walkFiles(targetDirectory, includeHidden: true) {
            let relative = String(path.dropFirst(targetDirectory.count + 1))
            let (bytes, sha256) = try FileTransfer.digest(path)
            files.append(.init(path: relative, bytes: bytes, sha256: sha256))
        }
        summary.manifest.files = files.sorted { $0.path < $1.path }
        for directory in FileTransfer.directories(targetDirectory) { try FileIO.fsyncDirectory(directory) }
        try FileIO.writeFileAtomically(targetDirectory + "/" + BackupManifest.fileName, summary.manifest.encoded())
        return summary
    }

    // MARK: - Steps 2–3

    /// The state copied, nil when the folder has no warehouse yet (nothing compacted).
    private func copyWarehouse(_ summary: inout Summary) throws -> WarehouseState? {
        let source = WarehouseLayout(dataDirectory: dataDirectory)
        let target = WarehouseLayout(dataDirectory: targetDirectory)
        guard FileIO.isDirectory(source.logDirectory) else { return nil }
        var lastReason = ""
        for attempt in 1...attemptsMax {
            FileTransfer.removeTree(target.root)
            var linked = 0, copied = 0
            func count(_ placement: FileTransfer.Placement) {
                if placement == .linked { linked += 1 } else { copied += 1 }
            }
            let state = try WarehouseLog.load(layout: source, parts: .files)
            do {
                for entry in state.segments.values.sorted(by: { $0.path < $1.path }) {
                    let destination = target.absolute(entry.path)
                    do {
                        count(try FileTransfer.place(source.absolute(entry.path), at: destination, allowLink: !copyOnly))
                    } catch is FileTransfer.Vanished {
                        // Replaced after the load: the same bytes under the hidden name (step 2).
                        let replaced = source.absolute(WarehouseLayout.replacedName(entry.path))
                        count(try FileTransfer.place(replaced, at: destination, allowLink: !copyOnly))
                    }
                }
                for file in WarehouseLog.files(layout: source) where file.version <= state.version {
                    count(try FileTransfer.place(source.logDirectory + "/" + file.name, at: target.logDirectory + "/" + file.name,
                                                 allowLink: !copyOnly))
                }
            } catch let vanished as FileTransfer.Vanished {
                lastReason = vanished.description
                logger.info("backup: the warehouse moved on during the copy; starting over", metadata: ["attempt": "\(attempt)", "reason": "\(lastReason)"])
                summary.retries += 1
                continue
            }
            // Step 3.
            let copy = try WarehouseLog.load(layout: target, parts: .files)
            guard copy.version == state.version, copy.segments == state.segments else {
                lastReason = "the copied log reads as version \(copy.version) with \(copy.segments.count) files, expected \(state.version) with \(state.segments.count)"
                summary.retries += 1
                continue
            }
            summary.linkedFiles += linked
            summary.copiedFiles += copied
            return state
        }
        FileTransfer.removeTree(target.root)
        throw BackupError(.inconsistent, "the warehouse changed under every one of \(attemptsMax) attempts (\(lastReason)); try again when compaction is less busy")
    }

    // MARK: - Step 4

    private func copyRaw(_ summary: inout Summary) throws {
        let source = RawLayout(dataDirectory: dataDirectory)
        for file in source.listFiles() {
            let relative = String(file.path.dropFirst(dataDirectory.count + 1))
            let destination = targetDirectory + "/" + relative
            if file.isCompressed {
                do {
                    try count(FileTransfer.place(file.path, at: destination, allowLink: !copyOnly), &summary)
                } catch is FileTransfer.Vanished {
                    continue  // raw retention removed it: compacted and old, the log at V does not need it
                }
                continue
            }
            let bytes: [UInt8]
            do { bytes = try FileIO.readFile(file.path) } catch let error as FileIOError where error.errno == ENOENT {
                bytes = []
            }
            let sealed = file.path + ".gz"
            if FileIO.exists(sealed) {
                // Sealed while it was read: the plain file may already be cut short; the .gz is whole.
                do {
                    try count(FileTransfer.place(sealed, at: destination + ".gz", allowLink: !copyOnly), &summary)
                } catch is FileTransfer.Vanished {}
                continue
            }
            // Complete lines only: a torn tail was never acknowledged.
            guard let lastNewline = bytes.lastIndex(of: 0x0A) else { continue }
            try FileIO.writeFileAtomically(destination, Array(bytes[...lastNewline]))
            summary.copiedFiles += 1
        }
    }

    private func count(_ placement: FileTransfer.Placement, _ summary: inout Summary) {
        if placement == .linked { summary.linkedFiles += 1 } else { summary.copiedFiles += 1 }
    }

    // MARK: - Step 5

    private func copyState(_ summary: inout Summary) throws {
        let skipped: Set<String> = ["raw", "warehouse"]
        // A backup folder inside the data folder (and its siblings: earlier backups) is no state.
        let targetEntry = FileTransfer.topEntry(of: targetDirectory, inside: dataDirectory)
        for name in FileIO.list(dataDirectory) where !skipped.contains(name) && name != targetEntry {
            let path = dataDirectory + "/" + name
            let files = FileIO.isDirectory(path) ? Self.stateFiles(under: path) : [path]
            for file in files where Self.isState(FileIO.lastComponent(file)) {
                do {
                    try FileTransfer.copy(file, to: targetDirectory + "/" + String(file.dropFirst(dataDirectory.count + 1)), bytesMax: nil)
                    summary.copiedFiles += 1
                } catch is FileTransfer.Vanished {
                    continue
                }
            }
        }
    }

    /// Files under a folder of the data folder, leaving out backups kept there (any folder
    /// holding a backup manifest): a backup never holds the previous ones.
    static func stateFiles(under directory: String) -> [String] {
        if FileIO.exists(directory + "/" + BackupManifest.fileName) { return [] }
        var files: [String] = []
        for name in FileIO.list(directory) {
            let path = directory + "/" + name
            if FileIO.isDirectory(path) { files += stateFiles(under: path) } else { files.append(path) }
        }
        return files
    }

    /// Locks (held by running processes) and temps of interrupted writes are not state.
    static func isState(_ name: String) -> Bool {
        !name.hasSuffix(".lock") && !name.hasPrefix(".tmp-") && name != BackupManifest.fileName
    }
}
