/// A token bucket: `rate` tokens per second, holding at most `capacity` (the burst). A worker
/// keeps one per rate-limited endpoint and parks a job (no attempt spent) when it finds no token.
///
/// Pure: the caller passes the time, so tests drive it with fixed instants.
///
/// ```swift
/// var bucket = TokenBucket(rate: 2.5, now: .now)   // 2.5 requests per second, burst of 2.5
/// if !bucket.take(now: .now) { park(job, seconds: 1) }
/// ```
public struct TokenBucket: Sendable, Hashable {
    /// Tokens added per second.
    public let rate: Double
    /// The most tokens the bucket holds: `rate`, but at least one.
    public let capacity: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    /// A full bucket.
    public init(rate: Double, now: ContinuousClock.Instant) {
        self.rate = rate
        // At least one token, so a share below 1/s still lets a request through now and then.
        self.capacity = max(1, rate)
        self.tokens = capacity
        self.last = now
    }

    /// Takes one token if there is one.
    public mutating func take(now: ContinuousClock.Instant) -> Bool {
        let elapsed = now - last
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(capacity, tokens + max(0, seconds) * rate)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// True when the bucket is full again, i.e. forgetting it changes nothing.
    public func isFull(now: ContinuousClock.Instant) -> Bool {
        let elapsed = now - last
        return tokens + Double(elapsed.components.seconds) * rate >= capacity
    }
}
