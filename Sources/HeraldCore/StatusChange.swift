/// A message changed status: the main input to Herald, turned into a `message.<status>` event.
///
/// Wire form (HTTP ingest body, or AMQP message with `kind` set), version 1:
/// ```json
/// {"kind":"herald.status","v":1,"account":"acme","messageId":"m1","status":"DELIVERED",
///  "recipient":"9818000000","channel":"sms","occurredAt":"2026-06-20T05:51:00.000Z",
///  "reason":null,"eventId":"evt_…","data":{"segments":2}}
/// ```
/// `channel` defaults to `sms`; `reason`, `eventId` (the platform's idempotency key) and
/// `data` (extra fields copied into the event) are optional.
public struct StatusChange: Sendable, Hashable {
    public var account: String
    public var messageId: String
    public var status: MessageStatus
    /// Phone number or address the message went to.
    public var recipient: String
    /// `sms`, `whatsapp`, `email`, `voice` …
    public var channel: String
    public var occurredAt: Timestamp
    /// Why it failed, when it did (provider error code or text).
    public var reason: String?
    /// The event id to use; a fresh one when `nil`.
    public var eventId: String?
    /// Extra fields for the event's data, after the standard ones.
    public var extra: JSONObject

    public init(
        account: String, messageId: String, status: MessageStatus, recipient: String, channel: String = "sms",
        occurredAt: Timestamp, reason: String? = nil, eventId: String? = nil, extra: JSONObject = JSONObject()
    ) {
        self.account = account
        self.messageId = messageId
        self.status = status
        self.recipient = recipient
        self.channel = channel
        self.occurredAt = occurredAt
        self.reason = reason
        self.eventId = eventId
        self.extra = extra
    }

    /// The event: type `message.<status>`, data
    /// `{messageId, status, recipient, channel, reason?, …extra}` in that order.
    ///
    /// Profiles read these data keys to build their provider's body (`messageId` → Sinch's
    /// `message_id`, Teekrr's `messageUuid`…).
    public func event() -> Event {
        var data: JSONObject = [
            "messageId": .string(messageId), "status": .string(status.rawValue),
            "recipient": .string(recipient), "channel": .string(channel),
        ]
        data.set("reason", reason.map(JSONValue.string))
        for (k, v) in extra where data[k] == nil { data[k] = v }
        return Event(
            id: eventId ?? Event.newID(), type: status.eventType, account: account, occurredAt: occurredAt, data: data)
    }
}

extension StatusChange {
    public static let wireKind = "herald.status"
    public static let wireVersion = 1

    /// The status change's wire form.
    public var wireObject: JSONObject {
        var o: JSONObject = ["kind": .string(StatusChange.wireKind), "v": .number(1)]
        o["account"] = .string(account)
        o["messageId"] = .string(messageId)
        o["status"] = .string(status.rawValue)
        o["recipient"] = .string(recipient)
        o["channel"] = .string(channel)
        o["occurredAt"] = .string(occurredAt.iso8601Milliseconds)
        o.set("reason", reason.map(JSONValue.string))
        o.set("eventId", eventId.map(JSONValue.string))
        if !extra.isEmpty { o["data"] = .object(extra) }
        return o
    }

    public func wireEncoded() -> [UInt8] { JSONValue.object(wireObject).serialized() }

    /// Reads a status change; `kind` may be omitted (HTTP ingest knows what it expects), `v` too.
    public static func wireDecoded(_ bytes: some Collection<UInt8>) throws(WireError) -> StatusChange {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch { throw .notJSON(error) }
        guard var object = value.objectValue else { throw .notAnObject }
        if object["kind"] == nil { object["kind"] = .string(wireKind) }
        if object["v"] == nil { object["v"] = .number(1) }
        let r = try WireReader.open(object, kind: wireKind, versions: 1...wireVersion)
        let rawStatus = try r.nonEmptyString("status")
        guard let status = MessageStatus(rawValue: rawStatus) else {
            throw .invalidValue(field: "status", reason: "'\(rawStatus)' is not a status word (letters, digits, _)")
        }
        return StatusChange(
            account: try r.nonEmptyString("account"), messageId: try r.nonEmptyString("messageId"), status: status,
            recipient: try r.string("recipient"), channel: try r.optionalString("channel") ?? "sms",
            occurredAt: try r.time("occurredAt"), reason: try r.optionalString("reason"),
            eventId: try r.optionalString("eventId"), extra: try r.optionalObject("data") ?? JSONObject())
    }
}
