/// A message's delivery status, upper-case as providers spell it (`DELIVERED`).
///
/// An open set: the known values below come from the seeds (EK SMS's five, Sinch's delivery
/// states, Teekrr's billed/bounced, email engagement), and any other upper-case word is accepted
/// so a platform can send a status Herald has not heard of yet.
public struct MessageStatus: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    /// Accepts letters, digits and `_`; lower case is upper-cased. `nil` for anything else.
    public init?(rawValue: String) {
        let upper = rawValue.uppercased()
        guard !upper.isEmpty, upper.count <= 64,
            upper.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 })
        else { return nil }
        self.rawValue = upper
    }

    private init(known: String) { self.rawValue = known }

    public static let queued = MessageStatus(known: "QUEUED")
    public static let sent = MessageStatus(known: "SENT")
    public static let delivered = MessageStatus(known: "DELIVERED")
    public static let undelivered = MessageStatus(known: "UNDELIVERED")
    public static let failed = MessageStatus(known: "FAILED")
    public static let dispatched = MessageStatus(known: "DISPATCHED")
    public static let queuedOnChannel = MessageStatus(known: "QUEUED_ON_CHANNEL")
    public static let expired = MessageStatus(known: "EXPIRED")
    public static let rejected = MessageStatus(known: "REJECTED")
    public static let unknown = MessageStatus(known: "UNKNOWN")
    public static let received = MessageStatus(known: "RECEIVED")
    public static let billed = MessageStatus(known: "BILLED")
    public static let bounced = MessageStatus(known: "BOUNCED")
    public static let opened = MessageStatus(known: "OPENED")
    public static let clicked = MessageStatus(known: "CLICKED")
    public static let complained = MessageStatus(known: "COMPLAINED")

    /// The event type for this status: `message.` + the status in lower case (`message.delivered`).
    public var eventType: String { "message." + rawValue.lowercased() }

    /// The status named by a `message.<status>` event type, if it is one.
    public init?(eventType: String) {
        guard eventType.hasPrefix("message."), let s = MessageStatus(rawValue: String(eventType.dropFirst(8))) else {
            return nil
        }
        self = s
    }

    public var description: String { rawValue }
}
