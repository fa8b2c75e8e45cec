extension Event {
    /// The `kind` of an event message on the queues.
    public static let wireKind = "herald.event"
    /// The wire version this build writes; it reads `1...wireVersion`.
    public static let wireVersion = 1

    /// The event's wire form as a JSON object (see `Event`).
    public var wireObject: JSONObject {
        var o: JSONObject = ["kind": .string(Event.wireKind), "v": .number(Double(Event.wireVersion))]
        o["id"] = .string(id)
        o["type"] = .string(type)
        o["account"] = .string(account)
        o["occurredAt"] = .string(occurredAt.iso8601Milliseconds)
        o["data"] = .object(data)
        o.set("callbackUrl", callbackUrl.map(JSONValue.string))
        return o
    }

    /// The event's wire form as bytes.
    public func wireEncoded() -> [UInt8] { JSONValue.object(wireObject).serialized() }

    /// Reads an event message; a bad message is a `WireError` naming the first problem.
    public static func wireDecoded(_ bytes: some Collection<UInt8>) throws(WireError) -> Event {
        let r = try WireReader.open(bytes, kind: wireKind, versions: 1...wireVersion)
        return try Event(reader: r)
    }

    /// Reads an event from its wire object (e.g. nested in a delivery job).
    public init(wireObject: JSONObject) throws(WireError) {
        try self.init(reader: WireReader.open(wireObject, kind: Event.wireKind, versions: 1...Event.wireVersion))
    }

    init(reader r: WireReader) throws(WireError) {
        let type = try r.nonEmptyString("type")
        try Event.validate(type: type, field: r.name("type"))
        self.init(
            id: try r.nonEmptyString("id"), type: type, account: try r.nonEmptyString("account"),
            occurredAt: try r.time("occurredAt"), data: try r.optionalObject("data") ?? JSONObject(),
            callbackUrl: try r.optionalString("callbackUrl"))
    }

    /// Event types are dotted lowercase words (`message.delivered`): also AMQP routing keys.
    static func validate(type: String, field: String) throws(WireError) {
        let ok = type.utf8.allSatisfy { b in
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
        // On bytes (the type is ASCII by now): String.contains(String) is slow on a hot path.
        let dot = UInt8(ascii: ".")
        let emptyWord =
            type.utf8.first == dot || type.utf8.last == dot
            || zip(type.utf8, type.utf8.dropFirst()).contains { $0 == dot && $1 == dot }
        guard ok, type.utf8.count <= 200, !emptyWord else {
            throw .invalidValue(field: field, reason: "'\(type)' is not a dotted lowercase event type")
        }
    }
}
