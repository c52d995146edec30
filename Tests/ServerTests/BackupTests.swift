import ColumnStore
import Core
import Foundation
import XCTest

/// `trackhouse backup | restore | verify` against the release binary: a backup taken while a
/// live server ingests and compacts restores into exactly the warehouse of its version, and
/// damage to a backup is named by `verify`.
final class BackupTests: XCTestCase {
    func testBackupWhileIngestingAndCompactingRestoresTheWarehouseOfItsVersion() throws {
        // Compaction every 0.3 s with merges: the log moves (and files get replaced) while
        // the backups copy.
        let (server, data, port) = try startServerOnFreshData(extraArguments: ["--compact-interval", "0.3"])
        var serverStopped = false
        defer { if !serverStopped { server.terminate() } }
        let acknowledged = AcknowledgedIDs()
        let stop = AtomicFlag()
        let senders = (0..<2).map { sender in
            Thread {
                var sequence = 0
                while !stop.isSet {
                    sequence += 1
                    guard let connection = RawHTTPConnection(port: port) else { continue }
                    let body = sdkTrackBody(marker: "s\(sender)-\(sequence % 40)")
                    guard connection.send(RawHTTPConnection.request(path: "/track", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: body)),
                          let response = connection.readResponse(), response.status == 200,
                          let id = (try? JSONParser.parse(response.body))?["id"]?.stringValue else { continue }
                    acknowledged.append(id)
                }
            }
        }
        senders.forEach { $0.start() }
        defer { stop.set() }
        // Let a few compactions (and merges of their small segments) land first.
        let warmUp = Date().addingTimeInterval(20)
        while Date() < warmUp && WarehouseLog.newestVersion(layout: WarehouseLayout(dataDirectory: data)) < 5 { usleep(100_000) }
        XCTAssertGreaterThanOrEqual(WarehouseLog.newestVersion(layout: WarehouseLayout(dataDirectory: data)), 5, "the server did not compact")

        var backups: [(folder: String, ackedBefore: [String])] = []
        for round in 0..<3 {
            let ackedBefore = acknowledged.all
            let folder = makeTemporaryDirectory("backup-\(round)") + "/b"
            let result = try runTrackhouse(["backup", "--data", data, "--to", folder, "--json"])
            XCTAssertEqual(result.status, 0, result.stderr)
            backups.append((folder, ackedBefore))
            usleep(700_000)
        }
        stop.set()
        usleep(300_000)
        server.terminate()
        serverStopped = true
        XCTAssertGreaterThan(acknowledged.all.count, 50, "too few requests were acknowledged to test anything")
        let versions = try backups.map { backup -> Int in
            guard case .number(let text)? = try JSONParser.parse(try FileIO.readFile(backup.folder + "/backup-manifest.json"))["warehouse_version"] else { return 0 }
            return Int(text) ?? 0
        }
        XCTAssertLessThan(versions.first ?? 0, versions.last ?? 0, "the log did not move between the backups: nothing ran concurrently")

        let sourceLayout = WarehouseLayout(dataDirectory: data)
        for (index, backup) in backups.enumerated() {
            let verified = try runTrackhouse(["verify", "--backup", backup.folder, "--json"])
            XCTAssertEqual(verified.status, 0, "backup \(index): \(verified.stdout)")
            let manifest = try JSONParser.parse(try FileIO.readFile(backup.folder + "/backup-manifest.json"))
            guard case .number(let versionText)? = manifest["warehouse_version"], let version = Int(versionText), version > 0 else {
                XCTFail("backup \(index): no warehouse_version in the manifest")
                continue
            }

            // The source's warehouse at that version, from its own log (no checkpoint yet in a
            // run this short, so every commit is still there).
            var live: [String: SegmentEntry] = [:]
            for next in 1...version {
                let commit = try WarehouseLog.commit(version: next, layout: sourceLayout)
                for path in commit.remove { live[path] = nil }
                for entry in commit.add { live[entry.path] = entry }
            }
            var sourceIDs: [String] = []
            for entry in live.values where entry.table == .events {
                let path = FileIO.exists(sourceLayout.absolute(entry.path)) ? sourceLayout.absolute(entry.path)
                    : sourceLayout.absolute(WarehouseLayout.replacedName(entry.path))
                let reader = try ParquetFileReader(path: path)
                for rowGroup in reader.rowGroups.indices {
                    sourceIDs += try reader.readColumn(rowGroup: rowGroup, name: "event_id").stringValues.compactMap { $0 }
                }
            }

            let restored = makeTemporaryDirectory("restored-\(index)") + "/data"
            let restore = try runTrackhouse(["restore", "--from", backup.folder, "--to", restored])
            XCTAssertEqual(restore.status, 0, restore.stderr)
            let check = try runTrackhouse(["verify", "--data", restored])
            XCTAssertEqual(check.status, 0, check.stdout)
            let ids = try queryIDs(restored)
            XCTAssertEqual(ids, sourceIDs.sorted(), "backup \(index): the restored warehouse differs from the source's at version \(version)")
            XCTAssertEqual(Set(ids).count, ids.count, "duplicate events in the restored warehouse")
            XCTAssertEqual(WarehouseLog.newestVersion(layout: WarehouseLayout(dataDirectory: restored)), version)

            // Nothing acknowledged before the backup started is missing once the restored
            // folder compacts its raw files (the ones the warehouse did not hold yet).
            let compact = try runTrackhouse(["compact", "--data", restored, "--include-open", "--quiet"])
            XCTAssertEqual(compact.status, 0, compact.stderr)
            let afterCompaction = Set(try queryIDs(restored))
            let missing = backup.ackedBefore.filter { !afterCompaction.contains($0) }
            XCTAssertEqual(missing, [], "backup \(index): \(missing.count) acknowledged events are missing after restore")
            XCTAssertEqual(try runTrackhouse(["verify", "--data", restored]).status, 0)
        }
    }

    func testDamagedBackupFailsVerifyNamingTheFileAndIsNotRestored() throws {
        let data = makeTemporaryDirectory() + "/data"
        XCTAssertEqual(try runTrackhouse(["gen", "--out", data, "--projects", "1", "--sites", "40", "--weeks", "3", "--seed", "7"]).status, 0)
        XCTAssertEqual(try runTrackhouse(["compact", "--data", data, "--include-open", "--quiet"]).status, 0)
        // --copy: the damage below must not reach the source through a shared inode.
        let backup = makeTemporaryDirectory() + "/backup"
        XCTAssertEqual(try runTrackhouse(["backup", "--data", data, "--to", backup, "--copy"]).status, 0)
        XCTAssertEqual(try runTrackhouse(["verify", "--backup", backup]).status, 0)

        let segments = FileIO.walkFiles(backup + "/warehouse/events").filter { $0.hasSuffix(".parquet") }
        XCTAssertGreaterThanOrEqual(segments.count, 1)
        let damaged = segments[0]
        var bytes = try FileIO.readFile(damaged)
        bytes[bytes.count / 2] ^= 0x40
        try FileIO.writeFileAtomically(damaged, bytes)
        let relative = String(damaged.dropFirst(backup.count + 1))
        var result = try runTrackhouse(["verify", "--backup", backup, "--json"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains(relative), result.stdout)
        XCTAssertTrue(result.stdout.contains("SHA-256"), result.stdout)

        // The structural check alone (as for a data folder) catches the flip too: page CRCs.
        result = try runTrackhouse(["verify", "--data", backup])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains(relative), result.stdout)

        // A damaged backup is never restored.
        let target = makeTemporaryDirectory() + "/restored"
        result = try runTrackhouse(["restore", "--from", backup, "--to", target])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains(relative), result.stderr)
        XCTAssertTrue(FileIO.list(target).isEmpty)

        // A missing file is named as missing.
        let clean = makeTemporaryDirectory() + "/clean"
        XCTAssertEqual(try runTrackhouse(["backup", "--data", data, "--to", clean, "--copy"]).status, 0)
        let logFile = FileIO.walkFiles(clean + "/warehouse/_log").last!
        FileIO.remove(logFile)
        result = try runTrackhouse(["verify", "--backup", clean])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains(String(logFile.dropFirst(clean.count + 1)) + ": missing"), result.stdout)

        // The source was never touched; a non-empty target needs --force.
        XCTAssertEqual(try runTrackhouse(["verify", "--data", data]).status, 0)
        let good = makeTemporaryDirectory() + "/good"
        XCTAssertEqual(try runTrackhouse(["backup", "--data", data, "--to", good]).status, 0)
        result = try runTrackhouse(["restore", "--from", good, "--to", data])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("--force"), result.stderr)
        XCTAssertEqual(try runTrackhouse(["restore", "--from", good, "--to", data, "--force"]).status, 0)
        XCTAssertEqual(try runTrackhouse(["verify", "--data", data]).status, 0)

        // A backup kept inside the data folder (a container's /data/backups): not copied into
        // later backups, and restoring it with --force keeps it.
        let inside = data + "/backups/first"
        XCTAssertEqual(try runTrackhouse(["backup", "--data", data, "--to", inside]).status, 0)
        let second = makeTemporaryDirectory() + "/second"
        XCTAssertEqual(try runTrackhouse(["backup", "--data", data, "--to", second]).status, 0)
        XCTAssertFalse(FileIO.exists(second + "/backups"))
        result = try runTrackhouse(["backup", "--data", data, "--to", data + "/warehouse/x"])
        XCTAssertEqual(result.status, 1, "a backup inside the warehouse folder would copy itself")
        result = try runTrackhouse(["restore", "--from", inside, "--to", data, "--force"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try runTrackhouse(["verify", "--backup", inside]).status, 0)
        XCTAssertEqual(try runTrackhouse(["verify", "--data", data]).status, 0)
    }

    private func queryIDs(_ data: String) throws -> [String] {
        let result = try runTrackhouse(["query", "--data", data, "--format", "jsonl", "--max-rows", "10000000", "SELECT event_id FROM events ORDER BY event_id"])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.split(separator: "\n").compactMap { line in
            (try? JSONParser.parse(String(line)))?["event_id"]?.stringValue
        }
    }
}

private final class AcknowledgedIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [String] = []
    func append(_ id: String) { lock.lock(); ids.append(id); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return ids }
}

private final class AtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
