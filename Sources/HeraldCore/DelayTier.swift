/// A retry delay tier: one queue `herald.retry.<name>` whose fixed TTL parks a job before it goes
/// back to the signer for a fresh signature.
///
/// Tiers are named by their TTL so a queue's arguments never change under the same name
/// (redeclaring a queue with other arguments is a 406 that closes the channel). Adding a tier
/// means adding a queue; changing one means a new name.
public struct DelayTier: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The tier's name, e.g. `30s`, `2m`, `10h`; also its routing key on `herald.retry`.
    public let name: String
    /// How long a message waits in the tier, in seconds.
    public let seconds: Int

    public init(name: String, seconds: Int) {
        self.name = name
        self.seconds = seconds
    }

    /// The queue that holds this tier's messages, e.g. `herald.retry.30s`.
    public var queueName: String { "\(HeraldNames.retryExchange).\(name)" }

    /// The tier's TTL in milliseconds, as the queue's `x-message-ttl`.
    public var milliseconds: Int { seconds * 1000 }

    public var description: String { name }

    public static func < (lhs: DelayTier, rhs: DelayTier) -> Bool { lhs.seconds < rhs.seconds }

    /// Every tier Herald declares, shortest first: 1s, 5s, 30s, 2m, 10m, 30m, 1h, 2h, 5h, 10h.
    public static let all: [DelayTier] = [
        DelayTier(name: "1s", seconds: 1),
        DelayTier(name: "5s", seconds: 5),
        DelayTier(name: "30s", seconds: 30),
        DelayTier(name: "2m", seconds: 120),
        DelayTier(name: "10m", seconds: 600),
        DelayTier(name: "30m", seconds: 1_800),
        DelayTier(name: "1h", seconds: 3_600),
        DelayTier(name: "2h", seconds: 7_200),
        DelayTier(name: "5h", seconds: 18_000),
        DelayTier(name: "10h", seconds: 36_000),
    ]

    /// The shortest tier that waits at least `seconds`, or the longest tier when none does
    /// (the job then carries its not-before time and is parked again without spending an attempt).
    public static func atLeast(seconds: Double) -> DelayTier {
        all.first { Double($0.seconds) >= seconds } ?? all[all.count - 1]
    }
}
