import Metrics
import Synchronization

/// What the signer did, as swift-metrics (exported at `/metrics`) and as in-process totals that
/// tests and benchmarks read without a metrics backend.
///
/// Metrics (labels in braces):
/// - `herald_signer_inputs_total{queue}`: events (`sign`) and jobs (`resign`) consumed.
/// - `herald_signer_redelivered_total{queue}`: inputs the broker had delivered before (possible duplicates).
/// - `herald_signer_jobs_signed_total{profile}`: jobs published to herald.deliveries.
/// - `herald_signer_no_match_total`: events no endpoint wanted.
/// - `herald_signer_dead_lettered_total{reason}`: inputs sent to herald.dead.
/// - `herald_signer_parked_total`: jobs put back in a delay tier (not before a later time).
/// - `herald_signer_dropped_total`: retries for deleted endpoints (recorded as `dropped`).
/// - `herald_signer_requeued_total{reason}`: inputs handed back (`store`, `publish`).
/// - `herald_signer_cache_invalidations_total{scope}`: `account` or `all`.
/// - `herald_signer_duration_seconds{queue}`: consume → settled.
public final class SignerStatistics: Sendable {
    /// A copy of the totals.
    public struct Snapshot: Sendable, Hashable {
        public var events = 0
        public var resigns = 0
        public var redelivered = 0
        public var jobsSigned = 0
        public var noMatch = 0
        public var deadLettered: [String: Int] = [:]
        public var parked = 0
        public var dropped = 0
        public var requeued: [String: Int] = [:]
        public var cacheInvalidations = 0
    }

    private let totals = Mutex(Snapshot())

    public init() {}

    /// The totals so far.
    public var snapshot: Snapshot { totals.withLock { $0 } }

    func consumed(queue: String, redelivered: Bool) {
        totals.withLock {
            if queue == "sign" { $0.events += 1 } else { $0.resigns += 1 }
            if redelivered { $0.redelivered += 1 }
        }
        Counter(label: "herald_signer_inputs_total", dimensions: [("queue", queue)]).increment()
        if redelivered { Counter(label: "herald_signer_redelivered_total", dimensions: [("queue", queue)]).increment() }
    }

    func signed(profiles: [String]) {
        totals.withLock { $0.jobsSigned += profiles.count }
        for profile in profiles {
            Counter(label: "herald_signer_jobs_signed_total", dimensions: [("profile", profile)]).increment()
        }
    }

    func noMatch() {
        totals.withLock { $0.noMatch += 1 }
        Counter(label: "herald_signer_no_match_total").increment()
    }

    func deadLettered(reason: String) {
        totals.withLock { $0.deadLettered[reason, default: 0] += 1 }
        Counter(label: "herald_signer_dead_lettered_total", dimensions: [("reason", reason)]).increment()
    }

    func parked() {
        totals.withLock { $0.parked += 1 }
        Counter(label: "herald_signer_parked_total").increment()
    }

    func dropped() {
        totals.withLock { $0.dropped += 1 }
        Counter(label: "herald_signer_dropped_total").increment()
    }

    func requeued(reason: String) {
        totals.withLock { $0.requeued[reason, default: 0] += 1 }
        Counter(label: "herald_signer_requeued_total", dimensions: [("reason", reason)]).increment()
    }

    func cacheInvalidated(scope: String) {
        totals.withLock { $0.cacheInvalidations += 1 }
        Counter(label: "herald_signer_cache_invalidations_total", dimensions: [("scope", scope)]).increment()
    }

    func duration(queue: String, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        Timer(label: "herald_signer_duration_seconds", dimensions: [("queue", queue)]).recordNanoseconds(nanoseconds)
    }
}
