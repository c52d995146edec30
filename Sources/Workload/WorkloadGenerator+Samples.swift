import Ingest

/// Single realistic events for tests that need a believable payload without a whole workload.
extension WorkloadGenerator {
    /// The SDK client generation a sample site runs.
    public enum SampleClient: Sendable {
        /// SDK 2.0.4, form body with string leaves.
        case current
        /// SDK 1.1.9: the small payload with `version`, `theme` and `user_email`.
        case old
        /// A JSON-body client: numbers and bools as leaves.
        case jsonBody
    }

    /// The projects (`sampleEvent`'s hashes belong to the first one) for a seed.
    public static func sampleRegistry(seed: UInt64, projects: Int = 1) -> ProjectRegistry {
        ProjectRegistry(projects: ProjectFactory.make(count: max(1, projects), seed: seed).map(\.project))
    }

    /// One event of one site of `sampleRegistry(seed:)`'s first project, received at `atMicros`.
    /// `.deactivate` carries a reason (theme projects aside); `.trackingSkipped` is a first opt-out.
    public static func sampleEvent(seed: UInt64, route: Envelope.Route = .track, client: SampleClient = .current,
                                   atMicros: Int64 = GeneratorOptions.defaultEndMicros - 86_400_000_000) -> Envelope {
        let projects = ProjectFactory.make(count: 1, seed: seed)
        let clock = GeneratorClock(startMicros: atMicros - 12 * GeneratorTime.week, endMicros: atMicros + GeneratorTime.hour)
        let builder = SitePayloadBuilder(projects: projects, ghostHashes: ProjectFactory.ghostHashes(seed: seed), clock: clock)
        var random = SeededRandom(seed: seed, stream: 0x5341_4D50)  // "SAMP"
        let site = SiteState(identitySeed: random.next(), project: 0, client: client == .old ? 8 : 0, action: .heartbeat,
                             phpLevel: UInt8(random.below(GeneratorCatalog.phpVersions.count)),
                             wpLevel: UInt8(clock.latestWPLevel(atMicros)),
                             release: UInt32(clock.latestRelease(atMicros, project: projects[0])),
                             sentEvents: UInt32(random.between(1...40)), sendsJSONBody: client == .jsonBody,
                             sendsUppercaseHash: false)
        let event: SiteEventKind
        switch route {
        case .track: event = .track(trackingSkipped: false)
        case .deactivate: event = .deactivate
        case .trackingSkipped: event = .skip(previouslySkipped: false)
        }
        let renderer = SiteEventRenderer(builder: builder)
        defer { renderer.deallocate() }
        return renderer.envelope(site: site, event: event, micros: atMicros, random: &random)
    }
}
