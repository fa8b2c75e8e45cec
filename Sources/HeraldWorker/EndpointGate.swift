import Foundation
import HeraldDelivery

/// The per-endpoint fairness state of one worker process: the in-flight cap (with a short wait
/// line), the circuit breaker and the rate-limit bucket, behind one lock.
///
/// `@unchecked Sendable`: every stored property is only touched while holding `lock`, and
/// continuations are resumed after it is released.
final class EndpointGate: @unchecked Sendable {
    enum Admission: Sendable {
        /// Holds a slot: send, then call `finish`.
        case go(probe: Bool)
        /// Park without spending an attempt, for at least this long; no slot is held.
        case park(cause: String, seconds: Double)
    }

    private let lock = NSLock()
    private var limiter: InFlightLimiter<String, CheckedContinuation<Bool, Never>>
    private var breakers: [String: CircuitBreaker] = [:]
    private var buckets: [String: TokenBucket] = [:]
    private let breakerConfiguration: CircuitBreaker.Configuration
    /// The default limit for jobs that carry none (`HERALD_WORKER_RATE_LIMIT`), per second for
    /// all workers together, and how many workers share each limit.
    private let defaultRate: Int?
    private let processes: Int

    init(perEndpoint: Int, breaker: CircuitBreaker.Configuration, defaultRate: Int?, processes: Int) {
        // A short wait line per endpoint (as long as the cap) smooths bursts; beyond it, jobs are
        // parked so a slow endpoint never holds more than 2 × cap of the worker's prefetch.
        limiter = InFlightLimiter(limit: perEndpoint, maxWaiting: perEndpoint)
        breakerConfiguration = breaker
        self.defaultRate = defaultRate
        self.processes = max(1, processes)
    }

    /// Rate limit, then a slot (waiting in line if need be), then the breaker.
    ///
    /// - Parameter rateLimit: the endpoint's own limit from the job; each of the `processes`
    ///   workers takes an equal share, so together they hold it.
    func admit(_ endpoint: String, rateLimit: Int? = nil) async -> Admission {
        if let limit = rateLimit ?? defaultRate, limit > 0 {
            let share = Double(limit) / Double(processes)
            let allowed = lock.withLock {
                let now = ContinuousClock.now
                // A changed limit (the endpoint was updated) starts a fresh bucket.
                var bucket = buckets[endpoint].flatMap { $0.rate == share ? $0 : nil } ?? TokenBucket(rate: share, now: now)
                let ok = bucket.take(now: now)
                buckets[endpoint] = bucket
                return ok
            }
            if !allowed { return .park(cause: "rate_limit", seconds: 1) }
        }
        // Most jobs find a free slot and take it without suspending; the rest wait in line.
        if !lock.withLock({ limiter.tryAcquire(endpoint) }), await !waitInLine(endpoint) {
            return .park(cause: "endpoint_busy", seconds: 1)
        }
        let admission = lock.withLock {
            var breaker = breakers[endpoint] ?? CircuitBreaker(configuration: breakerConfiguration)
            let a = breaker.admit(now: .now)
            breakers[endpoint] = breaker
            return a
        }
        switch admission {
        case .allow: return .go(probe: false)
        case .probe: return .go(probe: true)
        case .reject(let retryIn):
            releaseSlot(endpoint)
            let (s, atto) = retryIn.components
            return .park(cause: "circuit_open", seconds: Double(s) + Double(atto) / 1e18)
        }
    }

    /// Ends a transfer admitted with `.go`: records its health (nil = abandoned, not an attempt)
    /// and passes the slot on.
    func finish(_ endpoint: String, healthy: Bool?) {
        lock.withLock {
            guard let healthy else { return }
            var breaker = breakers[endpoint] ?? CircuitBreaker(configuration: breakerConfiguration)
            breaker.record(healthy: healthy, now: .now)
            // A closed breaker with no failures is the default: forget it so memory follows
            // the endpoints that are actually failing.
            if breaker.state == .closed(failures: 0) { breakers[endpoint] = nil } else { breakers[endpoint] = breaker }
            let now = ContinuousClock.now
            if let bucket = buckets[endpoint], bucket.isFull(now: now) { buckets[endpoint] = nil }
        }
        releaseSlot(endpoint)
    }

    /// Waits for a slot behind the endpoint's other jobs; false when the line is full.
    private func waitInLine(_ endpoint: String) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let immediate: (CheckedContinuation<Bool, Never>, Bool)? = lock.withLock {
                switch limiter.submit(continuation, for: endpoint) {
                case .start(let c): return (c, true)
                case .queued: return nil
                case .overflow(let c): return (c, false)
                }
            }
            if let (c, value) = immediate { c.resume(returning: value) }
        }
    }

    private func releaseSlot(_ endpoint: String) {
        let next = lock.withLock { limiter.finish(endpoint) }
        next?.resume(returning: true)
    }
}
