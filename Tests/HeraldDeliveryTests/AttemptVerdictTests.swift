import HeraldCore
import HeraldDelivery
import Testing

private let now = Timestamp(secondsSinceEpoch: 1_700_000_000)
private let everything = RetryPolicy(
    connectTimeoutMs: 5000, timeoutMs: 10000, delaysSeconds: [5, 30], retryOn: Set(RetryCondition.allCases))
private let never = RetryPolicy(connectTimeoutMs: 5000, timeoutMs: 10000, delaysSeconds: [5], retryOn: [])

private func status(_ code: Int, _ headers: [HTTPHeader] = []) -> DeliveryResponse {
    DeliveryResponse(status: code, headers: headers)
}

private func failed(_ code: DeliveryError.Code) -> DeliveryResponse {
    .failed(DeliveryError(code, "something about \(code)"))
}

private func decide(_ response: DeliveryResponse, _ policy: RetryPolicy = everything, attempt: Int = 1) -> DeliveryOutcome {
    var rng = SeededRandom(seed: 1)
    return DeliveryDecision.decide(response, policy: policy, attempt: attempt, now: now, backoff: Backoff(jitter: 0), using: &rng)
}

@Suite("One decision says what happens to the job and whether the endpoint looks healthy")
struct OneDecisionForOutcomeAndHealth {
    /// (response, policy, attempt, expected health); nil = no attempt, the breaker hears nothing.
    static let cases: [(DeliveryResponse, RetryPolicy, Int, Bool?)] = [
        (status(200), everything, 1, true),
        (status(204), everything, 1, true),
        (DeliveryResponse(status: 200, error: DeliveryError(.timeout, "body stalled")), everything, 1, true),
        (DeliveryResponse(status: 200, error: DeliveryError(.cancelled, "shutdown")), everything, 1, true),
        (status(400), everything, 1, true),
        (status(404), everything, 1, true),
        (status(410), everything, 1, true),
        (status(302), everything, 1, true),
        (status(503), everything, 1, false),  // retried
        (status(503), everything, 3, false),  // exhausted
        (status(503), never, 1, false),  // the policy does not retry it: still unhealthy
        (status(429), everything, 1, false),
        (status(429, [HTTPHeader("Retry-After", "999999")]), everything, 1, false),  // asks too long: dead
        (failed(.timeout), everything, 1, false),
        (failed(.connectionRefused), never, 1, false),
        (failed(.dns), everything, 1, false),
        (failed(.tls), everything, 1, false),
        (failed(.connectionFailed), everything, 1, false),
        (failed(.other), everything, 1, false),
        (failed(.refusedDestination), everything, 1, true),
        (failed(.invalidRequest), everything, 1, true),
        (failed(.cancelled), everything, 1, nil),
        (DeliveryResponse(status: 503, error: DeliveryError(.cancelled, "shutdown")), everything, 1, nil),
    ]

    @Test("the health verdict comes with the outcome", arguments: cases)
    func health(response: DeliveryResponse, policy: RetryPolicy, attempt: Int, expected: Bool?) {
        let got = decide(response, policy, attempt: attempt).endpointHealthy
        #expect(
            got == expected,
            "\(response.status.map(String.init) ?? "-") \(response.error?.label ?? ""): expected \(String(describing: expected)), got \(String(describing: got))"
        )
    }

    @Test("it is the failure's own verdict (what the worker asked the second time before)", arguments: cases)
    func sameAsTheFailure(response: DeliveryResponse, policy: RetryPolicy, attempt: Int, expected: Bool?) {
        let outcome = decide(response, policy, attempt: attempt)
        if case .abandoned = outcome { return }
        let separate = !(DeliveryDecision.failure(of: response, now: now)?.indicatesUnhealthyEndpoint ?? false)
        #expect(outcome.endpointHealthy == separate, "expected \(separate), got \(String(describing: outcome.endpointHealthy))")
    }
}

@Suite("A dead letter's reason follows from the failure's typed classification")
struct ADeadLettersReason {
    /// (response, policy, attempt, expected `herald-reason`).
    static let cases: [(DeliveryResponse, RetryPolicy, Int, String)] = [
        (status(410), everything, 1, "gone"),
        (status(503), everything, 3, "retries-exhausted"),
        (failed(.timeout), everything, 3, "retries-exhausted"),
        (failed(.refusedDestination), everything, 1, "destination-refused"),
        (failed(.invalidRequest), everything, 1, "invalid-request"),
        (status(400), everything, 1, "permanent-failure"),
        (status(404), everything, 1, "permanent-failure"),
        (status(302), everything, 1, "permanent-failure"),
        (status(503), never, 1, "permanent-failure"),
        (failed(.timeout), never, 1, "permanent-failure"),
        (status(429, [HTTPHeader("Retry-After", "999999")]), everything, 1, "permanent-failure"),
        // The receiver answered, then the transfer failed: judged by the status, not the error.
        (DeliveryResponse(status: 404, error: DeliveryError(.timeout, "body stalled")), everything, 1, "permanent-failure"),
    ]

    @Test("each dead outcome names its reason", arguments: cases)
    func reason(response: DeliveryResponse, policy: RetryPolicy, attempt: Int, expected: String) throws {
        guard case .dead(let reason) = decide(response, policy, attempt: attempt) else {
            Issue.record("expected a dead outcome for \(response)")
            return
        }
        #expect(reason.deadLetterReason == expected, "\(reason.label): expected \(expected), got \(reason.deadLetterReason)")
    }

    @Test("the reason comes from the error's code, not its label")
    func typedCode() {
        let refused = FailureReason(label: "something_else", message: "m", errorCode: .refusedDestination)
        #expect(refused.deadLetterReason == "destination-refused", "got \(refused.deadLetterReason)")
        let lookalike = FailureReason(label: "refused_destination", message: "m")
        #expect(lookalike.deadLetterReason == "permanent-failure", "got \(lookalike.deadLetterReason)")
        let gone = FailureReason(label: "http_410", message: "m", status: 410, disablesEndpoint: true, exhausted: true)
        #expect(gone.deadLetterReason == "gone", "gone wins over exhausted; got \(gone.deadLetterReason)")
    }
}

@Suite("A response's latency is measured once, in nanoseconds")
struct AResponsesLatency {
    @Test(
        "whole nanoseconds; the attempt record's milliseconds are a division of it",
        arguments: [
            (Duration.zero, Int64(0), 0),
            (Duration.nanoseconds(999_999), Int64(999_999), 0),
            (Duration.milliseconds(1), Int64(1_000_000), 1),
            (Duration.microseconds(12_345_678), Int64(12_345_678_000), 12_345),
            (Duration.seconds(3) + .nanoseconds(7), Int64(3_000_000_007), 3_000),
        ])
    func latency(duration: Duration, nanoseconds: Int64, milliseconds: Int) {
        let response = DeliveryResponse(status: 200, latency: duration)
        #expect(response.latencyNanoseconds == nanoseconds, "expected \(nanoseconds), got \(response.latencyNanoseconds)")
        let (secs, attos) = duration.components
        let before = Int(secs * 1000 + attos / 1_000_000_000_000_000)  // how the worker computed it
        #expect(
            Int(response.latencyNanoseconds / 1_000_000) == milliseconds && before == milliseconds,
            "expected \(milliseconds) ms, got \(response.latencyNanoseconds / 1_000_000) (before: \(before))")
    }
}
