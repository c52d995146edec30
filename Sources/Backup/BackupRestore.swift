#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Core

/// `trackhouse restore`: a backup back into a data folder.
///
/// 1. Verify the backup (`DataVerifier.verifyBackup`): a damaged backup is refused whole, so a
///    restore never leaves a warehouse that fails on its first query.
/// 2. The target must be missing or empty; with `force`, its contents are removed first, but
///    never while a server holds it (its raw writer lock is taken).
/// 3. Every manifest file is placed at its path: hard links for files never changed in place
///    (Parquet, log, sealed `.gz`), copies for the rest (a plain raw file may be sealed and
///    then truncated in place by the server that adopts it; the registry is small).
/// 4. Verify the target as a data folder, and its log at the manifest's version.
public enum BackupRestore {
    public struct Summary: Sendable {
        public var manifest: BackupManifest
        public var linkedFiles = 0
        public var copiedFiles = 0
    }

    public static func restore(from backup: String, to target: String, force: Bool, copyOnly: Bool = false) throws -> Summary {
        // Step 1.
        let check = DataVerifier.verifyBackup(backup)
        guard check.ok else {
            throw BackupError(.verifyFailed, "the backup did not verify, nothing was restored:\n" + check.problems.map { "  \($0.path): \($0.problem)" }.joined(separator: "\n"))
        }
        let manifest = try BackupManifest.decode(try FileIO.readFile(backup + "/" + BackupManifest.fileName), path: BackupManifest.fileName)
        // Step 2.
        if FileIO.exists(target), FileTransfer.topEntry(of: target, inside: backup) != nil {
            throw BackupError(.targetNotEmpty, "\(target) is inside the backup \(backup): restore into a folder outside it")
        }
        if FileIO.exists(target) {
            guard FileIO.isDirectory(target) else { throw BackupError(.targetNotEmpty, "\(target) is a file, not a folder") }
            if !FileIO.list(target).isEmpty {
                guard force else {
                    throw BackupError(.targetNotEmpty, "\(target) is not empty: restore into a new folder, or add --force to replace what it holds")
                }
                if let holder = runningServerLock(target) {
                    throw BackupError(.serverRunning, "a running trackhouse holds \(holder): stop the server before restoring into its folder")
                }
                // A backup kept inside the data folder (`/data/backups/…` in a container) is
                // what is being restored: its top folder stays.
                let keep = FileTransfer.topEntry(of: backup, inside: target)
                for name in FileIO.list(target) where name != keep { FileTransfer.removeTree(target + "/" + name) }
            }
        }
        try FileIO.makeDirectories(target)
        if FileTransfer.topEntry(of: target, inside: backup) != nil {
            rmdir(target)
            throw BackupError(.targetNotEmpty, "\(target) is inside the backup \(backup): restore into a folder outside it")
        }
        // Step 3.
        var summary = Summary(manifest: manifest)
        for file in manifest.files {
            let immutable = file.path.hasPrefix("warehouse/") || file.path.hasSuffix(".ndjson.gz")
            switch try FileTransfer.place(backup + "/" + file.path, at: target + "/" + file.path, allowLink: immutable && !copyOnly) {
            case .linked: summary.linkedFiles += 1
            case .copied: summary.copiedFiles += 1
            }
        }
        for directory in FileTransfer.directories(target) { try FileIO.fsyncDirectory(directory) }
        // Step 4.
        let restored = DataVerifier.verifyData(target)
        guard restored.ok, restored.warehouseVersion == manifest.warehouseVersion, restored.eventsRows == manifest.eventsRows else {
            throw BackupError(.verifyFailed, "the restored folder did not verify (version \(restored.warehouseVersion), \(restored.eventsRows) events; the backup has version \(manifest.warehouseVersion), \(manifest.eventsRows) events):\n"
                + restored.problems.map { "  \($0.path): \($0.problem)" }.joined(separator: "\n"))
        }
        return summary
    }

    /// The raw writer lock a running server holds on `folder` (`raw/.writer-<id>.lock`,
    /// flocked for the process's life), or nil.
    static func runningServerLock(_ folder: String) -> String? {
        for name in FileIO.list(folder + "/raw") where name.hasPrefix(".writer-") && name.hasSuffix(".lock") {
            let path = folder + "/raw/" + name
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 { return "raw/" + name }
            flock(fd, LOCK_UN)
        }
        return nil
    }
}
