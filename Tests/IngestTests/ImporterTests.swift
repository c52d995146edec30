import Core
import XCTest
@testable import Ingest

final class ImporterTests: XCTestCase {
    func testImportValidatesSplitsByHourAndIsIdempotent() throws {
        let source = makeTemporaryDirectory()
        let data = makeTemporaryDirectory()
        let a = Envelope(id: "a", receivedAtMicros: UTCTime.parseISO("2025-01-01T10:00:00Z")!, route: .track,
                         ip: nil, userAgent: nil, payload: JSONObject([("hash", .string("h"))]))
        let b = Envelope(id: "b", receivedAtMicros: UTCTime.parseISO("2025-01-01T11:30:00Z")!, route: .deactivate,
                         ip: nil, userAgent: nil, payload: JSONObject([("hash", .string("h"))]))
        var lines = a.line() + Array("not json\n".utf8) + b.line()
        lines += Array(#"{"v":1,"id":"torn""#.utf8)
        try FileIO.makeDirectories(source + "/old/bucket")
        try FileIO.writeFileAtomically(source + "/old/bucket/part.ndjson", lines)
        try FileIO.writeFileAtomically(source + "/old/bucket/part2.ndjson.gz", Gzip.deflate(a.line()))
        try FileIO.writeFileAtomically(source + "/README.txt", Array("ignored".utf8))

        let importer = RawImporter(layout: RawLayout(dataDirectory: data), logger: quietLogger)
        var problems: [RawImporter.Problem] = []
        let first = try importer.importTree(source) { problems.append($0) }
        XCTAssertEqual(first.linesImported, 3)
        XCTAssertEqual(first.linesRejected, 2)
        XCTAssertEqual(problems.map(\.line), [2, 4])
        XCTAssertTrue(problems[0].path.hasSuffix("part.ndjson"))
        XCTAssertEqual(first.filesWritten, 3)
        XCTAssertEqual(try readAllEnvelopes(data).map(\.id).sorted(), ["a", "a", "b"])
        let files = RawLayout(dataDirectory: data).listFiles()
        XCTAssertTrue(files.contains { $0.key.hasPrefix("deactivate/2025/01/01/11/import-") })

        let second = try importer.importTree(source) { _ in }
        XCTAssertEqual(second.filesWritten, 0)
        XCTAssertEqual(second.filesSkipped, 3)
        XCTAssertEqual(try readAllEnvelopes(data).count, 3)
    }
}
