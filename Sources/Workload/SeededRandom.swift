/// A small, fast, seedable PRNG (xoshiro256**, seeded through SplitMix64) so generated
/// workloads are identical for a given seed on every run and platform.
/// `SystemRandomNumberGenerator` is never used by the generator.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var mixer = seed
        s0 = SeededRandom.splitMix(&mixer)
        s1 = SeededRandom.splitMix(&mixer)
        s2 = SeededRandom.splitMix(&mixer)
        s3 = SeededRandom.splitMix(&mixer)
    }

    /// A generator for a sub-stream, e.g. one site's identity: independent of how many
    /// numbers the parent drew before, so adding a feature does not reshuffle everything.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    @inline(__always)
    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in `0..<bound` (Lemire's multiply-shift; the tiny bias is irrelevant here).
    @inline(__always)
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    @inline(__always)
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    @inline(__always)
    public mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }

    /// Uniform in `range` (inclusive).
    @inline(__always)
    public mutating func between(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    @inline(__always)
    public mutating func pick<T>(_ items: [T]) -> T {
        items[below(items.count)]
    }
}

/// A discrete distribution over indices, from relative weights (cumulative table + binary search).
struct WeightedChoice: Sendable {
    private let cumulative: [Double]

    init(_ weights: [Double]) {
        var running = 0.0
        cumulative = weights.map { running += $0; return running }
    }

    func pick(_ random: inout SeededRandom) -> Int {
        let target = random.unit() * cumulative[cumulative.count - 1]
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
