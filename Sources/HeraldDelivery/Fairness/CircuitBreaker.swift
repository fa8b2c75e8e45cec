/// One endpoint's circuit breaker: after `failureThreshold` consecutive unhealthy attempts it
/// opens, and jobs for the endpoint are parked (without spending an attempt) instead of sent.
/// After a cool-down one probe is let through: success closes the breaker, failure reopens it
/// with a doubled cool-down (up to `maxCoolDown`).
///
/// A pure state machine: the caller passes the time, so tests drive it with fixed instants.
///
/// ```swift
/// switch breakers[endpoint, default: CircuitBreaker()].admit(now: .now) {
/// case .allow, .probe: deliver(job)
/// case .reject(let retryIn): park(job, for: retryIn)   // no attempt spent
/// }
/// // when the attempt finishes:
/// breakers[endpoint]?.record(healthy: !(reason?.indicatesUnhealthyEndpoint ?? false), now: .now)
/// ```
public struct CircuitBreaker: Sendable, Hashable {
    public struct Configuration: Sendable, Hashable {
        /// Consecutive unhealthy attempts that open the breaker.
        public var failureThreshold: Int
        /// Wait before the first probe.
        public var coolDown: Duration
        /// Longest wait between probes as failed probes double it.
        public var maxCoolDown: Duration

        public init(failureThreshold: Int = 5, coolDown: Duration = .seconds(30), maxCoolDown: Duration = .seconds(600)) {
            precondition(failureThreshold >= 1, "failureThreshold must be at least 1")
            self.failureThreshold = failureThreshold
            self.coolDown = coolDown
            self.maxCoolDown = maxCoolDown
        }
    }

    public enum State: Sendable, Hashable {
        /// Deliveries flow; `failures` consecutive unhealthy attempts so far.
        case closed(failures: Int)
        /// Deliveries are held back until `until`.
        case open(until: ContinuousClock.Instant)
        /// One probe is in flight; everything else is held back until it reports.
        case halfOpen
    }

    /// What to do with the next job for this endpoint.
    public enum Admission: Sendable, Hashable {
        /// Deliver it.
        case allow
        /// Deliver it as the probe; its result decides whether the breaker closes.
        case probe
        /// Do not deliver; try again after this long (park the job without spending an attempt).
        case reject(retryIn: Duration)
    }

    public let configuration: Configuration
    public private(set) var state: State = .closed(failures: 0)
    /// Probes that failed since the breaker last closed (doubles the cool-down each time).
    public private(set) var failedProbes = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Asks whether a job may be delivered now; may move open → half-open.
    public mutating func admit(now: ContinuousClock.Instant) -> Admission {
        switch state {
        case .closed:
            return .allow
        case .open(let until):
            if now >= until {
                state = .halfOpen
                return .probe
            }
            return .reject(retryIn: until - now)
        case .halfOpen:
            return .reject(retryIn: currentCoolDown)
        }
    }

    /// Records how an admitted attempt went. `healthy` is false for timeouts, connection errors,
    /// 5xx and 429 (`FailureReason.indicatesUnhealthyEndpoint`), true otherwise (2xx, and 4xx:
    /// the receiver is up).
    public mutating func record(healthy: Bool, now: ContinuousClock.Instant) {
        switch (state, healthy) {
        case (_, true):
            state = .closed(failures: 0)
            failedProbes = 0
        case (.closed(let failures), false):
            if failures + 1 >= configuration.failureThreshold {
                state = .open(until: now + currentCoolDown)
            } else {
                state = .closed(failures: failures + 1)
            }
        case (.halfOpen, false):
            failedProbes += 1
            state = .open(until: now + currentCoolDown)
        case (.open, false):
            break  // a transfer started before the breaker opened; it changes nothing
        }
    }

    private var currentCoolDown: Duration {
        var coolDown = configuration.coolDown
        for _ in 0..<min(failedProbes, 30) where coolDown < configuration.maxCoolDown { coolDown *= 2 }
        return min(coolDown, configuration.maxCoolDown)
    }
}
