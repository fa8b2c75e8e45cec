import Foundation
import Metrics

/// The worker's metrics (swift-metrics; Prometheus names). Labels are low-cardinality: outcome,
/// status class, tier, reason, cause — never an endpoint or URL.
///
/// - `herald_worker_deliveries_total{outcome, status_class}`: attempts by outcome
///   (`delivered`, `retrying`, `dead`, `abandoned`) and status class (`2xx`…`5xx`, `none`).
/// - `herald_worker_delivery_duration_seconds`: attempt latency histogram.
/// - `herald_worker_in_flight`: transfers in flight now.
/// - `herald_worker_retries_total{tier}`: jobs sent to a delay tier after a failed attempt.
/// - `herald_worker_dead_letters_total{reason}`: jobs dead-lettered.
/// - `herald_worker_parked_total{cause}`: jobs parked without an attempt (`not_before`,
///   `circuit_open`, `endpoint_busy`, `rate_limit`).
/// - `herald_worker_publish_failures_total`: inputs handed back because a publish failed.
struct WorkerMetrics: Sendable {
    let latency = Timer(label: "herald_worker_delivery_duration_seconds", preferredDisplayUnit: .seconds)
    let inFlight = Gauge(label: "herald_worker_in_flight")
    let publishFailures = Counter(label: "herald_worker_publish_failures_total")
    private let inFlightCount = InFlightCount()

    /// The counter of the common case, made once: looking a counter up by its labels takes the
    /// metrics factory's lock and allocates, which showed up at thousands of deliveries a second.
    private let delivered2xx = Counter(
        label: "herald_worker_deliveries_total", dimensions: [("outcome", "delivered"), ("status_class", "2xx")])

    func delivery(outcome: String, status: Int?) {
        if outcome == "delivered", let status, status / 100 == 2 { return delivered2xx.increment() }
        let statusClass = status.map { "\($0 / 100)xx" } ?? "none"
        Counter(label: "herald_worker_deliveries_total", dimensions: [("outcome", outcome), ("status_class", statusClass)])
            .increment()
    }

    func retry(tier: String) {
        Counter(label: "herald_worker_retries_total", dimensions: [("tier", tier)]).increment()
    }

    func dead(reason: String) {
        Counter(label: "herald_worker_dead_letters_total", dimensions: [("reason", reason)]).increment()
    }

    func parked(cause: String) {
        Counter(label: "herald_worker_parked_total", dimensions: [("cause", cause)]).increment()
    }

    func transferStarted() { inFlight.record(inFlightCount.add(1)) }
    func transferEnded() { inFlight.record(inFlightCount.add(-1)) }
}

/// A counter shared by tasks. `@unchecked Sendable`: `value` is only touched under `lock`.
private final class InFlightCount: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add(_ delta: Int) -> Int {
        lock.withLock {
            value += delta; return value
        }
    }
}
