import Core
import Foundation

/// The erase's intent record, `<data>/privacy/.erase-journal.json`: what an erase interrupted
/// by a crash had already made durable, so that running it again finishes the job and changes
/// nothing else (`Compactor+Erase.swift` has the algorithm). It never holds the subject, only
/// its hash: the subject itself must be given again to finish.
///
/// `raw` lists raw files already replaced by their rewritten copy whose compaction progress
/// (`RawProgress.bytes`, an offset into the file's content) had to move because the file
/// shrank. Until the erase commit records the new offsets (`phase` `committed`), every reader
/// of raw progress (the erase rerun, a compaction) applies them itself — but only to a file
/// that is still the rewritten copy (same inode), so an entry never moves the offset of a
/// file it does not describe.
struct EraseJournal: Equatable {
    enum Phase: String { case raw, committed }

    struct RawEntry: Equatable {
        var key: String
        var path: String
        var inode: UInt64
        var progress: RawProgress
    }

    var projectID: String
    var subjectSHA256: String
    var phase: Phase
    var raw: [RawEntry] = []
    /// Events of raw lines that named the subject only in `user_email` (their `events` row does
    /// not show it): a rerun no longer finds those lines in the rewritten raw files, so it takes
    /// their ids and times from here. An envelope id is no personal data.
    var userEmailEvents: [(id: String, micros: Int64)] = []
    var counts = EraseReport()

    static func == (a: EraseJournal, b: EraseJournal) -> Bool {
        a.projectID == b.projectID && a.subjectSHA256 == b.subjectSHA256 && a.phase == b.phase && a.raw == b.raw
            && a.userEmailEvents.map(\.id) == b.userEmailEvents.map(\.id) && a.userEmailEvents.map(\.micros) == b.userEmailEvents.map(\.micros)
            && a.counts == b.counts
    }

    static func path(dataDirectory: String) -> String { dataDirectory + "/privacy/.erase-journal.json" }

    static func load(dataDirectory: String) throws -> EraseJournal? {
        let path = path(dataDirectory: dataDirectory)
        guard FileIO.exists(path) else { return nil }
        func fail(_ message: String) -> WarehouseError {
            WarehouseError(.corruptLog, "\(path): \(message); remove it only if no erase was interrupted (the raw files' compaction offsets may need it)")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(try FileIO.readFile(path)) } catch { throw fail("not valid JSON (\(error))") }
        guard let project = value["project"]?.stringValue, let sha = value["subject_sha256"]?.stringValue,
              let phase = value["phase"]?.stringValue.flatMap(Phase.init) else { throw fail("missing project, subject_sha256 or phase") }
        var journal = EraseJournal(projectID: project, subjectSHA256: sha, phase: phase)
        if case .array(let items)? = value["raw"] {
            for item in items {
                guard let key = item["key"]?.stringValue, let path = item["path"]?.stringValue,
                      let inode = item["inode"]?.scalarText.flatMap({ UInt64($0) }),
                      let bytes = item["bytes"]?.scalarText.flatMap({ Int64($0) }) else { throw fail("bad raw entry") }
                journal.raw.append(RawEntry(key: key, path: path, inode: inode,
                                            progress: RawProgress(key: key, bytes: bytes, complete: item["complete"] == .bool(true))))
            }
        }
        if case .array(let items)? = value["user_email_events"] {
            for item in items {
                guard let id = item["id"]?.stringValue, let micros = item["received_at"]?.scalarText.flatMap({ Int64($0) }) else { throw fail("bad user_email_events entry") }
                journal.userEmailEvents.append((id, micros))
            }
        }
        if let counts = value["counts"] { journal.counts = EraseReport(json: counts) }
        return journal
    }

    func write(dataDirectory: String) throws {
        var object = JSONObject()
        object["project"] = .string(projectID)
        object["subject_sha256"] = .string(subjectSHA256)
        object["phase"] = .string(phase.rawValue)
        object["raw"] = .array(raw.map { entry in
            .object(JSONObject([("key", .string(entry.key)), ("path", .string(entry.path)), ("inode", .number(String(entry.inode))),
                                ("bytes", .number(String(entry.progress.bytes))), ("complete", .bool(entry.progress.complete))]))
        })
        object["user_email_events"] = .array(userEmailEvents.map { event in
            .object(JSONObject([("id", .string(event.id)), ("received_at", .number(String(event.micros)))]))
        })
        object["counts"] = counts.journalJSON
        var bytes = JSONWriter.serialize(.object(object))
        bytes.append(0x0A)
        try FileIO.writeFileAtomically(Self.path(dataDirectory: dataDirectory), bytes)
    }

    static func remove(dataDirectory: String) throws {
        let path = path(dataDirectory: dataDirectory)
        guard FileIO.exists(path) else { return }
        FileIO.remove(path)
        try FileIO.fsyncDirectory(FileIO.parentDirectory(path))
    }

    /// The raw progress the entries describe, for files that are still the rewritten copy.
    func rawCorrections() -> [RawProgress] {
        guard phase == .raw else { return [] }
        return raw.compactMap { entry in Self.inode(entry.path) == entry.inode ? entry.progress : nil }
    }

    static func inode(_ path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }
}

/// What an erase removed (CONTRACT §9's summary).
public struct EraseReport: Sendable, Equatable {
    public var eventsRemoved = 0
    public var sitesRemoved = 0
    public var rawLinesRemoved = 0
    /// Raw files and Parquet files (events segments, sites snapshots) rewritten or removed.
    public var filesRewritten = 0
    /// Of `filesRewritten`: raw files.
    public var rawFilesRewritten = 0
    public var seconds = 0.0
    public var warehouseVersion = 0
    /// What this run read (not summed across an interrupted run and its rerun).
    public var reads = Reads()

    /// Files an erase opened against those its index (`SubjectKeyIndex`) let it skip.
    public struct Reads: Sendable, Equatable {
        /// Raw files read whole (no usable index, or the index may hold the subject).
        public var rawFilesRead = 0
        /// Raw files the index cleared (of them, `rawTailsRead` had lines past the index, read alone).
        public var rawFilesSkipped = 0
        public var rawTailsRead = 0
        /// Events segments whose columns were read, and those the index cleared without opening.
        public var segmentsRead = 0
        public var segmentsSkipped = 0
        /// Indexes the erase wrote for segments that had none (they are read anyway).
        public var segmentIndexesBuilt = 0
        public init() {}

        public var text: String {
            "read \(rawFilesRead) raw files whole (\(rawFilesSkipped) skipped by the index, \(rawTailsRead) of them for their unindexed tail) "
                + "and \(segmentsRead) segments (\(segmentsSkipped) skipped, \(segmentIndexesBuilt) indexed)"
        }
    }

    public init() {}

    init(json: JSONValue) {
        func int(_ key: String) -> Int { json[key]?.scalarText.flatMap { Int($0) } ?? 0 }
        eventsRemoved = int("events_removed")
        sitesRemoved = int("sites_removed")
        rawLinesRemoved = int("raw_lines_removed")
        filesRewritten = int("files_rewritten")
        rawFilesRewritten = int("raw_files_rewritten")
    }

    /// `{"events_removed","sites_removed","raw_lines_removed","files_rewritten"}` (CONTRACT §9).
    public var json: JSONValue {
        .object(JSONObject([("events_removed", .number(String(eventsRemoved))), ("sites_removed", .number(String(sitesRemoved))),
                            ("raw_lines_removed", .number(String(rawLinesRemoved))), ("files_rewritten", .number(String(filesRewritten)))]))
    }

    var journalJSON: JSONValue {
        guard case .object(var object) = json else { return json }
        object["raw_files_rewritten"] = .number(String(rawFilesRewritten))
        return .object(object)
    }

    public var text: String {
        "erased \(eventsRemoved) events, \(sitesRemoved) sites rows and \(rawLinesRemoved) raw lines; rewrote \(filesRewritten) files "
            + "(\(rawFilesRewritten) raw) in \(String(format: "%.2f", seconds)) s (warehouse version \(warehouseVersion)); \(reads.text)"
    }

    static func + (a: EraseReport, b: EraseReport) -> EraseReport {
        var sum = a
        sum.eventsRemoved += b.eventsRemoved
        sum.sitesRemoved += b.sitesRemoved
        sum.rawLinesRemoved += b.rawLinesRemoved
        sum.filesRewritten += b.filesRewritten
        sum.rawFilesRewritten += b.rawFilesRewritten
        return sum
    }
}
