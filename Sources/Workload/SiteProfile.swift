/// Everything about a generated site that does not change between its events, derived
/// from one 64-bit seed so the simulation stores only a few numbers per site.
struct SiteProfile {
    var host: String
    var isLocal: Bool
    var scheme: String
    /// When an `http` site moves to `https` (nil: never), as a fraction of the range.
    var httpsSwitchFraction: Double?
    var wwwPrefix: Bool
    var uppercaseHost: Bool
    var path: String
    var trailingSlash: Bool
    var query: String
    var reportsEmptyURL: Bool

    var siteName: String
    var adminEmail: String
    /// Old clients send the current user's email: the admin's, or an editor's.
    var userEmailIsAdmin: Bool
    var firstName: String
    var lastName: String
    var publicIPv4: UInt32
    /// The address the request comes from: the site's own, or its host's outbound proxy.
    var peerIPv4: UInt32
    var reportsIP: Bool

    var localeIndex: Int
    var serverSoftware: String?
    var uploadSize: String
    var timezone: String
    var memoryLimit: String
    var debugMode: Bool
    var multisite: Bool
    var soap: Bool
    var fsockopen: Bool
    var curl: Bool
    var themeIndex: Int
    var mysqlVersion: String
    var phpPatchIndex: Int

    var administrators: Int
    var editors: Int
    var authors: Int
    var subscribers: Int
    var customers: Int
    var activePlugins: Int
    var inactivePlugins: Int
    /// Bit i set: `GeneratorCatalog.plugins[i]` is active (a bit set keeps the profile allocation-free).
    var pluginMask: UInt32
    var pluginVersionOffset: Int

    var totalPostsBase: Int
    var conversionRateHundredths: Int
    var extraFlag: Bool
    var currencyIndex: Int
    /// Sends an extra key no project declares.
    var sendsUndeclaredExtra: Bool
    /// Sends values that do not cast (`many`, `n/a`) for some extras.
    var sendsBadExtras: Bool

    static let currencies = ["USD", "EUR", "GBP", "JPY", "BRL", " usd ", ""]

    init(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        localeIndex = Self.localeChoice.pick(&random)
        let words = GeneratorCatalog.hostWords
        let firstIndex = random.below(words.count), secondIndex = random.below(words.count)
        let first = words[firstIndex], second = words[secondIndex]
        // Most hosts carry a number (bakery-north2731.de): two words alone give ~50k hosts,
        // which a generated million sites would collide into.
        let number = random.chance(0.85) ? String(random.between(1...9_999)) : ""
        let separator = random.chance(0.35) ? "-" : ""
        isLocal = random.chance(0.03)
        if isLocal {
            host = random.pick(["localhost:8080", "\(first)\(second).local", "\(first).test", "staging-\(first).localhost",
                                "localhost", "\(first)\(second).lndo.site"])
        } else {
            host = "\(first)\(separator)\(second)\(number).\(GeneratorCatalog.localeTLDs[localeIndex])"
        }
        scheme = isLocal || random.chance(0.16) ? "http" : "https"
        httpsSwitchFraction = scheme == "http" && !isLocal && random.chance(0.35) ? random.unit() : nil
        wwwPrefix = !isLocal && random.chance(0.22)
        uppercaseHost = random.chance(0.03)
        path = random.chance(0.05) ? random.pick(["/blog", "/shop", "/wp", "/en", "/site/Home"]) : ""
        trailingSlash = random.chance(0.1)
        query = random.chance(0.015) ? random.pick(["?lang=en", "?page_id=2", "?utm_source=wp#top"]) : ""
        reportsEmptyURL = random.chance(0.004)

        let title = Self.capitalized[firstIndex] + " " + Self.capitalized[secondIndex]
        siteName = random.chance(0.03) ? "" : title + (random.chance(0.1) ? " – Home" : "")
        firstName = random.chance(0.08) ? "" : random.pick(GeneratorCatalog.firstNames)
        lastName = random.chance(0.15) ? "" : random.pick(GeneratorCatalog.lastNames)
        let mailHost = isLocal ? "example.com" : host
        switch random.below(10) {
        case 0..<5: adminEmail = "admin@\(mailHost)"
        case 5..<8: adminEmail = "\(firstName.isEmpty ? "info" : firstName.lowercased())@\(mailHost)"
        default: adminEmail = "\(first)\(second)\(random.between(1...99))@\(random.pick(GeneratorCatalog.mailDomains))"
        }
        userEmailIsAdmin = random.chance(0.5)
        publicIPv4 = Self.ipv4(&random)
        peerIPv4 = random.chance(0.85) ? publicIPv4 : Self.ipv4(&random)
        reportsIP = random.chance(0.94)

        serverSoftware = random.chance(0.03) ? nil : GeneratorCatalog.serverSoftware[Self.serverChoice.pick(&random)]
        uploadSize = GeneratorCatalog.uploadSizes[Self.uploadChoice.pick(&random)]
        timezone = random.pick(GeneratorCatalog.timezones)
        memoryLimit = GeneratorCatalog.memoryLimits[Self.memoryChoice.pick(&random)]
        debugMode = random.chance(0.05)
        multisite = random.chance(0.03)
        soap = random.chance(0.7)
        fsockopen = random.chance(0.9)
        curl = random.chance(0.97)
        themeIndex = Self.themeChoice.pick(&random)
        mysqlVersion = GeneratorCatalog.mysqlVersions[Self.mysqlChoice.pick(&random)]
        phpPatchIndex = random.below(8)

        administrators = random.chance(0.8) ? 1 : random.between(2...4)
        editors = random.chance(0.7) ? 0 : random.between(1...3)
        authors = random.chance(0.8) ? 0 : random.between(1...6)
        // Subscriber and customer counts are heavy-tailed: most sites are small.
        subscribers = random.chance(0.5) ? 0 : Int(Self.pow2(random.unit() * 11))
        let pluginCount = random.between(0...10)
        var mask: UInt32 = 0
        for _ in 0..<pluginCount { mask |= 1 << UInt32(random.below(GeneratorCatalog.plugins.count)) }
        pluginMask = mask
        // Bit 0 is WooCommerce: only shops have customers.
        customers = mask & 1 != 0 ? Int(Self.pow2(random.unit() * 13)) : 0
        activePlugins = mask.nonzeroBitCount + random.between(1...12)
        inactivePlugins = random.between(0...9)
        pluginVersionOffset = random.below(4)

        totalPostsBase = Int(Self.pow2(random.unit() * 12))
        conversionRateHundredths = random.between(0...900)
        extraFlag = random.chance(0.4)
        currencyIndex = random.below(Self.currencies.count)
        sendsUndeclaredExtra = random.chance(0.2)
        sendsBadExtras = random.chance(0.04)
    }

    /// The home URL the site reports at a point of the range (`fraction` in 0...1).
    func url(atFraction fraction: Double) -> String {
        if reportsEmptyURL { return "" }
        let currentScheme = httpsSwitchFraction.map { fraction >= $0 ? "https" : scheme } ?? scheme
        var shownHost = (wwwPrefix ? "www." : "") + host
        if uppercaseHost { shownHost = shownHost.uppercased() }
        return currentScheme + "://" + shownHost + path + (trailingSlash ? "/" : "") + query
    }

    var userEmail: String { userEmailIsAdmin ? adminEmail : "editor@" + (isLocal ? "example.com" : host) }

    /// A public IPv4 address (first octets of well-known public ranges).
    static func ipv4(_ random: inout SeededRandom) -> UInt32 {
        let firstOctets: [UInt32] = [23, 37, 45, 51, 62, 78, 85, 91, 104, 138, 151, 176, 185, 188, 195, 203, 212]
        return firstOctets[random.below(firstOctets.count)] << 24 | UInt32(random.below(256)) << 16
            | UInt32(random.below(256)) << 8 | UInt32(random.between(1...254))
    }

    static func ipText(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }

    private static func pow2(_ exponent: Double) -> Double {
        // 2^x without Foundation: split into integer and fractional parts (linear is enough here).
        let whole = Int(exponent)
        return Double(1 << whole) * (1 + (exponent - Double(whole)))
    }

    /// Host words with a capital first letter, for site titles.
    static let capitalized: [String] = GeneratorCatalog.hostWords.map { $0.prefix(1).uppercased() + $0.dropFirst() }
    static let localeChoice = WeightedChoice(GeneratorCatalog.localeWeights)
    static let serverChoice = WeightedChoice(GeneratorCatalog.serverWeights)
    static let uploadChoice = WeightedChoice(GeneratorCatalog.uploadWeights)
    static let memoryChoice = WeightedChoice(GeneratorCatalog.memoryWeights)
    static let themeChoice = WeightedChoice(GeneratorCatalog.themeWeights)
    static let mysqlChoice = WeightedChoice(GeneratorCatalog.mysqlWeights)
}
