extension Endpoint {
    public static let wireKind = "herald.endpoint"
    public static let wireVersion = 1

    /// The endpoint's wire form (see `Endpoint`); it includes the stored secrets.
    public var wireObject: JSONObject {
        var o: JSONObject = ["kind": .string(Endpoint.wireKind), "v": .number(1)]
        o["id"] = .string(id)
        o["account"] = .string(account)
        o["url"] = .string(url)
        o["profile"] = .string(profile)
        o["eventTypes"] = .array(eventTypes.map(JSONValue.string))
        o["recipients"] = .array(recipients.map(JSONValue.string))
        o["secrets"] = .array(
            secrets.map { s in
                var so: JSONObject = ["value": .string(s.value), "createdAt": .string(s.createdAt.iso8601Milliseconds)]
                so.set("expiresAt", s.expiresAt.map { .string($0.iso8601Milliseconds) })
                return .object(so)
            })
        o.set("policy", policy.map { .object($0.jsonObject) })
        o.set("rateLimitPerSecond", rateLimitPerSecond.map { .number(Double($0)) })
        switch state {
        case .enabled: o["state"] = ["enabled": true]
        case .disabled(let reason, let at):
            o["state"] = ["enabled": false, "reason": .string(reason), "at": .string(at.iso8601Milliseconds)]
        }
        return o
    }

    public func wireEncoded() -> [UInt8] { JSONValue.object(wireObject).serialized() }

    public static func wireDecoded(_ bytes: some Collection<UInt8>) throws(WireError) -> Endpoint {
        try Endpoint(reader: WireReader.open(bytes, kind: wireKind, versions: 1...wireVersion))
    }

    public init(wireObject: JSONObject) throws(WireError) {
        try self.init(reader: WireReader.open(wireObject, kind: Endpoint.wireKind, versions: 1...Endpoint.wireVersion))
    }

    init(reader r: WireReader) throws(WireError) {
        var secrets: [EndpointSecret] = []
        for (i, s) in (try r.array("secrets") ?? []).enumerated() {
            guard let so = s.objectValue else {
                throw .wrongType(field: "secrets[\(i)]", expected: "object", got: s.kindName)
            }
            let sr = WireReader(so, prefix: "secrets[\(i)].")
            secrets.append(
                EndpointSecret(
                    value: try sr.nonEmptyString("value"), createdAt: try sr.time("createdAt"),
                    expiresAt: try sr.optionalTime("expiresAt")))
        }
        let state: EndpointState
        if let so = try r.optionalObject("state"), try WireReader(so, prefix: "state.").bool("enabled", default: true) == false {
            let sr = WireReader(so, prefix: "state.")
            state = .disabled(reason: try sr.optionalString("reason") ?? "disabled", at: try sr.time("at"))
        } else {
            state = .enabled
        }
        let url = try r.nonEmptyString("url")
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw .invalidValue(field: r.name("url"), reason: "'\(url)' is not an http(s) URL")
        }
        self.init(
            id: try r.nonEmptyString("id"), account: try r.nonEmptyString("account"), url: url,
            profile: try r.optionalString("profile") ?? "standard", eventTypes: try r.strings("eventTypes") ?? [],
            recipients: try r.strings("recipients") ?? [], secrets: secrets,
            policy: try r.optionalObject("policy").map { o throws(WireError) in try RetryPolicy(jsonObject: o) },
            rateLimitPerSecond: try r.optionalInt("rateLimitPerSecond"), state: state)
    }
}
