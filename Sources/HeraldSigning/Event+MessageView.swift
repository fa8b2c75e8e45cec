import HeraldCore

/// A `message.<status>` event read back into its parts, for profiles that reshape status changes
/// into their provider's body. Keys the profile does not know are kept in `rest`, in order.
struct MessageView {
    var status: MessageStatus
    var messageId: String?
    var recipient: String?
    var channel: String
    var reason: JSONValue?
    var rest: JSONObject

    static let standardKeys: Set<String> = ["messageId", "status", "recipient", "channel", "reason"]

    init?(_ event: Event) {
        guard let status = MessageStatus(eventType: event.type) else { return nil }
        self.status = status
        messageId = event.data["messageId"]?.stringValue
        recipient = event.data["recipient"]?.stringValue
        channel = event.data["channel"]?.stringValue?.lowercased() ?? "sms"
        reason = event.data["reason"].flatMap { $0.isNull ? nil : $0 }
        var rest = JSONObject()
        for (k, v) in event.data where !MessageView.standardKeys.contains(k) { rest[k] = v }
        self.rest = rest
    }
}

extension JSONObject {
    /// Appends every member of `other` whose key is not already present.
    mutating func appendMissing(_ other: JSONObject) {
        for (k, v) in other where self[k] == nil { self[k] = v }
    }
}

/// Timestamp tolerance shared by the schemes that sign a time.
enum Tolerance {
    static func check(signedAt: Int64, now: Timestamp, seconds: Int) throws(VerificationError) {
        let n = now.secondsSinceEpoch
        guard abs(n - signedAt) <= Int64(seconds) else {
            throw .timestampOutOfTolerance(signedAt: signedAt, now: n, tolerance: seconds)
        }
    }
}
