extension RetryPolicy {
    /// The policy as a JSON object in the form documented on `RetryPolicy` (`retryOn` sorted so
    /// the bytes are deterministic).
    public var jsonObject: JSONObject {
        [
            "connectTimeoutMs": .number(Double(connectTimeoutMs)), "timeoutMs": .number(Double(timeoutMs)),
            "delaysSeconds": .array(delaysSeconds.map { .number(Double($0)) }),
            "retryOn": .array(retryOn.map(\.rawValue).sorted().map(JSONValue.string)),
        ]
    }

    /// Reads the policy's JSON object; `field` names it in errors.
    public init(jsonObject o: JSONObject, field: String = "policy") throws(WireError) {
        let r = WireReader(o, prefix: field + ".")
        let delays = try r.array("delaysSeconds") ?? []
        var ds: [Int] = []
        for (i, d) in delays.enumerated() {
            guard let n = d.intValue, n >= 0 else {
                throw .invalidValue(field: "\(field).delaysSeconds[\(i)]", reason: "must be a whole number of seconds ≥ 0")
            }
            ds.append(n)
        }
        var conditions = Set<RetryCondition>()
        for name in try r.strings("retryOn") ?? [] {
            guard let c = RetryCondition(rawValue: name) else {
                throw .invalidValue(field: "\(field).retryOn", reason: "unknown condition '\(name)'")
            }
            conditions.insert(c)
        }
        let connect = try r.int("connectTimeoutMs"), total = try r.int("timeoutMs")
        guard connect > 0, total > 0 else { throw .invalidValue(field: field, reason: "timeouts must be positive") }
        self.init(connectTimeoutMs: connect, timeoutMs: total, delaysSeconds: ds, retryOn: conditions)
    }
}
