import HeraldCore
import Testing

@Suite("A job not due yet is parked in the tier that covers the wait")
struct AJobNotDueYet {
    private static let now = Timestamp(secondsSinceEpoch: 1_781_934_665)

    private func job(notBefore: Timestamp?) -> DeliveryJob {
        DeliveryJob(
            endpointId: "ep_1", url: "https://example.com/hook", profile: "standard", attempt: 3,
            firstAttemptAt: Self.now, signedAt: Self.now, notBefore: notBefore,
            policy: RetryPolicy(connectTimeoutMs: 1_000, timeoutMs: 5_000, delaysSeconds: [1], retryOn: []),
            headers: [], body: [],
            event: Event(id: "evt_1", type: "message.delivered", account: "acme", occurredAt: Self.now))
    }

    @Test("a job without a not-before time, or whose time has come, is due")
    func due() {
        #expect(job(notBefore: nil).parkingTier(now: Self.now) == nil)
        #expect(job(notBefore: Self.now).parkingTier(now: Self.now) == nil)
        #expect(job(notBefore: Self.now.adding(seconds: -60)).parkingTier(now: Self.now) == nil)
    }

    @Test(
        "the wait picks the shortest tier that covers it, the longest when none does",
        arguments: [
            (1, "1s"), (1_000, "1s"), (1_001, "5s"), (5_000, "5s"), (29_999, "30s"), (120_000, "2m"),
            (120_001, "10m"), (36_000_000, "10h"), (36_000_001, "10h"), (86_400_000, "10h"),
        ])
    func tier(waitMilliseconds: Int64, expected: String) {
        let notBefore = Timestamp(millisecondsSinceEpoch: Self.now.millisecondsSinceEpoch + waitMilliseconds)
        let got = job(notBefore: notBefore).parkingTier(now: Self.now)?.name
        #expect(got == expected, "wait \(waitMilliseconds) ms: expected \(expected), got \(got ?? "due")")
    }
}
