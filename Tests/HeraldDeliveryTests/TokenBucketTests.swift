import HeraldDelivery
import Testing

private let t0 = ContinuousClock.now

/// Takes `count` times at `now`, returning what each take said.
private func takes(_ bucket: inout TokenBucket, _ count: Int, at now: ContinuousClock.Instant) -> [Bool] {
    (0..<count).map { _ in bucket.take(now: now) }
}

@Suite("The rate-limit token bucket")
struct TheTokenBucket {
    @Test("starts full: a burst of `rate` requests, then none until time adds tokens")
    func burst() {
        var bucket = TokenBucket(rate: 2, now: t0)
        #expect(bucket.capacity == 2)
        let got = takes(&bucket, 3, at: t0)
        #expect(got == [true, true, false], "got \(got)")
        let later = takes(&bucket, 2, at: t0 + .milliseconds(500))
        #expect(later == [true, false], "half a second at 2/s is one token; got \(later)")
    }

    @Test("a rate below one per second still holds one token and refills slowly")
    func slowRate() {
        var bucket = TokenBucket(rate: 0.5, now: t0)
        #expect(bucket.capacity == 1)
        #expect(takes(&bucket, 2, at: t0) == [true, false])
        #expect(bucket.take(now: t0 + .seconds(1)) == false, "half a token after 1 s")
        #expect(bucket.take(now: t0 + .seconds(2)) == true, "a whole token after 2 s")
        #expect(bucket.take(now: t0 + .seconds(2)) == false)
    }

    @Test("an idle bucket never holds more than its capacity")
    func capped() {
        var bucket = TokenBucket(rate: 2, now: t0)
        _ = takes(&bucket, 2, at: t0)
        let got = takes(&bucket, 3, at: t0 + .seconds(60))
        #expect(got == [true, true, false], "got \(got)")
    }

    @Test("a clock that goes backwards adds no tokens")
    func backwards() {
        var bucket = TokenBucket(rate: 1, now: t0 + .seconds(10))
        #expect(bucket.take(now: t0 + .seconds(10)) == true)
        #expect(bucket.take(now: t0) == false)
        #expect(bucket.take(now: t0 + .milliseconds(999)) == false)
        #expect(bucket.take(now: t0 + .seconds(1)) == true)
    }

    @Test("is full again (safe to forget) once whole seconds have refilled it")
    func full() {
        var bucket = TokenBucket(rate: 2, now: t0)
        #expect(bucket.isFull(now: t0))
        _ = bucket.take(now: t0)
        #expect(!bucket.isFull(now: t0))
        #expect(!bucket.isFull(now: t0 + .milliseconds(900)), "only whole seconds count")
        #expect(bucket.isFull(now: t0 + .seconds(1)))
    }
}
