import HeraldCore
import HeraldDelivery
import Testing

private let now = Timestamp(secondsSinceEpoch: 1_700_000_000)
private let everything = RetryPolicy(
    connectTimeoutMs: 5000, timeoutMs: 10000, delaysSeconds: [5, 30, 120],
    retryOn: Set(RetryCondition.allCases))
private let serverErrorsOnly = RetryPolicy(
    connectTimeoutMs: 5000, timeoutMs: 10000, delaysSeconds: [5, 30], retryOn: [.serverError])
private let never = RetryPolicy(connectTimeoutMs: 5000, timeoutMs: 10000, delaysSeconds: [], retryOn: [])
private let noJitter = Backoff(jitter: 0)

private func status(_ code: Int, _ headers: [HTTPHeader] = []) -> DeliveryResponse {
    DeliveryResponse(status: code, headers: headers)
}

private func failed(_ code: DeliveryError.Code) -> DeliveryResponse {
    .failed(DeliveryError(code, "something about \(code)"))
}

private func decide(_ response: DeliveryResponse, _ policy: RetryPolicy = everything, attempt: Int = 1) -> DeliveryOutcome {
    var rng = SeededRandom(seed: 1)
    return DeliveryDecision.decide(response, policy: policy, attempt: attempt, now: now, backoff: noJitter, using: &rng)
}

/// The outcome in a few words, so a failing test prints something readable.
private func summary(_ outcome: DeliveryOutcome) -> String {
    switch outcome {
    case .delivered: "delivered"
    case .retry(let plan): "retry \(plan.nextAttempt) in \(plan.tier.name) (\(plan.reason.label))"
    case .dead(let reason):
        "dead (\(reason.label)\(reason.disablesEndpoint ? ", disable" : "")\(reason.exhausted ? ", exhausted" : ""))"
    case .abandoned(let reason): "abandoned (\(reason.label))"
    }
}

@Suite("Classifying attempts")
struct ClassifyingAttempts {
    /// (response, expected outcome); typed up front so the compiler need not infer it.
    static let cases: [(DeliveryResponse, String)] = [
        (status(200), "delivered"), (status(204), "delivered"), (status(299), "delivered"),
        (DeliveryResponse(status: 200, error: DeliveryError(.timeout, "body stalled")), "delivered"),
        (status(500), "retry 2 in 5s (http_500)"), (status(503), "retry 2 in 5s (http_503)"),
        (status(429), "retry 2 in 5s (http_429)"),
        (failed(.timeout), "retry 2 in 5s (timeout)"), (failed(.connectionRefused), "retry 2 in 5s (connection_refused)"),
        (failed(.dns), "retry 2 in 5s (dns)"), (failed(.tls), "retry 2 in 5s (tls)"),
        (failed(.connectionFailed), "retry 2 in 5s (connection_failed)"), (failed(.other), "retry 2 in 5s (other)"),
        (status(410), "dead (http_410, disable)"), (status(400), "dead (http_400)"), (status(401), "dead (http_401)"),
        (status(404), "dead (http_404)"), (status(408), "dead (http_408)"), (status(302), "dead (http_302)"),
        (failed(.refusedDestination), "dead (refused_destination)"), (failed(.invalidRequest), "dead (invalid_request)"),
        (failed(.cancelled), "abandoned (cancelled)"),
    ]

    @Test("each response maps to its outcome under a retry-everything policy", arguments: cases)
    func outcomes(response: DeliveryResponse, expected: String) {
        #expect(summary(decide(response)) == expected)
    }

    @Test("a policy that retries only server errors dead-letters timeouts and 429s at once (httpSMS)")
    func serverErrorsOnlyPolicy() {
        #expect(summary(decide(status(502), serverErrorsOnly)) == "retry 2 in 5s (http_502)")
        #expect(summary(decide(status(429), serverErrorsOnly)) == "dead (http_429)")
        #expect(summary(decide(failed(.timeout), serverErrorsOnly)) == "dead (timeout)")
        guard case .dead(let reason) = decide(failed(.timeout), serverErrorsOnly) else { return }
        #expect(reason.message.hasSuffix("; the endpoint's retry policy does not retry timeout"))
    }

    @Test("a policy that never retries dead-letters the first failure (Teekrr)")
    func neverRetries() {
        #expect(summary(decide(status(500), never)) == "dead (http_500)")
        #expect(summary(decide(status(200), never)) == "delivered")
    }

    @Test(
        "attempts run out at maxAttempts",
        arguments: [
            (1, "retry 2 in 5s (http_500)"), (2, "retry 3 in 30s (http_500)"),
            (3, "retry 4 in 2m (http_500)"), (4, "dead (http_500, exhausted)"),
            (9, "dead (http_500, exhausted)"),
        ])
    func exhaustion(attempt: Int, expected: String) {
        #expect(summary(decide(status(500), attempt: attempt)) == expected)
    }

    @Test("an exhausted dead letter says how many attempts and what the last one got")
    func exhaustedMessage() {
        guard case .dead(let reason) = decide(status(503), attempt: 4) else {
            Issue.record("expected dead")
            return
        }
        #expect(reason.message == "gave up after 4 attempts; last: receiver answered 503")
        #expect(reason.status == 503)
    }

    @Test("a 410 says the endpoint is gone")
    func goneMessage() {
        guard case .dead(let reason) = decide(status(410)) else { return }
        #expect(reason.message == "receiver answered 410 Gone: the endpoint is gone for good")
        #expect(reason.disablesEndpoint)
    }

    @Test("Retry-After beyond Herald's limit dead-letters rather than parking for a year")
    func absurdRetryAfter() {
        let outcome = decide(status(429, [HTTPHeader("Retry-After", "31536000")]))
        #expect(summary(outcome) == "dead (http_429)")
    }

    @Test("only timeouts, connection errors, 5xx and 429 count against the endpoint's health")
    func health() {
        #expect(DeliveryDecision.failure(of: status(503), now: now)?.indicatesUnhealthyEndpoint == true)
        #expect(DeliveryDecision.failure(of: failed(.timeout), now: now)?.indicatesUnhealthyEndpoint == true)
        #expect(DeliveryDecision.failure(of: status(400), now: now)?.indicatesUnhealthyEndpoint == false)
        #expect(DeliveryDecision.failure(of: status(200), now: now) == nil)
    }
}

@Suite("Retry-After")
struct RetryAfterParsing {
    @Test(
        "values parse to seconds from now",
        arguments: [
            ("120", 120.0), ("0", 0), (" 7 ", 7),
            ("Tue, 14 Nov 2023 22:13:50 GMT", 30), ("Tuesday, 14-Nov-23 22:13:50 GMT", 30), ("Tue Nov 14 22:13:50 2023", 30),
            ("Tue, 14 Nov 2023 22:00:00 GMT", 0),
        ] as [(String, Double)])
    func parses(value: String, seconds: Double) {
        // `now` is 2023-11-14 22:13:20 UTC.
        #expect(RetryAfter.seconds(from: value, now: now) == seconds)
    }

    @Test(
        "garbage is ignored",
        arguments: [
            "", "soon", "-5", "1.5", "Tue, 14 Nov 2023 25:00:00 GMT", "Tue, 14 Foo 2023 22:00:00 GMT",
            "Tue, 14 Nov 2023 22:00:00 CET",
        ])
    func garbage(value: String) {
        #expect(RetryAfter.seconds(from: value, now: now) == nil)
    }

    @Test("HTTP-dates convert to the right instant")
    func httpDate() {
        #expect(RetryAfter.httpDate("Sun, 06 Nov 1994 08:49:37 GMT") == Timestamp(secondsSinceEpoch: 784_111_777))
        #expect(RetryAfter.httpDate("Thu, 01 Jan 1970 00:00:00 GMT") == Timestamp(secondsSinceEpoch: 0))
        #expect(RetryAfter.httpDate("Thu, 29 Feb 2024 12:00:00 GMT") == Timestamp(secondsSinceEpoch: 1_709_208_000))
    }
}

@Suite("Backoff onto delay tiers")
struct BackoffOntoDelayTiers {
    @Test("without jitter a policy delay that is a tier lands exactly in it", arguments: [(1, "5s"), (2, "30s"), (3, "2m")])
    func exactTiers(attempt: Int, tier: String) {
        var rng = SeededRandom(seed: 7)
        let plan = noJitter.plan(afterAttempt: attempt, policy: everything, retryAfterSeconds: nil, now: now, using: &rng)
        #expect(plan.tier.name == tier)
        #expect(plan.notBefore == now.adding(seconds: Double(plan.tier.seconds)))
        #expect(!plan.needsReparking)
    }

    @Test(
        "Retry-After is a floor: never a tier shorter than it asks",
        arguments: [(7.0, "30s"), (30, "30s"), (31, "2m"), (4000, "2h")])
    func retryAfterFloor(retryAfter: Double, tier: String) {
        for seed in 0..<50 as Range<UInt64> {
            var rng = SeededRandom(seed: seed)
            let plan = Backoff().plan(afterAttempt: 1, policy: everything, retryAfterSeconds: retryAfter, now: now, using: &rng)
            #expect(Double(plan.tier.seconds) >= retryAfter, "seed \(seed): \(plan.tier) for Retry-After \(retryAfter)")
            #expect(plan.notBefore >= now.adding(seconds: retryAfter))
        }
        var rng = SeededRandom(seed: 3)
        let plan = noJitter.plan(afterAttempt: 1, policy: everything, retryAfterSeconds: retryAfter, now: now, using: &rng)
        #expect(plan.tier.name == tier)
    }

    @Test("a 429 with Retry-After is retried no sooner than asked")
    func tooManyRequestsHonoursRetryAfter() {
        let outcome = decide(status(429, [HTTPHeader("Retry-After", "100")]))
        guard case .retry(let plan) = outcome else {
            Issue.record("expected a retry, got \(summary(outcome))")
            return
        }
        #expect(plan.tier.name == "2m")
        #expect(plan.reason.retryAfterSeconds == 100)
        #expect(plan.notBefore == now.adding(seconds: 120))
    }

    @Test("jitter spreads a herd across neighbouring tiers while keeping the mean", arguments: [5, 30, 120, 600])
    func jitterSpreadsButKeepsMean(delay: Int) {
        let policy = RetryPolicy(connectTimeoutMs: 1, timeoutMs: 1, delaysSeconds: [delay], retryOn: [.timeout])
        var rng = SeededRandom(seed: 42)
        var tiers: [String: Int] = [:]
        var total = 0.0
        let runs = 20_000
        for _ in 0..<runs {
            let plan = Backoff(jitter: 0.2).plan(afterAttempt: 1, policy: policy, retryAfterSeconds: nil, now: now, using: &rng)
            tiers[plan.tier.name, default: 0] += 1
            total += plan.seconds
        }
        let mean = total / Double(runs)
        #expect(tiers.count >= 2, "all \(runs) jobs landed in \(tiers)")
        #expect(
            abs(mean - Double(delay)) < Double(delay) * 0.03, "mean wait \(mean) s for a \(delay) s policy delay; tiers \(tiers)")
    }

    @Test("the same seed gives the same plan")
    func deterministic() {
        var a = SeededRandom(seed: 99)
        var b = SeededRandom(seed: 99)
        let first = (0..<20).map { _ in
            Backoff().plan(afterAttempt: 2, policy: everything, retryAfterSeconds: nil, now: now, using: &a)
        }
        let second = (0..<20).map { _ in
            Backoff().plan(afterAttempt: 2, policy: everything, retryAfterSeconds: nil, now: now, using: &b)
        }
        #expect(first == second)
    }

    @Test("waits longer than the longest tier park in it and carry the real not-before time")
    func longerThanLongestTier() {
        let policy = RetryPolicy(connectTimeoutMs: 1, timeoutMs: 1, delaysSeconds: [86_400], retryOn: [.timeout])
        var rng = SeededRandom(seed: 1)
        let plan = noJitter.plan(afterAttempt: 1, policy: policy, retryAfterSeconds: nil, now: now, using: &rng)
        #expect(plan.tier.name == "10h")
        #expect(plan.needsReparking)
        #expect(plan.notBefore == now.adding(seconds: 86_400))
    }
}
