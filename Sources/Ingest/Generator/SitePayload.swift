/// Builds the body a site's SDK would send, in the shape ingest stores it: form bodies as
/// nested objects with string leaves, JSON-body clients with number and bool leaves.
/// Key order follows the SDK's `get_tracking_data()`.
struct SitePayloadBuilder {
    let projects: [GeneratedProject]
    let ghostHashes: [String]
    let clock: GeneratorClock

    func hash(for site: SiteState) -> String {
        let hash = site.project >= 0 ? projects[Int(site.project)].project.hash
                                     : ghostHashes[Int(-1 - site.project) % ghostHashes.count]
        return site.sendsUppercaseHash ? hash.uppercased() : hash
    }

    func project(for site: SiteState) -> GeneratedProject? {
        site.project >= 0 ? projects[Int(site.project)] : nil
    }

    func payload(site: SiteState, profile: SiteProfile, kind: SiteEventKind, atMicros micros: Int64,
                 random: inout SeededRandom) -> JSONObject {
        let json = site.sendsJSONBody
        var body = JSONObject()
        switch kind {
        case .skip(let previouslySkipped):
            body["hash"] = .string(hash(for: site))
            body["previously_skipped"] = flag(previouslySkipped, json: json, yesNo: false)
            body["client"] = .string(site.clientVersion)
            return body
        case .deactivate where site.hasDeactivateHashBug:
            let (reasonID, reasonInfo) = reason(site: site, random: &random)
            body["reason_id"] = reasonID.map(JSONValue.string) ?? .string("none")
            body["reason_info"] = .string(reasonInfo ?? "")
            body["client"] = .string(site.clientVersion)
            return body
        default:
            break
        }
        let project = project(for: site)
        let url = profile.url(atFraction: clock.fraction(micros))
        body["url"] = .string(url)
        body["site"] = .string(profile.siteName.isEmpty ? url : profile.siteName)
        body["admin_email"] = .string(profile.adminEmail)
        if site.isOldClient { body["user_email"] = .string(profile.userEmail) }
        body["first_name"] = .string(profile.firstName)
        body["last_name"] = .string(profile.lastName)
        body["hash"] = .string(hash(for: site))
        body["server"] = .object(server(site: site, profile: profile, json: json))
        body["wp"] = .object(wordPress(site: site, profile: profile, json: json))
        body["users"] = .object(users(site: site, profile: profile, json: json))
        body["active_plugins"] = count(profile.activePlugins, json: json)
        body["inactive_plugins"] = count(profile.inactivePlugins, json: json)
        body["ip_address"] = .string(profile.reportsIP ? profile.publicIP : "")
        let version = projectVersion(site: site, project: project)
        if site.isOldClient {
            body["theme"] = .string(GeneratorCatalog.themes[profile.themeIndex].slug)
            body["version"] = .string(version)
        } else {
            body["project_version"] = .string(version)
            if case .track(let trackingSkipped) = kind {
                body["tracking_skipped"] = flag(trackingSkipped, json: json, yesNo: false)
            } else {
                body["tracking_skipped"] = flag(false, json: json, yesNo: false)
            }
            if site.sendsIsLocalAndPlugins {
                body["is_local"] = flag(profile.isLocal, json: json, yesNo: false)
                if project?.sendsPluginList ?? true, !profile.pluginIndices.isEmpty {
                    body["plugins"] = .object(plugins(profile: profile, micros: micros))
                }
            }
        }
        if let extra = extra(site: site, profile: profile, project: project, json: json, random: &random) {
            body["extra"] = .object(extra)
        }
        if kind == .deactivate {
            let (reasonID, reasonInfo) = reason(site: site, random: &random)
            if let reasonID { body["reason_id"] = .string(reasonID) }
            if let reasonInfo { body["reason_info"] = .string(reasonInfo) }
        }
        body["client"] = .string(site.clientVersion)
        return body
    }

    // MARK: Groups

    private func server(site: SiteState, profile: SiteProfile, json: Bool) -> JSONObject {
        var server = JSONObject()
        // SERVER_SOFTWARE is unset under CLI cron, and the SDK then leaves the key out.
        if let software = profile.serverSoftware { server["software"] = .string(software) }
        let php = GeneratorCatalog.phpVersions[Int(site.phpLevel)]
        server["php_version"] = .string(php.patches[profile.phpPatchIndex % php.patches.count])
        server["mysql_version"] = .string(profile.mysqlVersion)
        server["php_max_upload_size"] = .string(profile.uploadSize)
        server["php_default_timezone"] = .string(profile.timezone)
        server["php_soap"] = flag(profile.soap, json: json, yesNo: true)
        server["php_fsockopen"] = flag(profile.fsockopen, json: json, yesNo: true)
        server["php_curl"] = flag(profile.curl, json: json, yesNo: true)
        return server
    }

    private func wordPress(site: SiteState, profile: SiteProfile, json: Bool) -> JSONObject {
        var wp = JSONObject()
        wp["memory_limit"] = .string(profile.memoryLimit)
        wp["debug_mode"] = flag(profile.debugMode, json: json, yesNo: true)
        wp["locale"] = .string(GeneratorCatalog.locales[profile.localeIndex])
        wp["version"] = .string(GeneratorCatalog.wpVersions[Int(site.wpLevel)])
        wp["multisite"] = flag(profile.multisite, json: json, yesNo: true)
        if !site.isOldClient {
            let theme = GeneratorCatalog.themes[profile.themeIndex]
            wp["theme_slug"] = .string(theme.slug)
            wp["theme_name"] = .string(theme.name)
            wp["theme_version"] = .string(theme.version)
            wp["theme_uri"] = .string(theme.uri)
            wp["theme_author"] = .string(theme.author)
        }
        return wp
    }

    /// `count_users()`: roles with no users are left out; sites slowly gain subscribers.
    private func users(site: SiteState, profile: SiteProfile, json: Bool) -> JSONObject {
        let growth = Int(site.sentEvents)
        let counts = [profile.administrators, profile.editors, profile.authors, 0,
                      profile.subscribers > 0 ? profile.subscribers + growth : 0,
                      profile.customers > 0 ? profile.customers + 3 * growth : 0, profile.customers > 0 ? 1 : 0]
        var users = JSONObject()
        users["total"] = count(counts.reduce(0, +), json: json)
        for (role, number) in zip(GeneratorCatalog.roles, counts) where number > 0 {
            users[role] = count(number, json: json)
        }
        return users
    }

    private func plugins(profile: SiteProfile, micros: Int64) -> JSONObject {
        var plugins = JSONObject()
        let age = Int(clock.fraction(micros) * 3)
        for index in profile.pluginIndices {
            let plugin = GeneratorCatalog.plugins[index]
            let version = plugin.versions[min(plugin.versions.count - 1, (profile.pluginVersionOffset + age) % (plugin.versions.count + 1))]
            plugins[plugin.slug] = .object(JSONObject([("name", .string(plugin.name)), ("version", .string(version))]))
        }
        return plugins
    }

    /// The project's declared extras (as the developer's filter sends them), sometimes an
    /// undeclared key, and for a few sites values that do not cast.
    private func extra(site: SiteState, profile: SiteProfile, project: GeneratedProject?, json: Bool,
                       random: inout SeededRandom) -> JSONObject? {
        guard let project else {
            return profile.sendsUndeclaredExtra ? JSONObject([("debug_token", .string("x1"))]) : nil
        }
        var extra = JSONObject()
        let bad = profile.sendsBadExtras && random.chance(0.5)
        for field in project.project.extraFields {
            switch field.type {
            case .int:
                let value = profile.totalPostsBase + Int(site.sentEvents) * (field.key.utf8.count % 4)
                extra[field.key] = bad ? .string(random.pick(["many", "n/a", "1,204", "12.5"])) : count(value, json: json)
            case .string:
                extra[field.key] = .string(field.key == "store_currency" ? SiteProfile.currencies[profile.currencyIndex]
                                           : random.pick(["elementor", "gutenberg", "pro", "starter", "agency"]))
            case .float:
                let hundredths = profile.conversionRateHundredths + Int(site.sentEvents % 7) * 10
                let fraction = String(hundredths % 100)
                let text = "\(hundredths / 100).\(fraction.count == 1 ? "0" : "")\(fraction)"
                extra[field.key] = bad ? .string(random.pick(["NaN", "n/a", "1,5"])) : json ? .number(text) : .string(text)
            case .bool:
                extra[field.key] = bad ? .string("maybe") : flag(profile.extraFlag, json: json, yesNo: random.chance(0.5))
            }
        }
        if profile.sendsUndeclaredExtra {
            extra[GeneratorCatalog.undeclaredExtraKeys[Int(profile.totalPostsBase % 3)]] = .string("v\(profile.currencyIndex)")
        }
        return extra
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

    // MARK: Leaves

    /// A count as the form encoding sends it (a decimal string), or a JSON number.
    private func count(_ value: Int, json: Bool) -> JSONValue {
        json ? .number(String(value)) : .string(String(value))
    }

    /// A flag the way the SDK sends it: `Yes`/`No` for environment checks, `1`/`0` for PHP
    /// booleans through `http_build_query`; JSON clients send true/false.
    private func flag(_ value: Bool, json: Bool, yesNo: Bool) -> JSONValue {
        if json { return .bool(value) }
        if yesNo { return .string(value ? "Yes" : "No") }
        return .string(value ? "1" : "0")
    }
}
