#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ColumnStore
import Core
import Ingest
import Foundation

/// `trackhouse verify`: reads everything a data folder or a backup promises.
///
/// A data folder: the registry parses; the commit log loads; every file live at its newest
/// version exists with the size its commit recorded, opens (magic, footer, footer CRC) and
/// every page of every row group decodes with its page CRC checked, with the recorded row
/// count; every sealed raw `.gz` inflates whole (gzip's CRC-32). A backup: the same over the
/// backup folder, plus every file of the manifest present with its size and SHA-256, no file
/// missing from the manifest, and the log at the manifest's version.
public enum DataVerifier {
    public struct Problem: Sendable, Equatable {
        /// Relative to the folder checked.
        public var path: String
        public var problem: String
    }

    public struct Report: Sendable {
        public var folder: String
        public var warehouseVersion = 0
        public var segmentsChecked = 0
        public var rawFilesChecked = 0
        public var manifestFilesChecked = 0
        public var eventsRows = 0
        public var problems: [Problem] = []
        public var ok: Bool { problems.isEmpty }

        public var json: JSONValue {
            var object = JSONObject()
            object["ok"] = .bool(ok)
            object["folder"] = .string(folder)
            object["warehouse_version"] = .number(String(warehouseVersion))
            object["segments_checked"] = .number(String(segmentsChecked))
            object["raw_files_checked"] = .number(String(rawFilesChecked))
            object["manifest_files_checked"] = .number(String(manifestFilesChecked))
            object["events_rows"] = .number(String(eventsRows))
            object["problems"] = .array(problems.map { .object(JSONObject([("path", .string($0.path)), ("problem", .string($0.problem))])) })
            return .object(object)
        }

        public var text: String {
            var lines = ["\(folder): warehouse version \(warehouseVersion), \(segmentsChecked) Parquet files (\(eventsRows) events), \(rawFilesChecked) sealed raw files"
                + (manifestFilesChecked > 0 ? ", \(manifestFilesChecked) manifest checksums" : "") + " checked"]
            if problems.isEmpty {
                lines.append("ok")
            } else {
                lines.append("\(problems.count) problem(s):")
                lines += problems.map { "  \($0.path): \($0.problem)" }
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Checks a data folder (or a backup, without its manifest).
    public static func verifyData(_ folder: String) -> Report {
        var report = Report(folder: folder)
        guard FileIO.isDirectory(folder) else {
            report.problems.append(Problem(path: ".", problem: "not a folder"))
            return report
        }
        let registryPath = folder + "/projects.json"
        if FileIO.exists(registryPath) {
            do { _ = try ProjectRegistry.parse(try FileIO.readFile(registryPath), path: "projects.json") } catch {
                report.problems.append(Problem(path: "projects.json", problem: "\(error)"))
            }
        }
        // A server may merge while this reads: a live file it replaced after the log was
        // loaded is gone, which is no damage. Check again at the new version (a few times).
        var warehouse = Report(folder: folder)
        for _ in 0..<3 {
            warehouse = Report(folder: folder)
            checkWarehouse(folder, &warehouse)
            let moved = WarehouseLog.newestVersion(layout: WarehouseLayout(dataDirectory: folder)) != warehouse.warehouseVersion
            if warehouse.problems.isEmpty || !moved { break }
        }
        report.warehouseVersion = warehouse.warehouseVersion
        report.segmentsChecked = warehouse.segmentsChecked
        report.eventsRows = warehouse.eventsRows
        report.problems += warehouse.problems
        checkRaw(folder, &report)
        return report
    }

    private static func checkWarehouse(_ folder: String, _ report: inout Report) {
        let layout = WarehouseLayout(dataDirectory: folder)
        guard FileIO.isDirectory(layout.logDirectory) else { return }
        let state: WarehouseState
        do { state = try WarehouseLog.load(layout: layout, parts: .all) } catch {
            report.problems.append(Problem(path: "warehouse/_log", problem: strip("\(error)", folder)))
            return
        }
        report.warehouseVersion = state.version
        for entry in state.segments.values.sorted(by: { $0.path < $1.path }) {
            let relative = "warehouse/" + entry.path
            report.segmentsChecked += 1
            if entry.table == .events { report.eventsRows += entry.rows }
            guard let size = FileIO.fileSize(layout.absolute(entry.path)) else {
                report.problems.append(Problem(path: relative, problem: "missing (live at version \(state.version))"))
                continue
            }
            guard size == entry.bytes else {
                report.problems.append(Problem(path: relative, problem: "\(size) bytes, the commit recorded \(entry.bytes)"))
                continue
            }
            do {
                let reader = try ParquetFileReader(path: layout.absolute(entry.path))
                guard reader.rowCount == entry.rows else {
                    report.problems.append(Problem(path: relative, problem: "\(reader.rowCount) rows, the commit recorded \(entry.rows)"))
                    continue
                }
                // Every page of every column: decoding checks each page's CRC.
                for rowGroup in reader.rowGroups.indices { _ = try reader.readRowGroup(rowGroup) }
            } catch {
                report.problems.append(Problem(path: relative, problem: strip("\(error)", folder)))
            }
        }
    }

    private static func checkRaw(_ folder: String, _ report: inout Report) {
        for file in RawLayout(dataDirectory: folder).listFiles() where file.isCompressed {
            report.rawFilesChecked += 1
            do { _ = try Gzip.inflate(try FileIO.readFile(file.path)) } catch let error as FileIOError where error.errno == ENOENT {
                report.rawFilesChecked -= 1  // raw retention removed it meanwhile
            } catch {
                report.problems.append(Problem(path: String(file.path.dropFirst(folder.count + 1)), problem: strip("\(error)", folder)))
            }
        }
    }

    /// Checks a backup: the manifest's checksums, then the folder as a data folder, then that
    /// its log is at the manifest's version.
    public static func verifyBackup(_ folder: String) -> Report {
        var report = Report(folder: folder)
        let manifestPath = folder + "/" + BackupManifest.fileName
        let manifest: BackupManifest
        do {
            guard FileIO.exists(manifestPath) else {
                throw BackupError(.badManifest, "missing: the backup did not finish (or this is not a backup folder)")
            }
            manifest = try BackupManifest.decode(try FileIO.readFile(manifestPath), path: BackupManifest.fileName)
        } catch {
            report.problems.append(Problem(path: BackupManifest.fileName, problem: "\(error)"))
            return report
        }
        let listed = Set(manifest.files.map(\.path))
        for file in manifest.files {
            report.manifestFilesChecked += 1
            do {
                let (bytes, sha256) = try FileTransfer.digest(folder + "/" + file.path)
                if bytes != file.bytes {
                    report.problems.append(Problem(path: file.path, problem: "\(bytes) bytes, the manifest says \(file.bytes)"))
                } else if sha256 != file.sha256 {
                    report.problems.append(Problem(path: file.path, problem: "SHA-256 \(sha256) differs from the manifest's \(file.sha256): the file changed after the backup"))
                }
            } catch is FileTransfer.Vanished {
                report.problems.append(Problem(path: file.path, problem: "missing (listed in the manifest)"))
            } catch {
                report.problems.append(Problem(path: file.path, problem: strip("\(error)", folder)))
            }
        }
        for path in FileIO.walkFiles(folder, includeHidden: true) {
            let relative = String(path.dropFirst(folder.count + 1))
            if relative != BackupManifest.fileName && !listed.contains(relative) {
                report.problems.append(Problem(path: relative, problem: "not in the manifest (added after the backup)"))
            }
        }
        let data = verifyData(folder)
        report.warehouseVersion = data.warehouseVersion
        report.segmentsChecked = data.segmentsChecked
        report.rawFilesChecked = data.rawFilesChecked
        report.eventsRows = data.eventsRows
        for problem in data.problems where !report.problems.contains(where: { $0.path == problem.path }) {
            report.problems.append(problem)
        }
        if data.problems.isEmpty && (data.warehouseVersion != manifest.warehouseVersion || data.eventsRows != manifest.eventsRows) {
            report.problems.append(Problem(path: "warehouse/_log", problem: "version \(data.warehouseVersion) with \(data.eventsRows) events, the manifest says version \(manifest.warehouseVersion) with \(manifest.eventsRows)"))
        }
        return report
    }

    /// Messages name files relative to the folder checked.
    static func strip(_ message: String, _ folder: String) -> String {
        message.replacingOccurrences(of: folder + "/", with: "")
    }
}
