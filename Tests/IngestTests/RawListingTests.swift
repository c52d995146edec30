import Core
import XCTest
@testable import Ingest

/// Listing from an hour (`RawLayout.listFiles(fromHour:)`) and the raw writer's settled hour
/// (RawLogWriter step 6a): a start or a compaction cycle lists the recent hours, not the
/// whole history, and finds every file it would have found before.
final class RawListingTests: XCTestCase {
    func envelope(_ id: String, micros: Int64) -> Envelope {
        Envelope(id: id, receivedAtMicros: micros, route: .track, ip: nil, userAgent: nil,
                 payload: JSONObject([("hash", .string("h"))]))
    }

    func testListingFromAnHourIsTheWholeListingFromThatHour() throws {
        let data = makeTemporaryDirectory()
        let layout = RawLayout(dataDirectory: data)
        // Hours on both sides of a year, a month (February) and a day boundary.
        let stamps = ["2024-12-31T23:10:00Z", "2025-01-01T00:05:00Z", "2025-02-28T23:59:00Z", "2025-03-01T00:00:00Z",
                      "2025-03-01T05:30:00Z", "2025-03-02T00:00:00Z"]
        var hours: [Int64] = []
        for (index, stamp) in stamps.enumerated() {
            let micros = UTCTime.parseISO(stamp)!
            hours.append(RawLayout.hourIndex(micros: micros))
            for route in [Envelope.Route.track, .deactivate] {
                let directory = layout.hourDirectory(route: route, hourIndex: hours.last!)
                try FileIO.makeDirectories(directory)
                try FileIO.writeFileAtomically(directory + "/w1-00000\(index).ndjson", envelope("e\(index)", micros: micros).line())
            }
        }
        // Folders that are not the layout's are skipped, never trusted into overflowing arithmetic.
        for hostile in ["9223372036854775807/01/01/00", "99999999999999999999/01/01/00", "-1/01/01/00", "2025/13/01/00",
                        "2025/00/01/00", "2025/03/32/00", "2025/03/01/24", "2025/x/01/00"] {
            try FileIO.makeDirectories(layout.rawRoot + "/track/" + hostile)
            try FileIO.writeFileAtomically(layout.rawRoot + "/track/" + hostile + "/w1-000001.ndjson", envelope("x", micros: 0).line())
        }
        let whole = layout.listFiles()
        XCTAssertEqual(whole.count, 2 * stamps.count)
        XCTAssertEqual(layout.listFiles(fromHour: nil), whole)
        let froms: [Int64] = hours.flatMap { [$0 - 1, $0, $0 + 1] } + [Int64.min, 0, Int64.max]
        for from in froms {
            XCTAssertEqual(layout.listFiles(fromHour: from), whole.filter { $0.hourIndex >= from }, "from hour \(from)")
        }
    }

    /// A restart lists only from the settled hour: a torn file of this writer below it is not
    /// looked at (the invariant says there is none), and without the settled file the whole
    /// tree is listed again and the file repaired. The hour follows the oldest plain file.
    func testRestartListsFromTheSettledHourWhichFollowsTheOldestPlainFile() async throws {
        let data = makeTemporaryDirectory()
        let layout = RawLayout(dataDirectory: data)
        let settledPath = layout.rawRoot + "/.writer-w1.settled"
        func settled() throws -> Int64? { Int64(String(decoding: try FileIO.readFile(settledPath), as: UTF8.self).trimmingCharacters(in: .newlines)) }
        let nowHour = RawLayout.hourIndex(micros: UTCTime.nowMicros())
        /// The hour a start writes when no plain file is left: the current one (the test may
        /// cross an hour).
        func isCurrentHour(_ hour: Int64?) -> Bool {
            guard let hour else { return false }
            return (nowHour...RawLayout.hourIndex(micros: UTCTime.nowMicros())).contains(hour)
        }

        var unsealed = RawLogWriter.Options(writerID: "w1")
        unsealed.sealEnabled = false
        var writer = RawLogWriter(layout: layout, options: .init(writerID: "w1"), logger: quietLogger)
        try writer.start()
        writer.shutdown()
        XCTAssertTrue(isCurrentHour(try settled()))

        let old = UTCTime.parseISO("2025-03-04T05:06:07Z")!
        let oldDirectory = layout.hourDirectory(route: .track, hourIndex: RawLayout.hourIndex(micros: old))
        try FileIO.makeDirectories(oldDirectory)
        let good = envelope("kept", micros: old).line()
        try FileIO.writeFileAtomically(oldDirectory + "/w1-000001.ndjson", good + Array(#"{"v":1,"id":"torn"#.utf8))
        writer = RawLogWriter(layout: layout, options: unsealed, logger: quietLogger)
        try writer.start()
        writer.shutdown()
        XCTAssertEqual(try FileIO.readFile(oldDirectory + "/w1-000001.ndjson").count, good.count + 17, "below the settled hour: not listed")

        FileIO.remove(settledPath)
        writer = RawLogWriter(layout: layout, options: unsealed, logger: quietLogger)
        try writer.start()
        writer.shutdown()
        XCTAssertEqual(try FileIO.readFile(oldDirectory + "/w1-000001.ndjson"), good, "the whole listing repairs it")
        XCTAssertEqual(try settled(), RawLayout.hourIndex(micros: old), "it stays plain (sealing off): the hour stays with it")

        // Sealed, the file no longer holds the hour back.
        writer = RawLogWriter(layout: layout, options: .init(writerID: "w1"), logger: quietLogger)
        try writer.start()
        writer.shutdown()
        XCTAssertTrue(FileIO.exists(oldDirectory + "/w1-000001.ndjson.gz"))
        writer = RawLogWriter(layout: layout, options: .init(writerID: "w1"), logger: quietLogger)
        try writer.start()
        writer.shutdown()
        XCTAssertTrue(isCurrentHour(try settled()))
    }

    /// A line for an hour before the settled one (a clock stepped back) lowers the settled hour
    /// on disk before its file exists, so a crash right after still has the file listed.
    func testAFileBeforeTheSettledHourLowersItFirst() async throws {
        let data = makeTemporaryDirectory()
        let layout = RawLayout(dataDirectory: data)
        let writer = RawLogWriter(layout: layout, options: .init(writerID: "w1"), logger: quietLogger)
        try writer.start()
        let old = UTCTime.parseISO("2025-03-04T05:06:07Z")!
        try await writer.append(line: envelope("late", micros: old).line(), route: .track, receivedAtMicros: old)
        let settled = Int64(String(decoding: try FileIO.readFile(layout.rawRoot + "/.writer-w1.settled"), as: UTF8.self)
            .trimmingCharacters(in: .newlines))
        XCTAssertEqual(settled, RawLayout.hourIndex(micros: old))
        writer.shutdown()
        XCTAssertEqual(try readAllEnvelopes(data).map(\.id), ["late"])
    }
}
