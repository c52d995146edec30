import Ingest

/// A registry project plus how its sites behave in the simulation.
struct GeneratedProject: Sendable {
    var project: Project
    var isTheme: Bool
    /// Whether the developer enabled the SDK's plugin list (`plugins{…}`).
    var sendsPluginList: Bool
    /// A new release every this many days; sites update with a lag.
    var releaseIntervalDays: Int
    var majorVersion: Int
}

enum ProjectFactory {
    /// `count` projects with ids like `acme-seo`, UUID hashes, a couple of extra fields of each
    /// type and custom deactivation reasons. No tokens: operators add them with `token create`.
    static func make(count: Int, seed: UInt64) -> [GeneratedProject] {
        var random = SeededRandom(seed: seed, stream: 0x5052_4F4A)  // "PROJ"
        var projects: [GeneratedProject] = []
        for index in 0..<count {
            let catalogIndex = index % GeneratorCatalog.projectIDs.count
            let round = index / GeneratorCatalog.projectIDs.count
            let id = GeneratorCatalog.projectIDs[catalogIndex] + (round == 0 ? "" : "-\(round + 1)")
            let name = GeneratorCatalog.projectNames[catalogIndex] + (round == 0 ? "" : " \(round + 1)")
            let isTheme = id.contains("theme")
            var fields: [Project.ExtraField] = []
            for (keys, type) in [(GeneratorCatalog.extraIntKeys, Project.ExtraField.FieldType.int),
                                 (GeneratorCatalog.extraStringKeys, .string),
                                 (GeneratorCatalog.extraFloatKeys, .float),
                                 (GeneratorCatalog.extraBoolKeys, .bool)] {
                let first = random.below(keys.count)
                fields.append(.init(key: keys[first], type: type))
                if random.chance(0.5) {
                    fields.append(.init(key: keys[(first + 1) % keys.count], type: type))
                }
            }
            var reasons: [String] = []
            let reasonStart = random.below(GeneratorCatalog.customReasons.count)
            for offset in 0..<random.between(1...3) {
                reasons.append(GeneratorCatalog.customReasons[(reasonStart + offset) % GeneratorCatalog.customReasons.count])
            }
            let project = Project(id: id, name: name, type: isTheme ? "theme" : "plugin", hash: uuid(&random),
                                  extraFields: fields, deactivationReasons: reasons)
            projects.append(GeneratedProject(project: project, isTheme: isTheme, sendsPluginList: index % 3 != 2,
                                             releaseIntervalDays: random.between(10...40),
                                             majorVersion: random.between(1...4)))
        }
        return projects
    }

    /// Hashes of projects that are not in projects.json (deleted projects, typos, other
    /// vendors' keys): their events must be counted as unknown, never stored.
    static func ghostHashes(seed: UInt64) -> [String] {
        var random = SeededRandom(seed: seed, stream: 0x4748_4F53)  // "GHOS"
        return (0..<3).map { _ in uuid(&random) }
    }

    /// A version-4 UUID, lowercase.
    static func uuid(_ random: inout SeededRandom) -> String {
        let high = random.next() & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_4000
        let low = random.next() & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        let hex = hexDigits(high, count: 16) + hexDigits(low, count: 16)
        let characters = Array(hex)
        return String(characters[0..<8]) + "-" + String(characters[8..<12]) + "-" + String(characters[12..<16]) + "-"
            + String(characters[16..<20]) + "-" + String(characters[20..<32])
    }

    static func hexDigits(_ value: UInt64, count: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, count - text.count)) + text
    }
}
