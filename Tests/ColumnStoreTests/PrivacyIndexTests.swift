import Core
import Foundation
import Ingest
import Logging
import XCTest
@testable import ColumnStore

/// The erase index (`SubjectKeyIndex`, `<data>/warehouse/_keys`): an erase opens only the files
/// that may hold its subject, an index-less (older) warehouse still erases correctly, an index
/// never speaks for bytes it did not see, and every index on disk is truthful.
final class PrivacyIndexTests: XCTestCase {
    static let logger = Logger(label: "privacy-index-tests")

    // MARK: Support

    /// Generated raw data (half sealed), and a copy of one of its track lines rewritten to a
    /// fresh site and email in a file of its own, `extra-000001.ndjson`, in that line's hour.
    func makeData(site: String = "https://only-here.example/shop", email: String = "Only@Here.example", userEmail: String? = nil) throws
        -> (directory: String, project: String, extraPath: String, line: [UInt8]) {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 120, weeks: 5, seed: 41)
        try PrivacyEraseTests.sealHalf(directory)
        let registry = try PrivacyEraseTests.registry(directory)
        let source = RawLayout(dataDirectory: directory).listFiles().first { $0.route == .track && !$0.isCompressed }!
        var template: JSONValue?
        try RawFileReader.forEachLine(path: source.path) { line in
            if template == nil, let value = try? JSONParser.parse(Array(line.bytes)) { template = value }
        }
        guard case .object(var envelope)? = template, case .object(var payload)? = envelope["payload"] else {
            throw XCTSkip("no template line")
        }
        let project = registry.project(hash: payload["hash"]!.stringValue!)!.id
        payload["url"] = .string(site)
        payload["admin_email"] = .string(email)
        if let userEmail { payload["user_email"] = .string(userEmail) }
        envelope["payload"] = .object(payload)
        envelope["id"] = .string("01ONLYHEREONLYHEREONLYHERE")
        var line = JSONWriter.serialize(.object(envelope))
        line.append(0x0A)
        let extraPath = FileIO.parentDirectory(source.path) + "/extra-000001.ndjson"
        try FileIO.writeFileAtomically(extraPath, line)
        return (directory, project, extraPath, line)
    }

    func erase(_ directory: String, _ project: String, _ subject: PrivacySubject) throws -> EraseReport {
        try Compactor(dataDirectory: directory, options: PrivacyEraseTests.compactOptions(), logger: Self.logger)
            .erase(projectID: project, subject: subject)
    }

    /// Every valid index on disk holds the key of every line or row it covers, by the matcher's
    /// own reading of each line (JSON tree, no normalizer) and by each segment row's columns.
    static func assertIndexesTruthful(_ directory: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var checked = 0
        var packs = RawKeyIndexReader(dataDirectory: directory)
        for raw in RawLayout(dataDirectory: directory).listFiles() {
            guard let index = packs.index(key: raw.key), SubjectKeyIndex.verdict(index: index, file: raw, hash: 0) != .unindexed else { continue }
            var content = try FileIO.readFile(raw.path)
            if raw.isCompressed { content = try Gzip.inflate(content) }
            try content.withUnsafeBytes { buffer in
                try RawFileReader.forEachLine(in: UnsafeRawBufferPointer(rebasing: buffer[0..<Int(index.a)])) { text in
                    for key in RawSubjectMatcher.keys(ofLine: Array(text.bytes)) {
                        XCTAssertTrue(index.contains(SubjectKeyIndex.hash(subject: key)), "\(raw.key) misses \(key.kind) of a line", file: file, line: line)
                    }
                }
            }
            checked += 1
        }
        let state = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: directory))
        for segment in state.segments.values where segment.table == .events {
            guard let index = SubjectKeyIndex.loadSegment(dataDirectory: directory, segment) else { continue }
            let reader = try ParquetFileReader(path: WarehouseLayout(dataDirectory: directory).absolute(segment.path))
            for group in 0..<reader.rowGroups.count {
                let keys = try reader.readColumn(rowGroup: group, name: "site_key")
                let emails = try reader.readColumn(rowGroup: group, name: "admin_email")
                for row in 0..<keys.count {
                    if let key = keys.string(at: row) { XCTAssertTrue(index.contains(SubjectKeyIndex.hash(siteKey: key)), "\(segment.path)", file: file, line: line) }
                    if let email = emails.string(at: row).flatMap(PrivacySubject.normalizedEmail) {
                        XCTAssertTrue(index.contains(SubjectKeyIndex.hash(emailKey: email)), "\(segment.path)", file: file, line: line)
                    }
                }
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 0, "no index to check", file: file, line: line)
    }

    // MARK: Tests

    func testEraseOfASubjectInOneFileOpensOnlyThatFile() throws {
        let data = try makeData()
        try PrivacyEraseTests.compact(data.directory)
        try Self.assertIndexesTruthful(data.directory)
        // Merges removed the indexes of the segments they replaced: one index per live segment.
        XCTAssertEqual(FileIO.walkFiles(SubjectKeyIndex.root(dataDirectory: data.directory) + "/events", includeHidden: true).count,
                       try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: data.directory)).segments.values.filter { $0.table == .events }.count)
        let rawFiles = RawLayout(dataDirectory: data.directory).listFiles().count
        let segments = try WarehouseLog.load(layout: WarehouseLayout(dataDirectory: data.directory)).segments(table: .events, projectID: data.project).count

        let report = try erase(data.directory, data.project, .site(normalizing: "only-here.example/shop")!)
        XCTAssertEqual(report.rawLinesRemoved, 1)
        XCTAssertEqual(report.eventsRemoved, 1)
        XCTAssertEqual(report.reads.rawFilesRead, 1, "only the file holding the subject is read: \(report.reads.text)")
        XCTAssertEqual(report.reads.rawFilesSkipped, rawFiles - 1)
        XCTAssertEqual(report.reads.rawTailsRead, 0)
        XCTAssertEqual(report.reads.segmentsRead, 1, report.reads.text)
        XCTAssertEqual(report.reads.segmentsSkipped, segments - 1)
        XCTAssertEqual(report.reads.segmentIndexesBuilt, 0, "compaction indexed every segment")
        XCTAssertEqual(try PrivacyEraseTests.filesContaining("only-here.example", in: data.directory), [])
        // What the erase rewrote got a truthful index without the subject: its email is now
        // in no index, so erasing it reads nothing.
        try Self.assertIndexesTruthful(data.directory)
        let again = try erase(data.directory, data.project, .email(normalizing: "only@here.example")!)
        XCTAssertEqual([again.rawLinesRemoved, again.eventsRemoved, again.reads.rawFilesRead, again.reads.segmentsRead], [0, 0, 0, 0], again.reads.text)
    }

    func testIndexlessWarehouseErasesLikeAnIndexedOne() throws {
        let data = try makeData()
        let indexed = try WarehouseTestSupport.copyOfRawData(data.directory, "indexed")
        let plain = try WarehouseTestSupport.copyOfRawData(data.directory, "plain")
        try PrivacyEraseTests.compact(indexed)
        try PrivacyEraseTests.compact(plain)
        // An older warehouse: compacted before the index existed.
        try FileManager.default.removeItem(atPath: SubjectKeyIndex.root(dataDirectory: plain))
        let (project, email) = try PrivacyEraseTests.pickEmail(data.directory)
        let subject = PrivacySubject.email(normalizing: email)!
        let withIndex = try erase(indexed, project, subject)
        let without = try erase(plain, project, subject)
        XCTAssertGreaterThan(without.eventsRemoved, 0)
        XCTAssertEqual([withIndex.eventsRemoved, withIndex.sitesRemoved, withIndex.rawLinesRemoved, withIndex.filesRewritten],
                       [without.eventsRemoved, without.sitesRemoved, without.rawLinesRemoved, without.filesRewritten])
        XCTAssertEqual(try WarehouseTestSupport.tableRows(indexed, .events), try WarehouseTestSupport.tableRows(plain, .events))
        XCTAssertEqual(try WarehouseTestSupport.tableRows(indexed, .sites), try WarehouseTestSupport.tableRows(plain, .sites))
        XCTAssertEqual(try PrivacyEraseTests.filesContaining(email, in: plain), [])
        // Without an index every raw file is read and every segment read gets its index.
        XCTAssertEqual(without.reads.rawFilesSkipped, 0)
        XCTAssertEqual(without.reads.rawFilesRead, RawLayout(dataDirectory: plain).listFiles().count)
        XCTAssertEqual(without.reads.segmentIndexesBuilt, without.reads.segmentsRead)
        XCTAssertLessThan(withIndex.reads.rawFilesRead, without.reads.rawFilesRead, withIndex.reads.text)
        try Self.assertIndexesTruthful(plain)
        // The next erase on the old warehouse uses the segment indexes it built.
        let site = try PrivacyEraseTests.pickSite(plain, project: project)
        let next = try erase(plain, project, .site(site))
        XCTAssertGreaterThan(next.reads.segmentsSkipped + next.reads.segmentsRead, 0)
        XCTAssertEqual(next.reads.segmentIndexesBuilt, 0)
    }

    func testLinesPastTheIndexAndDamagedIndexesAreSearched() throws {
        let data = try makeData()
        try PrivacyEraseTests.compact(data.directory)
        // The pack holding the index of the file with the original line is damaged (below),
        // and an open hour of another day grew after compaction: a subject line appended past the index.
        let files = RawLayout(dataDirectory: data.directory).listFiles()
        let extraKey = files.first { $0.path == data.extraPath }!.key
        let extraPack = RawKeyIndexPack.location(dataDirectory: data.directory, key: extraKey)!
        let damagedDay = files.filter { RawKeyIndexPack.location(dataDirectory: data.directory, key: $0.key)!.path == extraPack.path }
        let grown = files.first { !$0.isCompressed && RawKeyIndexPack.location(dataDirectory: data.directory, key: $0.key)!.path != extraPack.path }!
        var late = String(decoding: data.line, as: UTF8.self)
        late = late.replacingOccurrences(of: "01ONLYHEREONLYHEREONLYHERE", with: "01LATELATELATELATELATELATE")
        let fd = open(grown.path, O_WRONLY | O_APPEND)
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = Array(late.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        var bytes = try FileIO.readFile(extraPack.path)
        bytes[bytes.count / 2] ^= 0x40
        try FileIO.writeFileAtomically(extraPack.path, bytes)
        XCTAssertTrue(RawKeyIndexPack.load(extraPack.path).isEmpty, "a damaged pack reads as empty")

        let report = try erase(data.directory, data.project, .email(normalizing: "only@here.example")!)
        XCTAssertEqual(report.rawLinesRemoved, 2, report.reads.text)
        XCTAssertEqual(report.reads.rawTailsRead, 1, report.reads.text)
        // Every file of the damaged pack's day is read whole, and the grown file.
        XCTAssertEqual(report.reads.rawFilesRead, damagedDay.count + 1, report.reads.text)
        XCTAssertEqual(try PrivacyEraseTests.filesContaining("only@here.example", in: data.directory), [])
        try Self.assertIndexesTruthful(data.directory)
    }

    /// An event whose raw line named the subject only in `user_email` (its `admin_email` is
    /// another): its segment is read whatever the index says, and an erase killed after the
    /// raw files were rewritten (the line is gone, the event not yet) still removes it on rerun
    /// (the journal keeps its id).
    func testUserEmailOnlyEventIsErasedAlsoAfterAKill() throws {
        guard let binary = trackhouseBinary() else { throw XCTSkip("trackhouse binary not built; set TRACKHOUSE_BIN") }
        let data = try makeData(email: "someone@else.example", userEmail: " Only@Here.example")
        try PrivacyEraseTests.compact(data.directory)
        let erase = { (directory: String) in ["privacy", "erase", "--data", directory, "--project", data.project, "--email", "only@here.example", "--json"] }
        let crashes = PrivacyEraseCrashTests(name: "run", testClosure: { _ in })
        let reference = TrackhouseTestSupport.makeTemporaryDirectory() + "/reference"
        try WarehouseTestSupport.copyTree(data.directory, reference)
        let before = try WarehouseTestSupport.tableRows(reference, .events).count
        let summary = try JSONParser.parse(try crashes.run(binary, erase(reference)).output)
        XCTAssertEqual(summary["events_removed"], JSONValue.number("1"))
        XCTAssertEqual(summary["raw_lines_removed"], JSONValue.number("1"))
        XCTAssertEqual(try WarehouseTestSupport.tableRows(reference, .events).count, before - 1)
        for point in [2, 3, 4] {
            let directory = TrackhouseTestSupport.makeTemporaryDirectory() + "/killed\(point)"
            try WarehouseTestSupport.copyTree(data.directory, directory)
            XCTAssertNotEqual(try crashes.run(binary, erase(directory), crashAfter: point).status, 0)
            XCTAssertEqual(try crashes.run(binary, erase(directory)).status, 0)
            XCTAssertEqual(try WarehouseTestSupport.tableRows(directory, .events), try WarehouseTestSupport.tableRows(reference, .events),
                           "killed after point \(point)")
            XCTAssertEqual(try PrivacyEraseTests.filesContaining("only@here.example", in: directory), [])
        }
    }

    func testIndexEncodingRejectsDamageAndDescribesItsFileOnly() throws {
        var index = SubjectKeyIndex(kind: .raw, a: 10, b: 7, c: 3, d: 0, hashes: [1, 5, 900])
        let bytes = index.encoded()
        XCTAssertEqual(SubjectKeyIndex.decode(bytes), index)
        for cut in [0, 4, 47, bytes.count - 1] { XCTAssertNil(SubjectKeyIndex.decode(Array(bytes[0..<cut]))) }
        for position in bytes.indices {
            var flipped = bytes
            flipped[position] ^= 0x01
            XCTAssertNotEqual(SubjectKeyIndex.decode(flipped), index, "a flip at \(position) went unnoticed")
        }
        // Reserved bytes other than zero do not decode, even under a matching CRC (one
        // encoding per index: found by the fuzzer).
        var reserved = Array(bytes.dropLast(4))
        reserved[6] = 0x2B
        withUnsafeBytes(of: SubjectKeyIndex.crc32(reserved).littleEndian) { reserved += $0 }
        XCTAssertNil(SubjectKeyIndex.decode(reserved))
        XCTAssertTrue(index.contains(5))
        XCTAssertFalse(index.contains(6))
        index.hashes = []
        XCTAssertFalse(index.contains(0))
        // A segment index stands only for the log entry it was written for.
        let entry = SegmentEntry(path: "events/project=p/month=2026-01/part-00000001-1.parquet", table: .events, projectID: "p",
                                 month: "2026-01", rows: 3, bytes: 100, receivedAtMin: 1, receivedAtMax: 2)
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        SubjectKeyIndex.writeSegment(dataDirectory: directory, entry: entry, hashes: [SubjectKeyIndex.hash(siteKey: "a.example")])
        XCTAssertTrue(SubjectKeyIndex.loadSegment(dataDirectory: directory, entry)?.contains(SubjectKeyIndex.hash(siteKey: "a.example")) == true)
        var other = entry
        other.bytes = 101
        XCTAssertNil(SubjectKeyIndex.loadSegment(dataDirectory: directory, other))
        // The scan for `user_email` (which sends a line down the matcher's own parse).
        for (text, expected) in [("user_email", true), ("{\"a\":1,\"user_email\":\"x\"}", true), ("xuser_email", true),
                                 ("{\"users\":1,\"admin_email\":\"x\"}", false), ("user_emai", false), ("use_email", false)] {
            XCTAssertEqual(Array(text.utf8).withUnsafeBytes { SubjectKeySet.mentionsUserEmail($0) }, expected, text)
        }
        // Old clients' `user_email` read without a parse: every `"user_email":"…"`, a superset
        // of the payload's own that the matcher reads; any other shape declines (nil: parse).
        let shapes: [(String, [String]?)] = [
            (#"{"payload":{"user_email":"A@B.example","admin_email":"x@y.example"}}"#, ["A@B.example"]),
            (#"{"payload":{"extra":{"user_email":"n@x.example"},"user_email":"top@x.example"}}"#, ["n@x.example", "top@x.example"]),
            (#"{"payload":{"user_email": "a@b.example"}}"#, nil),
            (#"{"payload":{"user_email":5}}"#, nil),
            (#"{"payload":{"extra":{"user_email":"n@x.example"},"user_email" :"top@x.example"}}"#, nil),
            (#"{"payload":{"note":"user_email"}}"#, nil),
            (#"{"payload":{"user_email":"unterminated}"#, nil),
        ]
        for (line, expected) in shapes {
            let found = Array(line.utf8).withUnsafeBytes { SubjectKeySet.userEmailStrings($0) }
            XCTAssertEqual(found, expected, line)
            guard let found else { continue }
            let payload = try XCTUnwrap(try JSONParser.parse(Array(line.utf8))["payload"]?.objectValue, line)
            let matcherReads = try XCTUnwrap(payload["user_email"]?.scalarText.flatMap(PrivacySubject.normalizedEmail), line)
            XCTAssertTrue(found.compactMap(PrivacySubject.normalizedEmail).contains(matcherReads), line)
        }
        // The hash is fixed forever (indexes on disk are read by later versions).
        XCTAssertEqual(SubjectKeyIndex.hash(emailKey: "a@b.c"), SubjectKeyIndex.hash(key: Array("e:a@b.c".utf8)))
        XCTAssertEqual(SubjectKeyIndex.hash(key: Array("s:example.com".utf8)), Self.referenceHash("s:example.com"))
    }

    func testPackEncodingRejectsDamageAndPlacesEntriesByDay() throws {
        let first = SubjectKeyIndex(kind: .raw, a: 10, b: 7, c: 3, d: 0, hashes: [1, 5, 900])
        let second = SubjectKeyIndex(kind: .raw, a: 20, b: 8, c: 4, d: 0, hashes: [2])
        var pack = RawKeyIndexPack()
        pack.set("05/track-1.ndjson", first)
        pack.set("04/track-1.ndjson", second)
        let bytes = pack.encoded()
        let decoded = try XCTUnwrap(RawKeyIndexPack.decode(bytes))
        XCTAssertEqual(decoded.index(named: "05/track-1.ndjson"), first)
        XCTAssertEqual(decoded.index(named: "04/track-1.ndjson"), second)
        XCTAssertNil(decoded.index(named: "06/track-1.ndjson"))
        for cut in [0, 4, 15, bytes.count - 1] { XCTAssertNil(RawKeyIndexPack.decode(Array(bytes[0..<cut]))) }
        var reserved = Array(bytes.dropLast(4))
        reserved[5] = 1
        withUnsafeBytes(of: SubjectKeyIndex.crc32(reserved).littleEndian) { reserved += $0 }
        XCTAssertNil(RawKeyIndexPack.decode(reserved), "reserved bytes must be zero")
        for position in bytes.indices {
            var flipped = bytes
            flipped[position] ^= 0x01
            XCTAssertNil(RawKeyIndexPack.decode(flipped), "a flip at \(position) went unnoticed")
        }
        let location = try XCTUnwrap(RawKeyIndexPack.location(dataDirectory: "/d", key: "track/2026/03/04/05/track-1.ndjson"))
        XCTAssertEqual(location.path, "/d/warehouse/_keys/raw/track/2026/03/04.keys")
        XCTAssertEqual(location.name, "05/track-1.ndjson")
        XCTAssertNil(RawKeyIndexPack.location(dataDirectory: "/d", key: "track/2026/03/04/05/"))
        XCTAssertNil(RawKeyIndexPack.location(dataDirectory: "/d", key: "track/2026/03/04"))
        // Removing the last entry deletes the pack and the folders it leaves empty.
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        let key = "track/2026/03/04/05/track-1.ndjson"
        try RawKeyIndexPack.update(dataDirectory: directory, [key: first], durable: false)
        var reader = RawKeyIndexReader(dataDirectory: directory)
        XCTAssertEqual(reader.index(key: key), first)
        try SubjectKeyIndex.removeRaw(dataDirectory: directory, keys: [key], durably: true)
        XCTAssertEqual(FileIO.walkFiles(SubjectKeyIndex.root(dataDirectory: directory), includeHidden: true), [])
        XCTAssertFalse(FileIO.exists(SubjectKeyIndex.root(dataDirectory: directory) + "/raw/track/2026"))
    }

    /// FNV-1a 64 + fmix64, low 32 bits, written out independently.
    static func referenceHash(_ text: String) -> UInt32 {
        var h: UInt64 = 14_695_981_039_346_656_037
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 1_099_511_628_211 }
        h ^= h >> 33; h &*= 0xff51afd7ed558ccd; h ^= h >> 33; h &*= 0xc4ceb9fe1a85ec53; h ^= h >> 33
        return UInt32(h & 0xffff_ffff)
    }

    func testRetentionDeletesTheIndexWithTheRawFile() throws {
        let directory = TrackhouseTestSupport.makeTemporaryDirectory()
        try WarehouseTestSupport.generate(into: directory, sites: 30, weeks: 2, seed: 3)
        var options = PrivacyEraseTests.compactOptions()
        try PrivacyEraseTests.compact(directory, options: options)
        let files = RawLayout(dataDirectory: directory).listFiles()
        var packs = RawKeyIndexReader(dataDirectory: directory)
        XCTAssertTrue(files.allSatisfy { packs.index(key: $0.key) != nil }, "compaction indexes every raw file")
        // One pack per route and day, in a folder per month: no folder per hour.
        let packFiles = FileIO.walkFiles(SubjectKeyIndex.root(dataDirectory: directory) + "/raw", includeHidden: true)
        XCTAssertEqual(packFiles.count, Set(files.map { RawKeyIndexPack.location(dataDirectory: directory, key: $0.key)!.path }).count)
        XCTAssertLessThan(packFiles.count, files.count)
        // A pack left by the layout before packs (one file per raw file) goes with its file.
        let legacy = SubjectKeyIndex.root(dataDirectory: directory) + "/raw/" + files[0].key + ".keys"
        try FileIO.writeFileAtomically(legacy, [1, 2, 3])
        options.rawRetentionDays = 1
        try PrivacyEraseTests.compact(directory, options: options)
        XCTAssertTrue(RawLayout(dataDirectory: directory).listFiles().isEmpty, "generated hours are months old")
        XCTAssertEqual(FileIO.walkFiles(SubjectKeyIndex.root(dataDirectory: directory) + "/raw", includeHidden: true), [])
    }
}
