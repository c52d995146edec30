import Core
import Foundation
import XCTest
@testable import Server

final class APITimeseriesTests: XCTestCase {
    typealias Event = APIFixture.EventRecord

    /// Bucket starts by Foundation's ISO-8601 calendar in UTC (weeks start on Monday): an
    /// implementation independent of the server's own arithmetic.
    static func bucketStart(_ micros: Int64, _ interval: String) -> Int64 {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let component: Calendar.Component = ["hour": .hour, "day": .day, "week": .weekOfYear, "month": .month][interval]!
        let date = Date(timeIntervalSince1970: Double(micros) / 1e6)
        let start = calendar.dateInterval(of: component, for: date)!.start
        return Int64((start.timeIntervalSince1970 * 1e6).rounded())
    }

    /// The metric's key per event (nil: not counted) and whether it counts distinct values.
    static func expectedCells(_ projectID: String, metric: String, interval: String, from: Int64, to: Int64,
                              key: (Event) -> String?) -> [String: [Int64: Int64]] {
        let fixture = APIFixture.shared
        var sets: [String: [Int64: Set<String>]] = [:]
        var counts: [String: [Int64: Int64]] = [:]
        if metric == "new_sites" {
            for site in fixture.sites(of: projectID).values where site.firstSeen >= from && site.firstSeen < to {
                counts[key(site.latest) ?? "∅", default: [:]][bucketStart(site.firstSeen, interval), default: 0] += 1
            }
            return counts
        }
        for event in fixture.events(of: projectID) where event.receivedAt >= from && event.receivedAt < to {
            let bucket = bucketStart(event.receivedAt, interval)
            let series = key(event) ?? "∅"
            switch metric {
            case "events": counts[series, default: [:]][bucket, default: 0] += 1
            case "deactivations": if event.event == "deactivate" { counts[series, default: [:]][bucket, default: 0] += 1 }
            case "sites": if event.event == "track", let site = event.siteKey { sets[series, default: [:]][bucket, default: []].insert(site) }
            case "skips":
                if event.event == "skip", event.previouslySkipped != true, let hash = event.siteHash {
                    sets[series, default: [:]][bucket, default: []].insert(hash)
                }
            default: XCTFail("metric \(metric)")
            }
        }
        for (series, buckets) in sets { counts[series] = buckets.mapValues { Int64($0.count) } }
        return counts
    }

    func testEveryMetricAndIntervalMatchesAnIndependentCount() async throws {
        let fixture = APIFixture.shared
        let project = fixture.mainProject
        let end = APIFixture.end, day = APIFixture.day
        let cases: [(String, Int64, Int64)] = [
            ("day", end - 30 * day + 3_600_000_000 * 5, end),      // from mid-day: the first bucket starts before it
            ("week", UTCTime.parseISO("2026-03-19T10:00:00Z")!, end), // a Thursday
            ("month", end - 75 * day, end + 20 * day),              // buckets after the data are zeros
            ("hour", end - 2 * day - 1_800_000_000, end - day),
        ]
        try await withAPI { client in
            for metric in ["events", "sites", "new_sites", "deactivations", "skips"] {
                for (interval, from, to) in cases {
                    let path = "/api/v1/projects/\(project)/timeseries?metric=\(metric)&interval=\(interval)&from=\(iso(from))&to=\(iso(to))"
                    let answer = try await client.call(path, token: fixture.tokens[project]!)
                    XCTAssertEqual(answer.status, 200, answer.text)
                    let series = answer.json["series"]?.array ?? []
                    XCTAssertEqual(series.count, 1, path)
                    XCTAssertEqual(series.first?["key"], .null)
                    let points = series.first?["points"]?.array ?? []
                    // Every bucket, consecutive, from the bucket of `from` to the last one starting before `to`.
                    var expectedStarts: [Int64] = []
                    var start = Self.bucketStart(from, interval)
                    while start < to {
                        expectedStarts.append(start)
                        start = Self.bucketStart(start + ["hour": 3_600_000_000, "day": day, "week": 7 * day, "month": 32 * day][interval]!, interval)
                    }
                    XCTAssertEqual(points.compactMap { $0.array?.first?.string }, expectedStarts.map(iso), path)
                    let expected = Self.expectedCells(project, metric: metric, interval: interval, from: from, to: to) { _ in nil }["∅"] ?? [:]
                    let got = points.map { $0.array?.last?.int ?? -1 }
                    XCTAssertEqual(got, expectedStarts.map { expected[$0] ?? 0 }, path)
                    if interval == "week" {
                        for text in points.compactMap({ $0.array?.first?.string }) {
                            let micros = UTCTime.parseISO(text)!
                            XCTAssertEqual(((micros / day) + 3) % 7, 0, "\(text) is not a Monday")
                            XCTAssertTrue(text.hasSuffix("T00:00:00Z"), text)
                        }
                    }
                }
            }
            // The busy metrics must have something in range, or the test proves little.
            let events = Self.expectedCells(project, metric: "events", interval: "day", from: end - 30 * day, to: end) { _ in nil }
            XCTAssertGreaterThan(events["∅"]?.count ?? 0, 20)
        }
    }

    func testBreakdownKeepsTheLargestKeysThenOther() async throws {
        let fixture = APIFixture.shared
        let project = fixture.mainProject
        let end = APIFixture.end, day = APIFixture.day
        let from = end - 30 * day // a Saturday: five Monday-based weeks
        let cases: [(metric: String, column: String, limit: Int, key: @Sendable (Event) -> String?)] = [
            ("events", "php_minor", 3, { $0.phpMinor }),
            ("sites", "wp_locale", 2, { $0.wpLocale }),
            ("deactivations", "reason_id", 4, { $0.reasonID }),
            ("new_sites", "wp_locale", 2, { $0.wpLocale }),
            ("events", "event", 10, { $0.event }), // fewer keys than the limit: no __other__
        ]
        try await withAPI { client in
            for (metric, column, limit, key) in cases {
                let path = "/api/v1/projects/\(project)/timeseries?metric=\(metric)&interval=week&from=\(iso(from))&to=\(iso(end))&breakdown=\(column)&limit=\(limit)"
                let answer = try await client.call(path, token: fixture.adminToken)
                XCTAssertEqual(answer.status, 200, answer.text)
                let series = answer.json["series"]?.array ?? []
                let cells = Self.expectedCells(project, metric: metric, interval: "week", from: from, to: end, key: key)
                let sums = cells.mapValues { $0.values.reduce(0, +) }
                // Largest sum first; ties by key ascending with NULL last.
                let ranked = sums.keys.sorted { a, b in
                    if sums[a]! != sums[b]! { return sums[a]! > sums[b]! }
                    if a == "∅" || b == "∅" { return b == "∅" && a != "∅" }
                    return a.utf8.lexicographicallyPrecedes(b.utf8)
                }
                let top = Array(ranked.prefix(limit))
                let rest = ranked.dropFirst(limit)
                var expectedKeys: [JSONValue] = top.map { $0 == "∅" ? .null : .string($0) }
                if !rest.isEmpty { expectedKeys.append(.string("__other__")) }
                XCTAssertEqual(series.compactMap { $0["key"] }, expectedKeys, path)
                XCTAssertGreaterThan(ranked.count, 1, "the breakdown column should have several values: \(path)")
                for item in series {
                    let points = item["points"]?.array ?? []
                    let starts = points.compactMap { $0.array?.first?.string.flatMap(UTCTime.parseISO) }
                    XCTAssertEqual(starts.count, 5, path)
                    let values = points.map { $0.array?.last?.int ?? -1 }
                    let expected: [Int64]
                    if item["key"] == .string("__other__") {
                        expected = starts.map { start in rest.reduce(0) { $0 + (cells[$1]?[start] ?? 0) } }
                    } else {
                        let name = item["key"]?.string ?? "∅"
                        expected = starts.map { cells[name]?[$0] ?? 0 }
                    }
                    XCTAssertEqual(values, expected, "\(path) key \(String(describing: item["key"]))")
                }
            }
        }
    }

    func testBucketArithmeticAlignsWithDateTrunc() {
        let monday = UTCTime.parseISO("2026-06-01T00:00:00Z")!
        XCTAssertEqual(BucketInterval.week.start(of: UTCTime.parseISO("2026-06-07T23:59:59.999999Z")!), monday)
        XCTAssertEqual(BucketInterval.week.start(of: monday), monday)
        XCTAssertEqual(BucketInterval.month.start(of: UTCTime.parseISO("2024-02-29T12:00:00Z")!), UTCTime.parseISO("2024-02-01")!)
        XCTAssertEqual(BucketInterval.month.next(after: UTCTime.parseISO("2025-12-01")!), UTCTime.parseISO("2026-01-01")!)
        XCTAssertEqual(BucketInterval.week.start(of: UTCTime.parseISO("1969-12-31T10:00:00Z")!), UTCTime.parseISO("1969-12-29")!)
        let range = TimeRange(from: UTCTime.parseISO("2026-01-01")!, to: UTCTime.parseISO("2026-01-01T03:00:00Z")!)
        XCTAssertEqual(BucketInterval.hour.starts(covering: range, limit: 3)?.count, 3)
        XCTAssertNil(BucketInterval.hour.starts(covering: range, limit: 2))
    }
}
