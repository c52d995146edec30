/// Writes the body a site's SDK would send, in the shape ingest stores it: form bodies as
/// nested objects with string leaves, JSON-body clients with number and bool leaves.
/// Key order follows the SDK's `get_tracking_data()`.
struct SitePayloadBuilder {
    let projects: [GeneratedProject]
    let ghostHashes: [String]
    let clock: GeneratorClock
    private let uppercaseHashes: [String]
    private let uppercaseGhostHashes: [String]

    init(projects: [GeneratedProject], ghostHashes: [String], clock: GeneratorClock) {
        self.projects = projects
        self.ghostHashes = ghostHashes
        self.clock = clock
        uppercaseHashes = projects.map { $0.project.hash.uppercased() }
        uppercaseGhostHashes = ghostHashes.map { $0.uppercased() }
    }

    func hash(for site: SiteState) -> String {
        if site.project >= 0 {
            let index = Int(site.project)
            return site.sendsUppercaseHash ? uppercaseHashes[index] : projects[index].project.hash
        }
        let index = Int(-1 - site.project) % ghostHashes.count
        return site.sendsUppercaseHash ? uppercaseGhostHashes[index] : ghostHashes[index]
    }

    func project(for site: SiteState) -> GeneratedProject? {
        site.project >= 0 ? projects[Int(site.project)] : nil
    }

    /// Writes the payload's members into `sink` (an open object). `url` is the site's home
    /// URL at this time (`SiteProfile.url(atFraction:)`).
    func write<Sink: PayloadSink>(site: SiteState, profile: SiteProfile, url: String, kind: SiteEventKind,
                                  atMicros micros: Int64, random: inout SeededRandom, into sink: inout Sink) {
        let json = site.sendsJSONBody
        switch kind {
        case .skip(let previouslySkipped):
            sink.string("hash", hash(for: site))
            flag(&sink, "previously_skipped", previouslySkipped, json: json, yesNo: false)
            sink.string("client", site.clientVersion)
            return
        case .deactivate where site.hasDeactivateHashBug:
            let (reasonID, reasonInfo) = reason(site: site, random: &random)
            sink.string("reason_id", reasonID ?? "none")
            sink.string("reason_info", reasonInfo ?? "")
            sink.string("client", site.clientVersion)
            return
        default:
            break
        }
        let project = project(for: site)
        sink.string("url", url)
        sink.string("site", profile.siteName.isEmpty ? url : profile.siteName)
        sink.string("admin_email", profile.adminEmail)
        if site.isOldClient { sink.string("user_email", profile.userEmail) }
        sink.string("first_name", profile.firstName)
        sink.string("last_name", profile.lastName)
        sink.string("hash", hash(for: site))
        writeServer(site: site, profile: profile, json: json, into: &sink)
        writeWordPress(site: site, profile: profile, json: json, into: &sink)
        writeUsers(site: site, profile: profile, json: json, into: &sink)
        sink.count("active_plugins", profile.activePlugins, asNumber: json)
        sink.count("inactive_plugins", profile.inactivePlugins, asNumber: json)
        if profile.reportsIP { sink.ipv4("ip_address", profile.publicIPv4) } else { sink.string("ip_address", "") }
        let version = projectVersion(site: site, project: project)
        if site.isOldClient {
            sink.string("theme", GeneratorCatalog.themes[profile.themeIndex].slug)
            sink.string("version", version)
        } else {
            sink.string("project_version", version)
            var trackingSkipped = false
            if case .track(let skipped) = kind { trackingSkipped = skipped }
            flag(&sink, "tracking_skipped", trackingSkipped, json: json, yesNo: false)
            if site.sendsIsLocalAndPlugins {
                flag(&sink, "is_local", profile.isLocal, json: json, yesNo: false)
                if project?.sendsPluginList ?? true, profile.pluginMask != 0 {
                    writePlugins(profile: profile, micros: micros, into: &sink)
                }
            }
        }
        writeExtra(site: site, profile: profile, project: project, json: json, random: &random, into: &sink)
        if kind == .deactivate {
            let (reasonID, reasonInfo) = reason(site: site, random: &random)
            if let reasonID { sink.string("reason_id", reasonID) }
            if let reasonInfo { sink.string("reason_info", reasonInfo) }
        }
        sink.string("client", site.clientVersion)
    }

    // MARK: Groups

    private func writeServer<Sink: PayloadSink>(site: SiteState, profile: SiteProfile, json: Bool, into sink: inout Sink) {
        sink.beginObject("server")
        // SERVER_SOFTWARE is unset under CLI cron, and the SDK then leaves the key out.
        if let software = profile.serverSoftware { sink.string("software", software) }
        let php = GeneratorCatalog.phpVersions[Int(site.phpLevel)]
        sink.string("php_version", php.patches[profile.phpPatchIndex % php.patches.count])
        sink.string("mysql_version", profile.mysqlVersion)
        sink.string("php_max_upload_size", profile.uploadSize)
        sink.string("php_default_timezone", profile.timezone)
        flag(&sink, "php_soap", profile.soap, json: json, yesNo: true)
        flag(&sink, "php_fsockopen", profile.fsockopen, json: json, yesNo: true)
        flag(&sink, "php_curl", profile.curl, json: json, yesNo: true)
        sink.endObject()
    }

    private func writeWordPress<Sink: PayloadSink>(site: SiteState, profile: SiteProfile, json: Bool, into sink: inout Sink) {
        sink.beginObject("wp")
        sink.string("memory_limit", profile.memoryLimit)
        flag(&sink, "debug_mode", profile.debugMode, json: json, yesNo: true)
        sink.string("locale", GeneratorCatalog.locales[profile.localeIndex])
        sink.string("version", GeneratorCatalog.wpVersions[Int(site.wpLevel)])
        flag(&sink, "multisite", profile.multisite, json: json, yesNo: true)
        if !site.isOldClient {
            let theme = GeneratorCatalog.themes[profile.themeIndex]
            sink.string("theme_slug", theme.slug)
            sink.string("theme_name", theme.name)
            sink.string("theme_version", theme.version)
            sink.string("theme_uri", theme.uri)
            sink.string("theme_author", theme.author)
        }
        sink.endObject()
    }

    /// `count_users()`: roles with no users are left out; sites slowly gain subscribers.
    private func writeUsers<Sink: PayloadSink>(site: SiteState, profile: SiteProfile, json: Bool, into sink: inout Sink) {
        let growth = Int(site.sentEvents)
        let subscribers = profile.subscribers > 0 ? profile.subscribers + growth : 0
        let customers = profile.customers > 0 ? profile.customers + 3 * growth : 0
        let shopManagers = profile.customers > 0 ? 1 : 0
        sink.beginObject("users")
        sink.count("total", profile.administrators + profile.editors + profile.authors + subscribers + customers + shopManagers,
                   asNumber: json)
        if profile.administrators > 0 { sink.count("administrator", profile.administrators, asNumber: json) }
        if profile.editors > 0 { sink.count("editor", profile.editors, asNumber: json) }
        if profile.authors > 0 { sink.count("author", profile.authors, asNumber: json) }
        if subscribers > 0 { sink.count("subscriber", subscribers, asNumber: json) }
        if customers > 0 { sink.count("customer", customers, asNumber: json) }
        if shopManagers > 0 { sink.count("shop_manager", shopManagers, asNumber: json) }
        sink.endObject()
    }

    /// Active plugins with their versions, which move forward over the range.
    private func writePlugins<Sink: PayloadSink>(profile: SiteProfile, micros: Int64, into sink: inout Sink) {
        let age = Int(clock.fraction(micros) * 3)
        sink.beginObject("plugins")
        for index in 0..<GeneratorCatalog.plugins.count where profile.pluginMask & (1 << UInt32(index)) != 0 {
            let plugin = GeneratorCatalog.plugins[index]
            let versionIndex = min(plugin.versions.count - 1, (profile.pluginVersionOffset + age) % (plugin.versions.count + 1))
            sink.beginObject(.dynamic(plugin.slug))
            sink.string("name", plugin.name)
            sink.string("version", plugin.versions[versionIndex])
            sink.endObject()
        }
        sink.endObject()
    }

    /// The project's declared extras (as the developer's filter sends them), sometimes an
    /// undeclared key, and for a few sites values that do not cast.
    private func writeExtra<Sink: PayloadSink>(site: SiteState, profile: SiteProfile, project: GeneratedProject?, json: Bool,
                                               random: inout SeededRandom, into sink: inout Sink) {
        guard let project else {
            if profile.sendsUndeclaredExtra {
                sink.beginObject("extra")
                sink.string("debug_token", "x1")
                sink.endObject()
            }
            return
        }
        sink.beginObject("extra")
        let bad = profile.sendsBadExtras && random.chance(0.5)
        for field in project.project.extraFields {
            let key = PayloadKey.dynamic(field.key)
            switch field.type {
            case .int:
                if bad {
                    sink.string(key, random.pick(["many", "n/a", "1,204", "12.5"]))
                } else {
                    sink.count(key, profile.totalPostsBase + Int(site.sentEvents) * (field.key.utf8.count % 4), asNumber: json)
                }
            case .string:
                sink.string(key, field.key == "store_currency" ? SiteProfile.currencies[profile.currencyIndex]
                                                                     : random.pick(["elementor", "gutenberg", "pro", "starter", "agency"]))
            case .float:
                if bad {
                    sink.string(key, random.pick(["NaN", "n/a", "1,5"]))
                } else {
                    // Per key and per week a little different, like a real ratio would be.
                    let hundredths = profile.conversionRateHundredths + Int(site.sentEvents % 7) * 10 + field.key.utf8.count * 37
                    let fraction = hundredths % 100
                    let text = "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
                    if json { sink.number(key, text) } else { sink.string(key, text) }
                }
            case .bool:
                if bad { sink.string(key, "maybe") } else {
                    flag(&sink, key, profile.extraFlag, json: json, yesNo: random.chance(0.5))
                }
            }
        }
        if profile.sendsUndeclaredExtra {
            sink.string(.dynamic(GeneratorCatalog.undeclaredExtraKeys[profile.totalPostsBase % 3]), "v\(profile.currencyIndex)")
        }
        sink.endObject()
    }

    private func projectVersion(site: SiteState, project: GeneratedProject?) -> String {
        let major = project?.majorVersion ?? 1
        return "\(major).\(site.release / 6).\(site.release % 6)"
    }

    /// The deactivation reason: plugin modals send a built-in, custom, unknown or `none`
    /// reason; themes switched away send none at all (old clients `none`).
    private func reason(site: SiteState, random: inout SeededRandom) -> (id: String?, info: String?) {
        if let project = project(for: site), project.isTheme {
            return site.isOldClient ? ("none", "") : (nil, nil)
        }
        let info = random.pick(GeneratorCatalog.reasonTexts)
        switch random.below(100) {
        case 0..<12: return ("none", "")
        case 12..<22:
            let custom = project(for: site)?.project.deactivationReasons ?? []
            return (custom.isEmpty ? "other" : random.pick(custom), info)
        case 22..<26: return (random.pick(GeneratorCatalog.unknownReasons), info)
        default:
            return (GeneratorCatalog.builtInReasons[Self.builtInReasonChoice.pick(&random)], info)
        }
    }

    static let builtInReasonChoice = WeightedChoice(GeneratorCatalog.builtInReasonWeights)

    /// A flag the way the SDK sends it: `Yes`/`No` for environment checks, `1`/`0` for PHP
    /// booleans through `http_build_query`; JSON clients send true/false.
    @inline(__always)
    private func flag<Sink: PayloadSink>(_ sink: inout Sink, _ key: PayloadKey, _ value: Bool, json: Bool, yesNo: Bool) {
        if json {
            sink.bool(key, value)
        } else if yesNo {
            sink.string(key, value ? "Yes" : "No")
        } else {
            sink.string(key, value ? "1" : "0")
        }
    }
}
