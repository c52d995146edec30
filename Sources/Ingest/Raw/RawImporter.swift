import Core
import Foundation
import Logging

/// `trackhouse import SRC`: copies envelope files from elsewhere into the raw layout.
///
/// 1. Walk SRC for `*.ndjson`, `*.jsonl`, `*.json` files, plain or `.gz`.
/// 2. Validate every line as an envelope (CONTRACT §2); report bad ones with file and line
///    number and skip them. A last line without a newline is torn and reported too.
/// 3. Group the good lines by (route, UTC hour of `received_at`) and write each group to
///    `<raw>/<route>/YYYY/MM/DD/HH/import-<content hash>.ndjson` (temp, fsync, rename).
/// 4. The name derives from the source file's bytes, so importing the same tree again finds
///    every target present and adds nothing; a crash mid-import is finished by a rerun.
///    Duplicate ids across files are harmless: compaction dedupes by `id` warehouse-wide.
/// 5. After each file written, `raw/.imported` is rewritten: a server's compaction, which
///    between whole listings lists only the hours it has not seen complete, then lists the
///    whole tree and finds files imported into past hours.
public struct RawImporter {
    public struct Problem: Sendable {
        public var path: String
        public var line: Int
        public var message: String
    }

    public struct Summary: Sendable {
        public var filesRead = 0
        public var linesImported = 0
        public var linesRejected = 0
        public var filesWritten = 0
        public var filesSkipped = 0

        public var jsonText: String {
            JSONWriter.string(.object(JSONObject([
                ("files_read", .number(String(filesRead))), ("lines_imported", .number(String(linesImported))),
                ("lines_rejected", .number(String(linesRejected))), ("files_written", .number(String(filesWritten))),
                ("files_skipped", .number(String(filesSkipped))),
            ])))
        }
    }

    public let layout: RawLayout
    let logger: Logger

    public init(layout: RawLayout, logger: Logger) {
        self.layout = layout
        self.logger = logger
    }

    static func isEnvelopeFile(_ path: String) -> Bool {
        let name = path.hasSuffix(".gz") ? String(path.dropLast(3)) : path
        return name.hasSuffix(".ndjson") || name.hasSuffix(".jsonl") || name.hasSuffix(".json")
    }

    public func importTree(_ source: String, report: (Problem) -> Void) throws -> Summary {
        var summary = Summary()
        let files: [String]
        if FileIO.isDirectory(source) {
            files = FileIO.walkFiles(source).filter(Self.isEnvelopeFile)
        } else if FileIO.exists(source) {
            files = [source]
        } else {
            throw RawImportError(message: "\(source) does not exist")
        }
        for path in files {
            try importFile(path, summary: &summary, report: report)
        }
        return summary
    }

    struct GroupKey: Hashable, Comparable {
        var route: Envelope.Route
        var hourIndex: Int64
        static func < (a: GroupKey, b: GroupKey) -> Bool {
            (a.route.rawValue, a.hourIndex) < (b.route.rawValue, b.hourIndex)
        }
    }

    func importFile(_ path: String, summary: inout Summary, report: (Problem) -> Void) throws {
        summary.filesRead += 1
        let raw = try FileIO.readFile(path)
        let bytes: [UInt8]
        do {
            bytes = path.hasSuffix(".gz") ? try Gzip.inflate(raw) : raw
        } catch {
            report(Problem(path: path, line: 0, message: "cannot be inflated: \(error)"))
            summary.linesRejected += 1
            return
        }
        let contentHash = Self.contentHash(bytes)
        var groups: [GroupKey: [UInt8]] = [:]
        func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
            line.allSatisfy { $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }
        }
        bytes.withUnsafeBytes { buffer in
            var lineNumber = 0
            let complete = RawFileReader.forEachLine(in: buffer) { line in
                lineNumber = line.number
                if isBlank(line.bytes) { return }
                do {
                    let envelope = try Envelope.decode(line.bytes)
                    let key = GroupKey(route: envelope.route, hourIndex: RawLayout.hourIndex(micros: envelope.receivedAtMicros))
                    groups[key, default: []].append(contentsOf: line.bytes)
                    groups[key]!.append(0x0A)
                    summary.linesImported += 1
                } catch {
                    report(Problem(path: path, line: line.number, message: "\(error)"))
                    summary.linesRejected += 1
                }
            }
            // A last line without a newline was cut mid-append by a crash (a blank one is
            // just trailing space).
            if complete < buffer.count, !isBlank(UnsafeRawBufferPointer(rebasing: buffer[complete...])) {
                report(Problem(path: path, line: lineNumber + 1, message: "last line has no newline (torn write); skipped"))
                summary.linesRejected += 1
            }
        }
        for key in groups.keys.sorted() {
            let directory = layout.hourDirectory(route: key.route, hourIndex: key.hourIndex)
            let target = directory + "/import-\(contentHash).ndjson"
            if FileIO.exists(target) || FileIO.exists(target + ".gz") {
                summary.filesSkipped += 1
                continue
            }
            try FileIO.writeFileAtomically(target, groups[key]!)
            summary.filesWritten += 1
            // A running server's compaction lists only recent hours between its whole listings;
            // the marker's change makes its next cycle list the whole tree (step 5).
            try FileIO.writeFileAtomically(layout.importMarkerPath, Array(String(UTCTime.nowMicros()).utf8))
        }
    }

    /// 128-bit FNV-1a over the bytes (two independent 64-bit lanes), as 32 hex digits: a
    /// stable name for "this exact source content".
    static func contentHash(_ bytes: [UInt8]) -> String {
        var first: UInt64 = 0xcbf2_9ce4_8422_2325
        var second: UInt64 = 0x84222325_cbf29ce4
        for byte in bytes {
            first = (first ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            second = (second ^ UInt64(byte ^ 0x5A)) &* 0x0000_0100_0000_01B3
        }
        first ^= UInt64(bytes.count)
        func hex(_ value: UInt64) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }
        return hex(first) + hex(second)
    }
}

public struct RawImportError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
