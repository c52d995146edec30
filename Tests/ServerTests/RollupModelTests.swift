import Foundation
import XCTest
@testable import ColumnStore
@testable import Query
@testable import Server

/// `ProjectRollup`'s fast paths against a brute-force model of the same events: "latest event
/// per site before T" through the linked next-event times, and distinct (site, value) pairs
/// per value through cached day spans plus edge hours. Events arrive in commits, some late
/// (before their site's latest: the relink), some into hours already cut by a range; every
/// `to`/`at` is tried in the past, inside an hour, and after every event.
final class RollupModelTests: XCTestCase {
    static let hour: Int64 = 3_600_000_000
    static let day = 24 * hour
    static let phpMinor = RollupDimensions.indexOfName["php_minor"]!

    struct Event {
        var time: Int64
        var id: String
        var site: String?
        var kind: String
        var php: String?
        var hash: String?
    }

    /// A deterministic generator (no Foundation randomness: the same events every run).
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    static func batch(_ events: [Event]) -> ProjectRollup.Batch {
        func strings(_ values: [String?]) -> ColumnData {
            var validity = [UInt8](repeating: 0, count: (values.count + 7) / 8)
            for (row, value) in values.enumerated() where value != nil { validity[row >> 3] |= 1 << UInt8(row & 7) }
            return ColumnData(kind: .string, count: values.count, validity: validity,
                              storage: .strings(StringColumn(values.map { $0 ?? "" })))
        }
        var dimensions = [ColumnData?](repeating: nil, count: RollupDimensions.names.count)
        dimensions[RollupDimensions.eventIndex] = strings(events.map(\.kind))
        dimensions[phpMinor] = strings(events.map(\.php))
        return ProjectRollup.Batch(
            rowCount: events.count,
            receivedAt: ColumnData(kind: .timestamp, count: events.count, validity: nil, storage: .int64(events.map(\.time))),
            eventID: strings(events.map(\.id)), siteKey: strings(events.map(\.site)), siteHash: strings(events.map(\.hash)),
            previouslySkipped: nil, dimensions: dimensions)
    }

    /// Per site, its latest event in `[from, to)` (ties by event id, as the scan orders them);
    /// counted when it is a `track`, per php_minor.
    static func latestTrack(_ events: [Event], from: Int64, to: Int64) -> (total: Int64, perValue: [String?: Int64]) {
        var latest: [String: Event] = [:]
        for event in events where event.time >= from && event.time < to {
            guard let site = event.site else { continue }
            if let current = latest[site], (current.time, current.id) > (event.time, event.id) { continue }
            latest[site] = event
        }
        var perValue: [String?: Int64] = [:]
        var total: Int64 = 0
        for event in latest.values where event.kind == "track" {
            total += 1
            perValue[event.php, default: 0] += 1
        }
        return (total, perValue)
    }

    /// Distinct sites with a `track` (or hashes of a counted skip) per php_minor in `[from, to)`.
    static func distinctPerValue(_ events: [Event], skips: Bool, from: Int64, to: Int64) -> [String?: Int64] {
        var pairs = Set<String>()
        var perValue: [String?: Int64] = [:]
        for event in events where event.time >= from && event.time < to {
            let id = skips ? (event.kind == "skip" ? event.hash : nil) : (event.kind == "track" ? event.site : nil)
            guard let id, pairs.insert(id + "\u{0}" + (event.php ?? "\u{1}")).inserted else { continue }
            perValue[event.php, default: 0] += 1
        }
        return perValue
    }

    static func byValue(_ rollup: ProjectRollup, _ counts: [Int64]) -> [String?: Int64] {
        var result: [String?: Int64] = [:]
        let values = rollup.dimensions[phpMinor].values
        for (code, count) in counts.enumerated() where count > 0 {
            switch values[code] {
            case .string(let text): result[text] = count
            default: result[nil] = count
            }
        }
        return result
    }

    func testLatestEventsAndDistinctPairsMatchAModelCommitByCommit() {
        runModel(windowHours: Int64(ProjectRollup.windowDaysDefault) * 24)
    }

    /// The same with a 5-day window: hours drop as commits arrive (entries keep links to
    /// events before the window), and only ranges the window covers are asked.
    func testLatestEventsAndDistinctPairsMatchAModelWhileTheWindowSlides() {
        runModel(windowHours: 5 * 24)
    }

    func runModel(windowHours: Int64) {
        let start: Int64 = 20_000 * Self.day + 5 * Self.hour // a Thursday, mid-day
        var random = Random(state: 42)
        let sites = (0..<60).map { "site-\($0).example" }
        let kinds = ["track", "track", "track", "deactivate", "skip", "uninstall"]
        let versions: [String?] = ["7.4", "8.1", "8.2", nil]
        var applied: [Event] = []
        let rollup = ProjectRollup(projectID: "p", windowHours: windowHours)
        var serial = 0
        var shrinkingChecks = 0
        func event(at time: Int64) -> Event {
            serial += 1
            let kind = kinds[random.next(kinds.count)]
            let site: String? = random.next(20) == 0 ? nil : sites[random.next(sites.count)]
            // Ids share their first 8 bytes ("evt-000…") only across different times.
            return Event(time: time, id: String(format: "e%07d", serial), site: site, kind: kind,
                         php: versions[random.next(versions.count)], hash: kind == "skip" ? "hash-\(random.next(15))" : nil)
        }
        for commit in 0..<8 {
            var events: [Event] = []
            // Mostly new events after everything so far…
            let commitStart = start + Int64(commit) * 2 * Self.day
            for _ in 0..<150 { events.append(event(at: commitStart + Int64(random.next(Int(2 * Self.day))))) }
            // …two at the same microsecond for different sites…
            events.append(event(at: commitStart + Self.hour))
            events.append(event(at: commitStart + Self.hour))
            // …and, from the third commit on, late events into hours already linked: many
            // (some sort into the middle of their hour: every entry is linked again), or one
            // at the very end of an early hour, before its site's latest (the incremental link
            // must notice it is not after that latest).
            if commit >= 2 && commit % 2 == 0 {
                for _ in 0..<10 { events.append(event(at: start + Int64(random.next(Int(Int64(commit) * 2 * Self.day))))) }
            } else if commit >= 2, let site = applied.first(where: { $0.site != nil && $0.kind == "track" })?.site {
                var late = event(at: start + Int64(commit) * Self.hour + Self.hour - 1)
                late.site = site
                late.kind = "deactivate"
                events.append(late)
            }
            let split = random.next(events.count)
            rollup.lock.withWriteLock {
                // Two batches of one commit, the second not in time order.
                rollup.apply(Self.batch(Array(events[..<split]).sorted { $0.time < $1.time }))
                rollup.apply(Self.batch(Array(events[split...])))
                rollup.finish()
            }
            applied += events
            // A series over the first days, asked last after each commit and first after the
            // next: its day spans are cached by then, and late events land in their days.
            func checkFirstDays() {
                let (from, to) = (start + 11, start + 9 * Self.day)
                guard rollup.covers(from: from) else { return }
                guard let starts = BucketInterval.week.starts(covering: TimeRange(from: from, to: to), limit: 10) else { return XCTFail() }
                for bucket in starts {
                    let (low, high) = (max(from, bucket), min(to, BucketInterval.week.next(after: bucket)))
                    XCTAssertEqual(Self.byValue(rollup, rollup.distinctPerCode(skips: false, dimension: Self.phpMinor, interval: .week,
                                                                               bucketStart: bucket, from: from, to: to)),
                                   Self.distinctPerValue(applied, skips: false, from: low, to: high), "commit \(commit): first days, week \(bucket)")
                }
            }
            // A series whose `to` steps back 5 hours per request, as a dashboard paging back
            // does: the last partial week's span of whole days shrinks a day at a time, so
            // it is derived from the longer span cached a request before, a day taken off.
            func checkShrinkingRanges() {
                let newest = applied.map(\.time).max()!
                for step: Int64 in 0..<16 {
                    let to = newest + 1 - step * 5 * Self.hour, from = to - 10 * Self.day
                    guard rollup.covers(from: from), let starts = BucketInterval.week.starts(covering: TimeRange(from: from, to: to), limit: 10) else { continue }
                    for bucket in starts {
                        let (low, high) = (max(from, bucket), min(to, BucketInterval.week.next(after: bucket)))
                        for skips in [false, true] {
                            shrinkingChecks += 1
                            XCTAssertEqual(Self.byValue(rollup, rollup.distinctPerCode(skips: skips, dimension: Self.phpMinor, interval: .week,
                                                                                       bucketStart: bucket, from: from, to: to)),
                                           Self.distinctPerValue(applied, skips: skips, from: low, to: high), "commit \(commit): to \(to), week \(bucket)")
                        }
                    }
                }
            }
            rollup.lock.withReadLock {
                checkFirstDays()
                defer { checkFirstDays() }
                checkShrinkingRanges()
                XCTAssertFalse(rollup.tiesAmbiguous)
                XCTAssertEqual(rollup.checkInvariants(), [], "commit \(commit)")
                let newest = applied.map(\.time).max()!
                let instants = [newest + 1, newest + 3 * Self.day, newest - 5 * Self.hour + 123_457, newest - 2 * Self.day,
                                start + Self.day + 17, start + 3 * Self.day + 7 * Self.hour]
                for to in instants {
                    for days: Int64 in [1, 3, 14] {
                        let from = to - days * Self.day
                        guard rollup.covers(from: from) else { continue }
                        let expected = Self.latestTrack(applied, from: from, to: to)
                        let plain = rollup.latestTrackSites(from: from, to: to, dimension: nil)
                        let perCode = rollup.latestTrackSites(from: from, to: to, dimension: Self.phpMinor)
                        XCTAssertEqual(plain.total, expected.total, "commit \(commit): active before \(to) over \(days)d")
                        XCTAssertEqual(perCode.total, expected.total)
                        XCTAssertEqual(Self.byValue(rollup, perCode.perCode), expected.perValue, "commit \(commit): latest per value before \(to)")
                    }
                }
                // Ranges with and without whole days inside, cut inside hours, past the newest event.
                let ranges: [(Int64, Int64)] = [(start, newest + 1), (start + 3 * Self.hour + 11, start + 4 * Self.day - 99),
                                                (start + 30 * Self.hour, start + 31 * Self.hour + 5), (newest - 3 * Self.day + 1, newest + Self.day),
                                                (start - 3 * Self.day, start + 9 * Self.day)]
                for (from, to) in ranges where rollup.covers(from: from) {
                    for skips in [false, true] {
                        XCTAssertEqual(Self.byValue(rollup, rollup.distinctPerCode(skips: skips, dimension: Self.phpMinor, from: from, to: to)),
                                       Self.distinctPerValue(applied, skips: skips, from: from, to: to),
                                       "commit \(commit): distinct per value \(skips ? "skips" : "sites") \(from)…\(to)")
                        for interval in [BucketInterval.day, .week, .month] {
                            guard let starts = interval.starts(covering: TimeRange(from: from, to: to), limit: 100) else { continue }
                            for bucket in starts {
                                let (low, high) = (max(from, bucket), min(to, interval.next(after: bucket)))
                                XCTAssertEqual(Self.byValue(rollup, rollup.distinctPerCode(skips: skips, dimension: Self.phpMinor, interval: interval,
                                                                                           bucketStart: bucket, from: from, to: to)),
                                               Self.distinctPerValue(applied, skips: skips, from: low, to: high),
                                               "commit \(commit): \(interval) bucket \(bucket) of \(from)…\(to)")
                            }
                        }
                    }
                }
            }
        }
        XCTAssertFalse(rollup.daySpanCache.withLock { $0.isEmpty }, "partial buckets used cached day spans")
        if windowHours >= 10 * 24 { XCTAssertGreaterThan(shrinkingChecks, 100) }
        if windowHours < 10 * 24 {
            XCTAssertFalse(rollup.covers(from: start), "the window dropped the first hours")
        }
    }
}
