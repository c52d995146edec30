/// What a site sends next.
enum SiteEventKind: Equatable {
    case track(trackingSkipped: Bool)
    case deactivate
    case skip(previouslySkipped: Bool)
}

/// The time-dependent "world" the sites live in: where the range starts and ends, and which
/// WordPress release and project release are the newest at a given time.
struct GeneratorClock: Sendable {
    var startMicros: Int64
    var endMicros: Int64

    /// 0 at the start of the range, 1 at its end.
    func fraction(_ micros: Int64) -> Double {
        guard endMicros > startMicros else { return 1 }
        return min(1, max(0, Double(micros - startMicros) / Double(endMicros - startMicros)))
    }

    /// The newest WordPress release available: moves from 6.4 to 6.8 over the range.
    func latestWPLevel(_ micros: Int64) -> Int {
        let count = GeneratorCatalog.wpVersions.count
        return min(count - 1, 4 + Int(fraction(micros) * Double(count - 4)))
    }

    /// The project's newest release number at a time (releases every few weeks, forever).
    func latestRelease(_ micros: Int64, project: GeneratedProject?) -> Int {
        let interval = Int64(project?.releaseIntervalDays ?? 30) * GeneratorTime.day
        // Count releases from a fixed epoch so the version does not depend on the range chosen.
        return max(0, Int((micros - 1_700_000_000_000_000) / interval) + 8)
    }
}

/// One site's mutable state in the simulation (kept small: the generator holds every site).
struct SiteState {
    enum Action: UInt8 {
        case firstContact, heartbeat, deactivate, reactivate, skipAgain, optIn, deactivateWithoutOptIn
    }

    var identitySeed: UInt64
    /// Index into the generated projects; negative: ghost project `-1 - index` (unknown hash).
    var project: Int32
    var client: UInt8
    var action: Action
    var phpLevel: UInt8
    var wpLevel: UInt8
    var release: UInt32
    var sentEvents: UInt32 = 0
    /// A JSON-body client (the QA suite, custom integrations): numbers and bools as leaves.
    var sendsJSONBody: Bool
    var sendsUppercaseHash: Bool

    static let heartbeatInterval = GeneratorTime.week
    static let deactivationChancePerWeek = 0.012

    var clientVersion: String { GeneratorCatalog.clientVersions[Int(client)] }
    /// Clients before 1.1.12 send the small payload with `version`, `theme`, `user_email`.
    var isOldClient: Bool { client == 7 || client == 8 }
    /// `tracking-skipped` exists since 1.1.12.
    var canSkip: Bool { !isOldClient }
    /// `is_local` and the plugin list exist since 1.2.1.
    var sendsIsLocalAndPlugins: Bool { client <= 5 || client == 9 }
    /// 1.2.3 sent deactivations without `hash`.
    var hasDeactivateHashBug: Bool { client == 9 }

    /// Handles the due action at `micros`: the event to send now (if any) and when the site
    /// acts next (nil: the site is done).
    mutating func fire(at micros: Int64, clock: GeneratorClock, project: GeneratedProject?,
                       random: inout SeededRandom) -> (event: SiteEventKind?, nextMicros: Int64?) {
        sentEvents &+= 1
        switch action {
        case .firstContact:
            if canSkip && random.chance(0.16) {
                if random.chance(0.25) { action = .skipAgain; return (.skip(previouslySkipped: false), micros + weeks(1...8, &random)) }
                if random.chance(0.27) { action = .optIn; return (.skip(previouslySkipped: false), micros + weeks(1...10, &random)) }
                if random.chance(0.1) {
                    action = .deactivateWithoutOptIn
                    return (.skip(previouslySkipped: false), micros + weeks(1...12, &random))
                }
                return (.skip(previouslySkipped: false), nil)
            }
            action = .heartbeat
            return (.track(trackingSkipped: false), nextHeartbeat(after: micros, &random))
        case .heartbeat:
            drift(at: micros, clock: clock, project: project, random: &random)
            if random.chance(Self.deactivationChancePerWeek) {
                action = .deactivate
                return (.track(trackingSkipped: false), micros + Int64(random.between(1...160)) * GeneratorTime.hour)
            }
            return (.track(trackingSkipped: false), nextHeartbeat(after: micros, &random))
        case .deactivate, .deactivateWithoutOptIn:
            if action == .deactivate && random.chance(0.35) {
                action = .reactivate
                return (.deactivate, micros + weeks(1...10, &random))
            }
            return (.deactivate, nil)
        case .reactivate:
            // Activation with tracking allowed sends at once, then the weekly cron resumes.
            action = .heartbeat
            drift(at: micros, clock: clock, project: project, random: &random)
            return (.track(trackingSkipped: false), nextHeartbeat(after: micros, &random))
        case .skipAgain:
            if random.chance(0.2) { action = .optIn; return (.skip(previouslySkipped: true), micros + weeks(1...6, &random)) }
            if random.chance(0.2) { return (.skip(previouslySkipped: true), micros + weeks(2...8, &random)) }
            return (.skip(previouslySkipped: true), nil)
        case .optIn:
            action = .heartbeat
            return (.track(trackingSkipped: true), nextHeartbeat(after: micros, &random))
        }
    }

    /// WP-cron runs on a page view after the week is up: a delay of hours, sometimes a
    /// missed week when the site is down.
    private func nextHeartbeat(after micros: Int64, _ random: inout SeededRandom) -> Int64 {
        let delayMax = 20 * GeneratorTime.hour
        let u = random.unit()
        var next = micros + Self.heartbeatInterval + Int64(u * u * Double(delayMax)) + Int64(random.below(60_000_000))
        if random.chance(0.03) { next += Self.heartbeatInterval }
        return next
    }

    private func weeks(_ range: ClosedRange<Int>, _ random: inout SeededRandom) -> Int64 {
        Int64(random.between(range)) * GeneratorTime.week + Int64(random.below(Int(GeneratorTime.day)))
    }

    /// Versions move forward: WordPress auto-updates, the project's own updates, rare PHP upgrades.
    private mutating func drift(at micros: Int64, clock: GeneratorClock, project: GeneratedProject?,
                                random: inout SeededRandom) {
        let latestWP = clock.latestWPLevel(micros)
        if Int(wpLevel) < latestWP && random.chance(0.5) { wpLevel = UInt8(latestWP) }
        let latestRelease = clock.latestRelease(micros, project: project)
        if Int(release) < latestRelease && random.chance(0.4) { release = UInt32(latestRelease) }
        if phpLevel < UInt8(GeneratorCatalog.phpVersions.count - 1) && random.chance(0.008) { phpLevel += 1 }
    }
}
