import Core

/// Where raw partitions live (CONTRACT §2):
/// `<data>/raw/<route>/YYYY/MM/DD/HH/<writer>-<seq>.ndjson[.gz]`, the hour being the UTC
/// receive hour.
public struct RawLayout: Sendable {
    public let dataDirectory: String

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    public var rawRoot: String { dataDirectory + "/raw" }

    /// Rewritten by `trackhouse import` after each file it adds (`RawImporter`, step 5): the
    /// server's compaction lists the whole tree when it changes.
    public var importMarkerPath: String { rawRoot + "/.imported" }

    /// Hours since the Unix epoch: the partition key of a raw file.
    public static func hourIndex(micros: Int64) -> Int64 {
        micros >= 0 ? micros / 3_600_000_000 : (micros + 1) / 3_600_000_000 - 1
    }

    /// `YYYY/MM/DD/HH` for an hour index.
    public static func hourPath(hourIndex: Int64) -> String {
        let civil = UTCTime.civil(micros: hourIndex * 3_600_000_000)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(civil.year, 4))/\(pad(civil.month, 2))/\(pad(civil.day, 2))/\(pad(civil.hour, 2))"
    }

    /// The hour index of a raw file key (`<route>/YYYY/MM/DD/HH/<name>`, `RawFile.key`), nil
    /// when the key does not have that shape.
    public static func hourIndex(ofKey key: String) -> Int64? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 6, let year = Int(parts[1]), let month = Int(parts[2]), let day = Int(parts[3]),
              let hour = Int(parts[4]), (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour) else { return nil }
        return Int64(UTCTime.daysFromCivil(year: year, month: month, day: day)) * 24 + Int64(hour)
    }

    public func hourDirectory(route: Envelope.Route, hourIndex: Int64) -> String {
        "\(rawRoot)/\(route.rawValue)/\(Self.hourPath(hourIndex: hourIndex))"
    }

    /// One raw file found on disk.
    public struct RawFile: Sendable, Equatable, Hashable {
        public var route: Envelope.Route
        public var hourIndex: Int64
        public var path: String
        /// The name without `.gz`: stable across sealing, so "compacted" bookkeeping survives it.
        public var canonicalName: String
        public var isCompressed: Bool
        /// `<route>/YYYY/MM/DD/HH/<canonicalName>`: unique across the raw tree.
        public var key: String { "\(route.rawValue)/\(RawLayout.hourPath(hourIndex: hourIndex))/\(canonicalName)" }
    }

    /// Lists raw files, preferring the sealed `.gz` when both forms exist (a crash between
    /// sealing's rename and its unlink leaves both; they hold the same lines).
    /// `fromHour` lists only hours from that hour index on, without opening the folders of
    /// years, months and days that end before it: a caller that knows every earlier file is
    /// done with (the server's compaction cycles, the raw writer's recovery) pays for the
    /// recent hours, not for years of history.
    public func listFiles(routes: [Envelope.Route] = Envelope.Route.allCases, fromHour: Int64? = nil) -> [RawFile] {
        let from = fromHour ?? .min
        /// The first hour index after a year, month or day: a folder ending at or before
        /// `from` holds nothing to list.
        func hoursBefore(year: Int, month: Int = 1, day: Int = 1) -> Int64 {
            Int64(UTCTime.daysFromCivil(year: year, month: month, day: day)) * 24
        }
        var files: [RawFile] = []
        for route in routes {
            let routeRoot = "\(rawRoot)/\(route.rawValue)"
            for year in FileIO.list(routeRoot) {
                // Four digits (`hourPath`): a hostile folder name must not overflow the arithmetic.
                guard let y = Int(year), (0...9999).contains(y), hoursBefore(year: y + 1) > from else { continue }
                for month in FileIO.list("\(routeRoot)/\(year)") {
                    guard let m = Int(month), (1...12).contains(m),
                          hoursBefore(year: m == 12 ? y + 1 : y, month: m == 12 ? 1 : m + 1) > from else { continue }
                    for day in FileIO.list("\(routeRoot)/\(year)/\(month)") {
                        guard let d = Int(day), (1...31).contains(d) else { continue }
                        let dayStart = hoursBefore(year: y, month: m, day: d)
                        guard dayStart + 24 > from else { continue }
                        for hour in FileIO.list("\(routeRoot)/\(year)/\(month)/\(day)") {
                            guard let h = Int(hour), (0...23).contains(h) else { continue }
                            let hourIndex = dayStart + Int64(h)
                            if hourIndex < from { continue }
                            let directory = "\(routeRoot)/\(year)/\(month)/\(day)/\(hour)"
                            let names = FileIO.list(directory)
                            let nameSet = Set(names)
                            for name in names where !name.hasPrefix(".") {
                                if name.hasSuffix(".ndjson.gz") {
                                    files.append(RawFile(route: route, hourIndex: hourIndex, path: directory + "/" + name,
                                                         canonicalName: String(name.dropLast(3)), isCompressed: true))
                                } else if name.hasSuffix(".ndjson"), !nameSet.contains(name + ".gz") {
                                    files.append(RawFile(route: route, hourIndex: hourIndex, path: directory + "/" + name,
                                                         canonicalName: name, isCompressed: false))
                                }
                            }
                        }
                    }
                }
            }
        }
        return files
    }
}
