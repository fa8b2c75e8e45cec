/// A token bucket: `rate` tokens per second, holding at most `capacity` (the burst).
///
/// Pure: the caller passes the time.
struct TokenBucket: Sendable {
    let rate: Double
    let capacity: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(rate: Double, now: ContinuousClock.Instant) {
        self.rate = rate
        // At least one token, so a share below 1/s still lets a request through now and then.
        self.capacity = max(1, rate)
        self.tokens = capacity
        self.last = now
    }

    /// Takes one token if there is one.
    mutating func take(now: ContinuousClock.Instant) -> Bool {
        let elapsed = now - last
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(capacity, tokens + max(0, seconds) * rate)
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// True when the bucket is full again, i.e. forgetting it changes nothing.
    func isFull(now: ContinuousClock.Instant) -> Bool {
        let elapsed = now - last
        return tokens + Double(elapsed.components.seconds) * rate >= capacity
    }
}
