extension ProjectRollup {
    /// The invariants listed atop `ProjectRollup.swift`, recomputed from the entries: a list
    /// of what is broken (empty when all hold). A full recount, so the tests call it after
    /// every build and follow; the server does not. Caller holds the read lock.
    func checkInvariants() -> [String] {
        var broken: [String] = []
        var dayTrack: [Int64: Set<UInt32>] = [:]
        var daySkips: [Int64: Set<UInt32>] = [:]
        for (index, chunk) in chunks.enumerated() {
            let hour = baseHour + Int64(index)
            let name = "hour \(hour)"
            if chunk.dirty { broken.append("\(name): aggregates not finished") }
            // 1. Entries sorted by (time, tie), inside the chunk's hour.
            for entry in chunk.times.indices {
                if Self.floorDivide(chunk.times[entry], Self.microsPerHour) != hour {
                    broken.append("\(name): entry \(entry) at \(chunk.times[entry]) lies outside the hour")
                    break
                }
                if entry > 0, (chunk.times[entry], chunk.ties[entry]) < (chunk.times[entry - 1], chunk.ties[entry - 1]) {
                    broken.append("\(name): entries out of order at \(entry)")
                    break
                }
            }
            // 2. Aggregates equal a recount of the entries.
            let kinds = chunk.kinds
            let deactivations = kinds.filter { $0 == Kind.deactivate.rawValue }.count
            if Int64(deactivations) != chunk.deactivations { broken.append("\(name): \(chunk.deactivations) deactivations, recount \(deactivations)") }
            let track = Set(kinds.indices.filter { kinds[$0] == Kind.track.rawValue && chunk.sites[$0] != Self.noSite }.map { chunk.sites[$0] })
            if chunk.trackSites != track.sorted() { broken.append("\(name): track sites differ from a recount") }
            if chunk.countedSkipHashes != Set(chunk.skipHashes).sorted() { broken.append("\(name): skip hashes differ from a recount") }
            for dimension in 0..<min(states.width, chunk.dimensionCounts.count) {
                var events: [UInt16: Int32] = [:]
                var deactivated: [UInt16: Int32] = [:]
                for entry in chunk.states.indices {
                    let code = states.code(state: chunk.states[entry], dimension: dimension)
                    events[code, default: 0] += 1
                    if kinds[entry] == Kind.deactivate.rawValue { deactivated[code, default: 0] += 1 }
                }
                let counts = chunk.dimensionCounts[dimension]
                let codes = events.keys.sorted()
                if counts.codes != codes || counts.events != codes.map({ events[$0]! })
                    || counts.deactivations != codes.map({ deactivated[$0, default: 0] }) {
                    broken.append("\(name): counts of dimension \(RollupDimensions.names[dimension]) differ from a recount")
                }
            }
            let day = Self.floorDivide(hour, 24)
            dayTrack[day, default: []].formUnion(chunk.trackSites)
            daySkips[day, default: []].formUnion(chunk.countedSkipHashes)
        }
        // 4. Each entry's previous `track` of its site, and each hour's newest-track aggregates.
        if !tiesAmbiguous {
            var previous: [UInt32: (hour: Int, entry: Int)] = [:]
            for (index, chunk) in chunks.enumerated() {
                let name = "hour \(baseHour + Int64(index))"
                if chunk.linkedCount != chunk.times.count || chunk.previousTimes.count != chunk.times.count
                    || chunk.previousStates.count != chunk.times.count {
                    broken.append("\(name): \(chunk.times.count - chunk.linkedCount) entries not linked")
                    continue
                }
                var expectedTimes = [Int64](repeating: Self.noPrevious, count: chunk.times.count)
                var expectedStates = [UInt32](repeating: 0, count: chunk.times.count)
                for entry in chunk.times.indices where chunk.sites[entry] != Self.noSite {
                    if let last = previous[chunk.sites[entry]], chunks[last.hour].kinds[last.entry] == Kind.track.rawValue {
                        expectedTimes[entry] = chunks[last.hour].times[last.entry]
                        expectedStates[entry] = chunks[last.hour].states[last.entry]
                    }
                    previous[chunk.sites[entry]] = (index, entry)
                }
                // An entry linked before the window dropped its site's previous event keeps
                // that event's time: before the window, so no question in range counts it.
                let windowStart = baseHour * Self.microsPerHour
                let differs = chunk.times.indices.contains { entry in
                    expectedTimes[entry] == Self.noPrevious
                        ? chunk.previousTimes[entry] != Self.noPrevious && chunk.previousTimes[entry] >= windowStart
                        : chunk.previousTimes[entry] != expectedTimes[entry] || chunk.previousStates[entry] != expectedStates[entry]
                }
                if differs { broken.append("\(name): previous events differ from a recount") }
            }
            var newest = chunks.map { _ in [[UInt16: Int32]](repeating: [:], count: states.width) }
            var newestTotal = [Int32](repeating: 0, count: chunks.count)
            for (_, last) in previous where chunks[last.hour].kinds[last.entry] == Kind.track.rawValue {
                newestTotal[last.hour] += 1
                for dimension in 0..<states.width {
                    newest[last.hour][dimension][states.code(state: chunks[last.hour].states[last.entry], dimension: dimension), default: 0] += 1
                }
            }
            for (index, chunk) in chunks.enumerated() where !chunk.times.isEmpty {
                let expected = newest[index].map { counts in
                    ProjectRollup.CodeCounts(codes: counts.keys.sorted(), counts: counts.keys.sorted().map { counts[$0]! })
                }
                if chunk.newestTrack != newestTotal[index] || chunk.newestTrackCounts != expected {
                    broken.append("hour \(baseHour + Int64(index)): newest-track aggregates differ from a recount")
                }
            }
        }
        // 3. A day's bitmap is exactly the union of its hours' ids.
        // The day the window starts in may hold ids of its dropped hours.
        let partialDay: Int64? = windowStartHour == .min || windowStartHour % 24 == 0 ? nil : Self.floorDivide(windowStartHour, 24)
        for (day, ids) in dayTrack where day != partialDay && Self.members(dayTrackSites[day], below: siteIDs.count) != ids {
            broken.append("day \(day): track-site bitmap differs from the union of its hours")
        }
        for (day, ids) in daySkips where day != partialDay && Self.members(daySkipHashes[day], below: hashIDs.count) != ids {
            broken.append("day \(day): skip-hash bitmap differs from the union of its hours")
        }
        return broken
    }

    private static func members(_ bitmap: IDBitmap?, below count: Int) -> Set<UInt32> {
        guard let bitmap else { return [] }
        return Set((0..<UInt32(count)).filter { bitmap.contains($0) })
    }
}
