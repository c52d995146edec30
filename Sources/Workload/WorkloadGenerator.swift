import Core
import Ingest

/// Generates a realistic Appsero workload: `projects.json` plus raw partitions exactly as
/// ingest writes them (CONTRACT §2, §3), for tests, demos and benchmarks.
///
/// Sites are born over the range (some already exist at its start), spread over projects
/// with a skew, and then live: a weekly `track` heartbeat with hours of jitter, versions
/// drifting forward, deactivations (with built-in, custom, unknown or no reasons),
/// re-activations, opt-outs (`tracking-skipped`) and later opt-ins. Rough edges real traffic
/// has are included on purpose: old clients' payloads, odd URLs, unknown and missing hashes,
/// duplicate lines, JSON bodies with number and bool leaves, extras that do not cast.
///
/// The same options and seed give byte-identical output. Sites are simulated in time order
/// through a heap, so memory holds the sites and one hour of buffered output, never the events.
public enum WorkloadGenerator {
    /// Share of sites whose events carry a hash that is not in projects.json.
    static let ghostSiteShare = 0.01
    /// Share of events written twice (the same line, the same id).
    static let duplicateShare = 0.003
    static let jsonBodySiteShare = 0.04
    static let uppercaseHashSiteShare = 0.03
    /// Share of sites already installed when the range starts (they begin with a heartbeat).
    static let existingSiteShare = 0.4

    public static func generate(options: GeneratorOptions,
                                progress: ((GeneratorSummary) -> Void)? = nil) throws -> GeneratorSummary {
        guard options.projects >= 1, options.sites >= 0, options.weeks >= 1 else {
            throw GeneratorError(message: "the generator needs at least 1 project and 1 week (got \(options.projects) projects, \(options.weeks) weeks)")
        }
        guard options.sites <= Int(Int32.max) else { throw GeneratorError(message: "too many sites: \(options.sites)") }
        let rawRoot = RawLayout(dataDirectory: options.outDirectory).rawRoot
        if !FileIO.walkFiles(rawRoot).isEmpty {
            throw GeneratorError(message: "\(rawRoot) already holds files; generate into an empty data directory")
        }

        let projects = ProjectFactory.make(count: options.projects, seed: options.seed)
        let registry = ProjectRegistry(projects: projects.map(\.project))
        try FileIO.makeDirectories(options.outDirectory)
        try FileIO.writeFileAtomically(options.outDirectory + "/projects.json", registry.serialized())

        let clock = GeneratorClock(startMicros: options.startMicros, endMicros: options.endMicros)
        let builder = SitePayloadBuilder(projects: projects, ghostHashes: ProjectFactory.ghostHashes(seed: options.seed),
                                         clock: clock)
        var random = SeededRandom(seed: options.seed, stream: 0x5349_5445)  // "SITE"
        var sites: [SiteState] = []
        sites.reserveCapacity(options.sites)
        var queue = SiteEventQueue(capacity: options.sites)
        let projectChoice = WeightedChoice((0..<options.projects).map { 1 / Double($0 + 1) })  // Zipf-like
        for index in 0..<options.sites {
            let (site, firstMicros) = newSite(index: index, options: options, clock: clock, projects: projects,
                                              projectChoice: projectChoice, random: &random)
            sites.append(site)
            if firstMicros < options.endMicros { queue.push(.init(micros: firstMicros, site: Int32(index))) }
        }

        var summary = GeneratorSummary()
        summary.projects = options.projects
        summary.sites = options.sites
        summary.startMicros = options.startMicros
        summary.endMicros = options.endMicros
        let writer = GeneratorFileWriter(outDirectory: options.outDirectory)
        var renderer = SiteEventRenderer(builder: builder)
        defer { renderer.deallocate() }
        var reportedDay = Int64.min
        while let due = queue.popMin() {
            let siteIndex = Int(due.site)
            let project = builder.project(for: sites[siteIndex])
            let (event, nextMicros) = sites[siteIndex].fire(at: due.micros, clock: clock, project: project, random: &random)
            if let nextMicros, nextMicros < options.endMicros {
                queue.push(.init(micros: max(nextMicros, due.micros + 1), site: due.site))
            }
            guard let event else { continue }
            let route = renderer.renderLine(site: sites[siteIndex], event: event, micros: due.micros, random: &random)
            try writer.append(renderer.sink.bytes, route: route, micros: due.micros)
            summary.eventsByRoute[route, default: 0] += 1
            if sites[siteIndex].project < 0 || (route == .deactivate && sites[siteIndex].hasDeactivateHashBug) {
                summary.unknownProjectEvents += 1
            }
            if random.chance(duplicateShare) {
                try writer.append(renderer.sink.bytes, route: route, micros: due.micros, duplicateFile: random.chance(0.5))
                summary.duplicateLines += 1
            }
            let day = due.micros / GeneratorTime.day
            if day != reportedDay, let progress {
                reportedDay = day
                summary.files = writer.files
                summary.bytes = writer.bytes
                progress(summary)
            }
        }
        try writer.finishHour()
        summary.files = writer.files
        summary.bytes = writer.bytes
        progress?(summary)
        return summary
    }

    /// A site's fixed traits and its first action and time.
    static func newSite(index: Int, options: GeneratorOptions, clock: GeneratorClock, projects: [GeneratedProject],
                        projectChoice: WeightedChoice, random: inout SeededRandom) -> (SiteState, Int64) {
        let identitySeed = SeededRandom(seed: options.seed, stream: 0x1_0000_0000 + UInt64(index)).peekSeed()
        let isGhost = random.chance(ghostSiteShare)
        let projectIndex = isGhost ? -1 - Int32(random.below(3)) : Int32(projectChoice.pick(&random))
        let client = UInt8(clientChoice.pick(&random))
        let existing = random.chance(existingSiteShare)
        let range = Double(options.endMicros - options.startMicros)
        let firstMicros: Int64
        if existing {
            firstMicros = options.startMicros + Int64(random.unit() * Double(GeneratorTime.week))
        } else {
            // Installs grow over time: later weeks get more new sites.
            firstMicros = options.startMicros + Int64(random.unit().squareRoot() * range)
        }
        let fraction = clock.fraction(firstMicros)
        let phpWeights = zip(GeneratorCatalog.phpWeightsAtStart, GeneratorCatalog.phpWeightsAtEnd)
            .map { $0 * (1 - fraction) + $1 * fraction }
        let latestWP = clock.latestWPLevel(firstMicros)
        let project = projectIndex >= 0 ? projects[Int(projectIndex)] : nil
        let latestRelease = clock.latestRelease(firstMicros, project: project)
        let site = SiteState(
            identitySeed: identitySeed, project: projectIndex, client: client,
            action: existing ? .heartbeat : .firstContact,
            phpLevel: UInt8(WeightedChoice(phpWeights).pick(&random)),
            wpLevel: UInt8(max(0, latestWP - (random.chance(0.6) ? 0 : random.between(1...4)))),
            release: UInt32(max(0, latestRelease - random.between(0...3))),
            sendsJSONBody: random.chance(jsonBodySiteShare),
            sendsUppercaseHash: random.chance(uppercaseHashSiteShare))
        return (site, firstMicros)
    }

    static let clientChoice = WeightedChoice(GeneratorCatalog.clientWeights)
}

extension SeededRandom {
    /// The first output of this generator: a compact seed for a derived stream.
    fileprivate func peekSeed() -> UInt64 {
        var copy = self
        return copy.next()
    }
}
