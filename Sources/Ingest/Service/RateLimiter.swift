import Foundation
import Synchronization

/// A token bucket per client address: `ratePerSecond` sustained, `burst` at once.
/// Idle buckets are pruned so a flood of distinct addresses cannot grow memory without bound.
public final class RateLimiter: Sendable {
    public let ratePerSecond: Double
    public let burst: Double
    public let clientsMax: Int
    private let buckets = Mutex<[String: (tokens: Double, updatedNs: UInt64)]>([:])

    public init(ratePerSecond: Double, burst: Double, clientsMax: Int = 100_000) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
        self.clientsMax = clientsMax
    }

    public func allow(_ client: String, nowNs: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Bool {
        buckets.withLock { buckets in
            if buckets.count >= clientsMax { prune(&buckets, nowNs: nowNs) }
            var bucket = buckets[client] ?? (tokens: burst, updatedNs: nowNs)
            let elapsed = Double(nowNs &- bucket.updatedNs) / 1e9
            bucket.tokens = min(burst, bucket.tokens + elapsed * ratePerSecond)
            bucket.updatedNs = nowNs
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[client] = bucket
            return allowed
        }
    }

    /// Drops buckets that are full again (they behave exactly like a new bucket).
    private func prune(_ buckets: inout [String: (tokens: Double, updatedNs: UInt64)], nowNs: UInt64) {
        buckets = buckets.filter { _, bucket in
            bucket.tokens + Double(nowNs &- bucket.updatedNs) / 1e9 * ratePerSecond < burst
        }
        if buckets.count >= clientsMax { buckets.removeAll(keepingCapacity: true) }
    }
}
