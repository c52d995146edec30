import Core
import XCTest
@testable import Ingest

/// `RawFileReader` is the one line splitter of raw files (compaction, import, the tests): what
/// is a line, how lines are numbered, and where the torn tail starts.
final class RawFileReaderTests: XCTestCase {
    private func split(_ text: String, from start: Int = 0) -> (lines: [(Int, String)], complete: Int) {
        var lines: [(Int, String)] = []
        let complete = Array(text.utf8).withUnsafeBytes { buffer in
            RawFileReader.forEachLine(in: buffer, from: start) { line in
                lines.append((line.number, String(decoding: line.bytes, as: UTF8.self)))
            }
        }
        return (lines, complete)
    }

    func testLinesAreNumberedAndTheTornTailIsNotALine() {
        let (lines, complete) = split("a\n\nbc\r\n  \ntorn")
        XCTAssertEqual(lines.map(\.0), [1, 2, 3, 4])
        XCTAssertEqual(lines.map(\.1), ["a", "", "bc\r", "  "])
        XCTAssertEqual(complete, "a\n\nbc\r\n  \n".utf8.count)
    }

    func testSplitFromAnOffsetReturnsWhereTheCompleteLinesEnd() {
        let text = "first\nsecond\nthird\nfour"
        let (lines, complete) = split(text, from: "first\n".utf8.count)
        XCTAssertEqual(lines.map(\.0), [1, 2])
        XCTAssertEqual(lines.map(\.1), ["second", "third"])
        XCTAssertEqual(complete, text.utf8.count - "four".utf8.count)
        // Nothing new past the offset: the offset comes back.
        XCTAssertEqual(split(text, from: complete).complete, complete)
        XCTAssertTrue(split(text, from: complete).lines.isEmpty)
    }

    func testEdgeCases() {
        XCTAssertEqual(split("").complete, 0)
        XCTAssertEqual(split("no newline").complete, 0)
        XCTAssertTrue(split("no newline").lines.isEmpty)
        XCTAssertEqual(split("\n").lines.map(\.1), [""])
        XCTAssertEqual(split("x\n").complete, 2)
    }

    func testFilesPlainAndGzipReadTheSameNonEmptyLinesAndReportTheTornTail() throws {
        let directory = makeTemporaryDirectory()
        let content = Array("one\n\ntwo\nthr".utf8)
        try FileIO.writeFileAtomically(directory + "/part.ndjson", content)
        try FileIO.writeFileAtomically(directory + "/part.ndjson.gz", Gzip.deflate(content))
        try FileIO.writeFileAtomically(directory + "/gzip-named-plain", Gzip.deflate(content))
        for (path, compressed) in [("part.ndjson", nil), ("part.ndjson.gz", nil), ("gzip-named-plain", true)] as [(String, Bool?)] {
            var lines: [(Int, String)] = []
            var torn: Int?
            try RawFileReader.forEachLine(path: directory + "/" + path, compressed: compressed, tornTail: { torn = $0 }) { line in
                lines.append((line.number, String(decoding: line.bytes, as: UTF8.self)))
            }
            XCTAssertEqual(lines.map(\.0), [1, 3], path)
            XCTAssertEqual(lines.map(\.1), ["one", "two"], path)
            XCTAssertEqual(torn, 3, path)
        }
    }

    /// Import reports a torn last line with its number, but trailing blanks without a newline
    /// are not a line.
    func testImportReportsATornTailButNotTrailingBlanks() throws {
        let source = makeTemporaryDirectory()
        let data = makeTemporaryDirectory()
        let envelope = Envelope(id: "a", receivedAtMicros: UTCTime.parseISO("2025-01-01T10:00:00Z")!, route: .track,
                                ip: nil, userAgent: nil, payload: JSONObject([("hash", .string("h"))]))
        try FileIO.writeFileAtomically(source + "/blank.ndjson", envelope.line() + Array("\n \t".utf8))
        let importer = RawImporter(layout: RawLayout(dataDirectory: data), logger: quietLogger)
        var problems: [RawImporter.Problem] = []
        let summary = try importer.importTree(source) { problems.append($0) }
        XCTAssertEqual(summary.linesImported, 1)
        XCTAssertEqual(summary.linesRejected, 0)
        XCTAssertTrue(problems.isEmpty, "\(problems)")
    }
}
