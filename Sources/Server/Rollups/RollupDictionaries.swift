import Query

/// The columns a rollup keeps per event, as small codes: the `breakdown` and `timeseries`
/// dimensions a dashboard asks for. A request on any other column falls back to a scan.
enum RollupDimensions {
    static let names = [
        "event", "project_version", "client_version", "server_software", "php_version", "php_minor",
        "mysql_version", "mysql_minor", "wp_version", "wp_minor", "wp_locale", "wp_multisite",
        "is_local", "reason_id",
    ]
    static let indexOfName: [String: Int] = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    static let eventIndex = 0
}

/// One dimension's values as codes (`Value` → `UInt16`; NULL is a value of its own). Codes
/// never change once given, so stored states stay valid as values are added.
struct DimensionDictionary: Sendable {
    /// Codes above this are not given: the dimension is then `overflowed` and its requests
    /// fall back to a scan (a breakdown over 65k values is not a chart anyway).
    static let codesMax = Int(UInt16.max)

    private(set) var values: [Value] = []
    private var codeOfValue: [Value: UInt16] = [:]
    private(set) var overflowed = false

    init() {}

    /// The dictionary giving `values` codes 0, 1, 2, … (the state file's); nil when a value
    /// repeats or there are more than `codesMax`.
    init?(values: [Value], overflowed: Bool) {
        guard values.count <= Self.codesMax else { return nil }
        for (index, value) in values.enumerated() where code(value) != UInt16(index) { return nil }
        self.overflowed = overflowed
    }

    /// The code of `value`, adding it if new; code 0 stands in once the dimension overflowed.
    mutating func code(_ value: Value) -> UInt16 {
        if let code = codeOfValue[value] { return code }
        guard values.count < Self.codesMax else {
            overflowed = true
            return 0
        }
        let code = UInt16(values.count)
        values.append(value)
        codeOfValue[value] = code
        return code
    }
}

/// Interns the tuple of dimension codes of an event (its "state": PHP, WordPress, MySQL,
/// locale, … at that moment). Sites send the same tuple week after week, so an event stores
/// one `UInt32` state instead of a code per dimension.
struct StateTable: Sendable {
    let width: Int
    /// State `s` is `codes[s * width ..< (s + 1) * width]`.
    private(set) var codes: [UInt16] = []
    /// Open addressing: state + 1, 0 = empty; capacity a power of two, load ≤ 1/2.
    private var slots: [UInt32] = [UInt32](repeating: 0, count: 1024)
    private(set) var count = 0

    init(width: Int) {
        self.width = width
    }

    func code(state: UInt32, dimension: Int) -> UInt16 {
        codes[Int(state) * width + dimension]
    }

    private static func hash(_ tuple: UnsafeBufferPointer<UInt16>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for code in tuple {
            h = (h ^ UInt64(code)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
        }
        return h
    }

    mutating func intern(_ tuple: UnsafeBufferPointer<UInt16>) -> UInt32 {
        if (count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: Self.hash(tuple)) & mask
        while true {
            let stored = slots[slot]
            if stored == 0 { break }
            let start = Int(stored - 1) * width
            var equal = true
            for index in 0..<width where codes[start + index] != tuple[index] { equal = false; break }
            if equal { return stored - 1 }
            slot = (slot + 1) & mask
        }
        let state = UInt32(count)
        codes.append(contentsOf: tuple)
        slots[slot] = state + 1
        count += 1
        return state
    }

    private mutating func grow() {
        var bigger = [UInt32](repeating: 0, count: slots.count * 2)
        let mask = bigger.count - 1
        codes.withUnsafeBufferPointer { all in
            for state in 0..<count {
                let tuple = UnsafeBufferPointer(rebasing: all[state * width ..< (state + 1) * width])
                var slot = Int(truncatingIfNeeded: Self.hash(tuple)) & mask
                while bigger[slot] != 0 { slot = (slot + 1) & mask }
                bigger[slot] = UInt32(state + 1)
            }
        }
        slots = bigger
    }
}
