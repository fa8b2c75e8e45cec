/// The names of Herald's exchanges, queues and routing keys: the one place they are spelled.
///
/// `HeraldTopology` turns these into declarations (and `topology/definitions.json`); services
/// publish and consume by these names only.
public enum HeraldNames {
    /// Topic exchange for new events; routing key = event type (`message.delivered`).
    public static let eventsExchange = "herald.events"
    /// Quorum queue of events waiting for the signer (bound to `eventsExchange` with `#`).
    public static let signQueue = "herald.sign"

    /// Direct exchange for signed delivery jobs.
    public static let deliveriesExchange = "herald.deliveries"
    /// Quorum queue the workers consume.
    public static let deliverQueue = "herald.deliver"
    /// Routing key from `deliveriesExchange` to `deliverQueue`.
    public static let deliverRoutingKey = "deliver"

    /// Direct exchange of the delay tiers; routing key = tier name (`30s`).
    public static let retryExchange = "herald.retry"

    /// Direct exchange that the delay tiers dead-letter into, and that replays publish to.
    public static let resignExchange = "herald.resign"
    /// Quorum queue of jobs to re-render and re-sign (back from a tier, or replayed).
    public static let resignQueue = "herald.resign"
    /// Routing key from `resignExchange` to `resignQueue`.
    public static let resignRoutingKey = "resign"

    /// Direct exchange and quorum queue of dead letters (the DLQ).
    public static let deadExchange = "herald.dead"
    public static let deadQueue = "herald.dead"
    public static let deadRoutingKey = "dead"

    /// Direct exchange and quorum queue of attempt records (the delivery log feed).
    public static let attemptsExchange = "herald.attempts"
    public static let attemptsQueue = "herald.attempts"
    public static let attemptsRoutingKey = "attempt"

    /// Fanout exchange for control notices (endpoint changed → signers drop cached endpoints).
    /// Each signer binds its own exclusive, auto-delete queue to it.
    public static let controlExchange = "herald.control"
}
