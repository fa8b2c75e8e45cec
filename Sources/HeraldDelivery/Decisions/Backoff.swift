import HeraldCore

/// A wait before the next attempt, already mapped onto a delay tier.
public struct RetryDelay: Sendable, Hashable {
    /// The wait, in seconds: the tier's TTL, or longer when the wait exceeds the longest tier.
    public var seconds: Double
    /// The delay queue that provides the wait.
    public var tier: DelayTier
    /// `now + seconds`: the earliest time of the next attempt.
    public var notBefore: Timestamp
    /// The wait is longer than the longest tier: whoever takes the job out of the tier must park
    /// it again, without spending an attempt, until `notBefore`.
    public var needsReparking: Bool
}

/// Turns a policy's `delaysSeconds` into tier choices, with jitter, never sooner than the
/// receiver's `Retry-After`.
///
/// Delay queues have fixed TTLs, so the jitter cannot live in the TTL. Instead the jittered
/// target delay picks between the two tiers around it at random, weighted so that the expected
/// wait equals the target: a target of 45 s lands in the 30 s tier five times in six and in the
/// 2 m tier once in six. Jobs that failed together therefore come back spread over neighbouring
/// tiers rather than as one herd, and the mean backoff is what the policy says.
/// A `Retry-After` floor rules out any tier shorter than it asks.
public struct Backoff: Sendable, Hashable {
    /// Relative jitter on the policy's delay: 0.2 means ±20 %. 0 disables it.
    public var jitter: Double
    /// Longest `Retry-After` Herald honours (seconds); a receiver asking for more is dead-lettered
    /// rather than parked for months.
    public var maxRetryAfterSeconds: Double

    public init(jitter: Double = 0.2, maxRetryAfterSeconds: Double = 86_400) {
        self.jitter = jitter
        self.maxRetryAfterSeconds = maxRetryAfterSeconds
    }

    /// The wait after failed attempt number `attempt` (1-based): `policy.delaysSeconds[attempt - 1]`
    /// (the last entry when past the end), jittered, floored at `retryAfterSeconds`, mapped to a tier.
    public func plan(
        afterAttempt attempt: Int, policy: RetryPolicy, retryAfterSeconds: Double?, now: Timestamp,
        using rng: inout some RandomNumberGenerator
    ) -> RetryDelay {
        let delays = policy.delaysSeconds
        let base = delays.isEmpty ? 0 : Double(delays[min(max(attempt - 1, 0), delays.count - 1)])
        let factor = jitter > 0 ? Double.random(in: (1 - jitter)...(1 + jitter), using: &rng) : 1
        let floor = max(0, retryAfterSeconds ?? 0)
        // Ten years: beyond any sane wait, and keeps the arithmetic finite.
        let target = min(max(base * factor, floor), 315_360_000)
        return delay(target: target, floor: floor, now: now, using: &rng)
    }

    /// Maps a target wait onto the tiers (see the type's discussion).
    func delay(target: Double, floor: Double, now: Timestamp, using rng: inout some RandomNumberGenerator) -> RetryDelay {
        let tiers = DelayTier.all
        let longest = tiers[tiers.count - 1]
        if target > Double(longest.seconds) {
            return RetryDelay(seconds: target, tier: longest, notBefore: now.adding(seconds: target), needsReparking: true)
        }
        let upper = DelayTier.atLeast(seconds: target)
        var chosen = upper
        if let lower = tiers.last(where: { Double($0.seconds) < target }), Double(lower.seconds) >= floor {
            let span = Double(upper.seconds - lower.seconds)
            let towardsUpper = (target - Double(lower.seconds)) / span
            if Double.random(in: 0..<1, using: &rng) >= towardsUpper { chosen = lower }
        }
        let seconds = Double(chosen.seconds)
        return RetryDelay(seconds: seconds, tier: chosen, notBefore: now.adding(seconds: seconds), needsReparking: false)
    }
}
