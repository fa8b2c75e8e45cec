import HeraldDelivery
import Testing

private let t0 = ContinuousClock.now

@Suite("The circuit breaker")
struct TheCircuitBreaker {
    private let config = CircuitBreaker.Configuration(failureThreshold: 3, coolDown: .seconds(10), maxCoolDown: .seconds(25))

    @Test("stays closed below the threshold and a success resets the count")
    func staysClosed() {
        var breaker = CircuitBreaker(configuration: config)
        breaker.record(healthy: false, now: t0)
        breaker.record(healthy: false, now: t0)
        #expect(breaker.state == .closed(failures: 2))
        breaker.record(healthy: true, now: t0)
        breaker.record(healthy: false, now: t0)
        #expect(breaker.state == .closed(failures: 1))
        #expect(breaker.admit(now: t0) == .allow)
    }

    @Test("opens after N consecutive failures and rejects until the cool-down ends")
    func opens() {
        var breaker = CircuitBreaker(configuration: config)
        for _ in 0..<3 { breaker.record(healthy: false, now: t0) }
        #expect(breaker.state == .open(until: t0 + .seconds(10)))
        #expect(breaker.admit(now: t0 + .seconds(4)) == .reject(retryIn: .seconds(6)))
    }

    @Test("lets one probe through after the cool-down; success closes it")
    func probeSuccessCloses() {
        var breaker = CircuitBreaker(configuration: config)
        for _ in 0..<3 { breaker.record(healthy: false, now: t0) }
        #expect(breaker.admit(now: t0 + .seconds(10)) == .probe)
        #expect(breaker.state == .halfOpen)
        #expect(breaker.admit(now: t0 + .seconds(10)) == .reject(retryIn: .seconds(10)), "only one probe at a time")
        breaker.record(healthy: true, now: t0 + .seconds(11))
        #expect(breaker.state == .closed(failures: 0))
        #expect(breaker.admit(now: t0 + .seconds(11)) == .allow)
    }

    @Test("a failed probe reopens it with a doubled cool-down, capped")
    func probeFailureBacksOff() {
        var breaker = CircuitBreaker(configuration: config)
        for _ in 0..<3 { breaker.record(healthy: false, now: t0) }
        _ = breaker.admit(now: t0 + .seconds(10))
        breaker.record(healthy: false, now: t0 + .seconds(11))
        #expect(breaker.state == .open(until: t0 + .seconds(31)))
        _ = breaker.admit(now: t0 + .seconds(31))
        breaker.record(healthy: false, now: t0 + .seconds(32))
        #expect(breaker.state == .open(until: t0 + .seconds(57)), "40 s capped at 25 s")
        #expect(breaker.failedProbes == 2)
    }

    @Test("late failures from transfers started before it opened change nothing")
    func lateFailuresIgnored() {
        var breaker = CircuitBreaker(configuration: config)
        for _ in 0..<3 { breaker.record(healthy: false, now: t0) }
        breaker.record(healthy: false, now: t0 + .seconds(5))
        #expect(breaker.state == .open(until: t0 + .seconds(10)))
    }
}

@Suite("The per-endpoint in-flight cap")
struct ThePerEndpointInFlightCap {
    @Test("starts up to the limit per endpoint, queues, then overflows")
    func capsPerEndpoint() {
        var limiter = InFlightLimiter<String, Int>(limit: 2, maxWaiting: 1)
        #expect(describe(limiter.submit(1, for: "slow")) == "start 1")
        #expect(describe(limiter.submit(2, for: "slow")) == "start 2")
        #expect(describe(limiter.submit(3, for: "slow")) == "queued")
        #expect(describe(limiter.submit(4, for: "slow")) == "overflow 4")
        #expect(describe(limiter.submit(5, for: "fast")) == "start 5", "another endpoint is not held up")
        #expect(limiter.inFlight(for: "slow") == 2)
        #expect(limiter.waiting(for: "slow") == 1)
    }

    @Test("finishing hands the slot to the next waiting job, in order")
    func finishHandsOver() {
        var limiter = InFlightLimiter<String, Int>(limit: 1, maxWaiting: 5)
        _ = limiter.submit(1, for: "a")
        _ = limiter.submit(2, for: "a")
        _ = limiter.submit(3, for: "a")
        #expect(limiter.finish("a") == 2)
        #expect(limiter.finish("a") == 3)
        #expect(limiter.inFlight(for: "a") == 1)
        #expect(limiter.finish("a") == nil)
        #expect(limiter.inFlight(for: "a") == 0)
        #expect(limiter.activeKeys == 0, "idle endpoints are forgotten")
    }

    @Test("waiting jobs can be taken back at shutdown")
    func removeAllWaiting() {
        var limiter = InFlightLimiter<String, Int>(limit: 1, maxWaiting: 5)
        _ = limiter.submit(1, for: "a")
        _ = limiter.submit(2, for: "a")
        _ = limiter.submit(3, for: "b")
        _ = limiter.submit(4, for: "b")
        #expect(limiter.removeAllWaiting().sorted() == [2, 4])
        #expect(limiter.waiting(for: "a") == 0)
    }

    private func describe(_ submission: InFlightLimiter<String, Int>.Submission) -> String {
        switch submission {
        case .start(let job): "start \(job)"
        case .queued: "queued"
        case .overflow(let job): "overflow \(job)"
        }
    }
}
