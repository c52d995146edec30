import Core
import Foundation
import XCTest
@testable import Ingest
@testable import Workload

final class GeneratorTests: XCTestCase {
    private var directories: [String] = []

    override func tearDown() {
        for directory in directories { _ = try? FileManager.default.removeItem(atPath: directory) }
        directories = []
    }

    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "trackhouse-generator-\(UUID().uuidString)"
        directories.append(path)
        return path
    }

    private func options(_ directory: String, seed: UInt64 = 42) -> GeneratorOptions {
        GeneratorOptions(outDirectory: directory, projects: 5, sites: 1_500, weeks: 8, seed: seed)
    }

    /// Every file under `root`, as relative path → bytes.
    private func snapshot(_ root: String) throws -> [(String, [UInt8])] {
        try FileIO.walkFiles(root).map { (String($0.dropFirst(root.count)), try FileIO.readFile($0)) }
    }

    func testSameSeedGivesByteIdenticalOutput() throws {
        let first = temporaryDirectory(), second = temporaryDirectory(), other = temporaryDirectory()
        let summaryA = try WorkloadGenerator.generate(options: options(first))
        let summaryB = try WorkloadGenerator.generate(options: options(second))
        XCTAssertEqual(summaryA, summaryB)
        let filesA = try snapshot(first), filesB = try snapshot(second)
        XCTAssertEqual(filesA.map(\.0), filesB.map(\.0))
        for ((path, bytesA), (_, bytesB)) in zip(filesA, filesB) { XCTAssertTrue(bytesA == bytesB, path) }
        XCTAssertEqual(filesA.count, summaryA.files + 1, "raw files plus projects.json")

        _ = try WorkloadGenerator.generate(options: options(other, seed: 43))
        let filesOther = try snapshot(other)
        XCTAssertFalse(filesOther.map(\.1) == filesA.map(\.1), "another seed gives other data")
    }

    func testRefusesADirectoryThatAlreadyHasRawFiles() throws {
        let directory = temporaryDirectory()
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: directory, projects: 1, sites: 5, weeks: 1))
        XCTAssertThrowsError(try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: directory, projects: 1, sites: 5, weeks: 1)))
    }

    func testProjectsFile() throws {
        let directory = temporaryDirectory()
        _ = try WorkloadGenerator.generate(options: GeneratorOptions(outDirectory: directory, projects: 14, sites: 10, weeks: 1))
        let registry = try ProjectRegistry.parse(try FileIO.readFile(directory + "/projects.json"), path: "projects.json")
        XCTAssertEqual(registry.projects.count, 14)
        XCTAssertEqual(registry.projects[0].id, "acme-seo")
        XCTAssertEqual(Set(registry.projects.map(\.id)).count, 14)
        for project in registry.projects {
            XCTAssertTrue(ProjectRegistry.isValidProjectID(project.id), project.id)
            XCTAssertNotNil(UUID(uuidString: project.hash), project.hash)
            XCTAssertTrue(project.tokens.isEmpty)
            XCTAssertFalse(project.deactivationReasons.isEmpty)
            XCTAssertEqual(Set(project.extraFields.map(\.type.rawValue)), ["int", "string", "float", "bool"], project.id)
        }
        XCTAssertTrue(registry.projects.contains { $0.type == "theme" })
    }

    /// Reads back every line: the layout, the envelope format, and the workload's traits.
    func testEveryLineDecodesAndTheWorkloadIsPlausible() throws {
        let directory = temporaryDirectory()
        let summary = try WorkloadGenerator.generate(options: options(directory))
        let registry = try ProjectRegistry.parse(try FileIO.readFile(directory + "/projects.json"), path: "projects.json")
        let files = RawLayout(dataDirectory: directory).listFiles()
        XCTAssertEqual(files.count, summary.files)
        XCTAssertEqual(files.reduce(Int64(0)) { $0 + (FileIO.fileSize($1.path) ?? 0) }, summary.bytes)

        var lineCount = 0
        var ids = Set<String>()
        var duplicates = 0
        var routes: [Envelope.Route: Int] = [:]
        var unknown = 0, missingHash = 0, jsonLeaves = 0, oldClients = 0, yesNo = 0, uppercaseURLs = 0
        var previouslySkipped = 0, trackingSkipped = 0, reasonless = 0, customReasons = 0, plugins = 0
        var previousMicros: [String: Int64] = [:]
        for file in files {
            XCTAssertTrue(file.canonicalName.hasPrefix("gen-00000"), file.path)
            try RawFileReader.forEachLine(path: file.path, tornTail: { _ in XCTFail("torn tail in \(file.path)") }) { line in
                lineCount += 1
                let envelope = try Envelope.decode(line.bytes)
                XCTAssertEqual(envelope.route, file.route)
                XCTAssertEqual(RawLayout.hourIndex(micros: envelope.receivedAtMicros), file.hourIndex)
                XCTAssertGreaterThanOrEqual(envelope.receivedAtMicros, summary.startMicros)
                XCTAssertLessThan(envelope.receivedAtMicros, summary.endMicros)
                XCTAssertGreaterThanOrEqual(envelope.receivedAtMicros, previousMicros[file.path] ?? 0, "time order in a file")
                previousMicros[file.path] = envelope.receivedAtMicros
                XCTAssertEqual(envelope.line(), Array(line.bytes) + [0x0A], "Envelope.line() form")
                if !ids.insert(envelope.id).inserted { duplicates += 1; return }
                routes[envelope.route, default: 0] += 1
                let payload = envelope.payload
                if let hash = payload["hash"]?.stringValue {
                    if registry.project(hash: hash) == nil { unknown += 1 }
                } else {
                    missingHash += 1
                }
                if payload["active_plugins"].map({ if case .number = $0 { return true } else { return false } }) == true { jsonLeaves += 1 }
                if payload["version"] != nil && payload["theme"] != nil && payload["user_email"] != nil { oldClients += 1 }
                if payload["server"]?["php_curl"]?.stringValue == "Yes" { yesNo += 1 }
                if let url = payload["url"]?.stringValue, url != url.lowercased() { uppercaseURLs += 1 }
                if envelope.route == .trackingSkipped {
                    XCTAssertEqual(Set(payload.keys), ["hash", "previously_skipped", "client"])
                    if payload["previously_skipped"]?.scalarText == "1" { previouslySkipped += 1 }
                }
                if envelope.route == .track, payload["tracking_skipped"]?.scalarText == "1" { trackingSkipped += 1 }
                if envelope.route == .deactivate, payload["hash"] != nil {
                    if let reason = payload["reason_id"]?.stringValue {
                        if registry.projects.contains(where: { $0.deactivationReasons.contains(reason) }) { customReasons += 1 }
                    } else {
                        reasonless += 1
                    }
                }
                if payload["plugins"] != nil { plugins += 1 }
            }
        }
        XCTAssertEqual(lineCount, summary.lines)
        XCTAssertEqual(duplicates, summary.duplicateLines)
        XCTAssertEqual(routes, summary.eventsByRoute)
        XCTAssertEqual(unknown + missingHash, summary.unknownProjectEvents)
        let events = summary.events
        XCTAssertGreaterThan(events, 5_000, "1,500 sites over 8 weeks send weekly heartbeats")
        for route in Envelope.Route.allCases { XCTAssertGreaterThan(routes[route] ?? 0, 0, "\(route) present") }
        XCTAssertGreaterThan(routes[.track] ?? 0, 10 * (routes[.deactivate] ?? 0), "heartbeats dominate")
        XCTAssertGreaterThan(duplicates, 0)
        XCTAssertGreaterThan(unknown, 0)
        XCTAssertGreaterThan(missingHash, 0, "SDK 1.2.3 deactivations without hash")
        XCTAssertLessThan(Double(unknown + missingHash), Double(events) * 0.05, "unknown projects stay a small share")
        XCTAssertGreaterThan(jsonLeaves, 0)
        XCTAssertGreaterThan(oldClients, 0)
        XCTAssertGreaterThan(yesNo, events / 2)
        XCTAssertGreaterThan(uppercaseURLs, 0)
        XCTAssertGreaterThan(previouslySkipped, 0)
        XCTAssertGreaterThan(trackingSkipped, 0)
        XCTAssertGreaterThan(reasonless, 0, "theme switches send no reason")
        XCTAssertGreaterThan(customReasons, 0)
        XCTAssertGreaterThan(plugins, events / 3)
    }

    func testProgressIsReportedAndEndsWithTheSummary() throws {
        var reports: [GeneratorSummary] = []
        let summary = try WorkloadGenerator.generate(
            options: GeneratorOptions(outDirectory: temporaryDirectory(), projects: 2, sites: 50, weeks: 2, seed: 7)) {
            reports.append($0)
        }
        XCTAssertGreaterThan(reports.count, 7)
        XCTAssertEqual(reports.last, summary)
        XCTAssertEqual(reports.map(\.events), reports.map(\.events).sorted())
    }

    func testSampleEvents() throws {
        let registry = WorkloadGenerator.sampleRegistry(seed: 3)
        let track = WorkloadGenerator.sampleEvent(seed: 3)
        XCTAssertEqual(track, WorkloadGenerator.sampleEvent(seed: 3), "deterministic")
        XCTAssertEqual(track.route, .track)
        XCTAssertNotNil(registry.project(hash: track.payload["hash"]?.stringValue ?? ""))
        for key in ["url", "site", "admin_email", "server", "wp", "users", "project_version", "client"] {
            XCTAssertNotNil(track.payload[key], key)
        }
        XCTAssertEqual(track.payload["server"]?["php_soap"]?.stringValue.map { ["Yes", "No"].contains($0) }, true)
        XCTAssertTrue(track.userAgent?.hasPrefix("Appsero/") ?? false)
        XCTAssertEqual(try Envelope.decode(Array(track.line().dropLast())), track)

        let skip = WorkloadGenerator.sampleEvent(seed: 3, route: .trackingSkipped)
        XCTAssertEqual(Set(skip.payload.keys), ["hash", "previously_skipped", "client"])
        let old = WorkloadGenerator.sampleEvent(seed: 3, route: .deactivate, client: .old)
        XCTAssertNotNil(old.payload["version"]); XCTAssertNotNil(old.payload["theme"]); XCTAssertNil(old.payload["project_version"])
        let json = WorkloadGenerator.sampleEvent(seed: 3, client: .jsonBody)
        if case .number? = json.payload["active_plugins"] {} else { XCTFail("JSON-body sample has number leaves") }
    }

    /// The fast byte renderer and the `JSONObject` path (what samples return) agree byte for
    /// byte over many sites, clients, routes and times.
    func testByteRenderingMatchesEnvelopeLine() {
        let projects = ProjectFactory.make(count: 6, seed: 99)
        let clock = GeneratorClock(startMicros: GeneratorOptions.defaultEndMicros - 20 * GeneratorTime.week,
                                   endMicros: GeneratorOptions.defaultEndMicros)
        let builder = SitePayloadBuilder(projects: projects, ghostHashes: ProjectFactory.ghostHashes(seed: 99), clock: clock)
        var renderer = SiteEventRenderer(builder: builder)
        defer { renderer.deallocate() }
        var random = SeededRandom(seed: 5)
        let events: [SiteEventKind] = [.track(trackingSkipped: false), .track(trackingSkipped: true), .deactivate,
                                       .skip(previouslySkipped: false), .skip(previouslySkipped: true)]
        for index in 0..<2_000 {
            let site = SiteState(identitySeed: random.next(), project: Int32(random.below(8)) - 2,
                                 client: UInt8(random.below(GeneratorCatalog.clientVersions.count)), action: .heartbeat,
                                 phpLevel: UInt8(random.below(5)), wpLevel: UInt8(random.below(13)),
                                 release: UInt32(random.below(90)), sentEvents: UInt32(random.below(60)),
                                 sendsJSONBody: random.chance(0.3), sendsUppercaseHash: random.chance(0.2))
            let event = events[index % events.count]
            let micros = clock.startMicros + Int64(random.below(Int(clock.endMicros - clock.startMicros)))
            var forBytes = random, forObject = random
            _ = renderer.renderLine(site: site, event: event, micros: micros, random: &forBytes)
            let expected = renderer.envelope(site: site, event: event, micros: micros, random: &forObject).line()
            XCTAssertEqual(Array(renderer.sink.bytes), expected, "site \(index)")
            random = forBytes
        }
    }

    func testUserAgentCarriesTheMD5OfTheURL() {
        XCTAssertEqual(SDKFingerprint.md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(SDKFingerprint.md5Hex("https://example.com"), "c984d06aafbecf6bc55569f964148ea3")
        XCTAssertEqual(SDKFingerprint.md5Hex(String(repeating: "a", count: 200)), "887f30b43b2867f4a9accceee7d16e6c")
        XCTAssertEqual(SDKFingerprint.md5Hex(String(repeating: "b", count: 55)), Self.md5Of55Bs)
        XCTAssertEqual(SDKFingerprint.md5Hex(String(repeating: "c", count: 64)), Self.md5Of64Cs)
        let track = WorkloadGenerator.sampleEvent(seed: 11)
        if let url = track.payload["url"]?.stringValue {
            XCTAssertEqual(track.userAgent, "Appsero/\(SDKFingerprint.md5Hex(url));")
        }
    }

    static let md5Of55Bs = "73979428bc0de15c39d14ae331b35295"
    static let md5Of64Cs = "bcd5708ed79b18f0f0aaa27fd0056d86"

    func testSeededRandomIsStable() {
        var random = SeededRandom(seed: 1)
        let first = (0..<3).map { _ in random.next() }
        var again = SeededRandom(seed: 1)
        XCTAssertEqual(first, (0..<3).map { _ in again.next() })
        var bounded = SeededRandom(seed: 9)
        for _ in 0..<1_000 { XCTAssertLessThan(bounded.below(7), 7) }
    }
}
