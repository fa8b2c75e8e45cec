extension Endpoint {
    /// Whether this endpoint should receive `event`: same account, enabled, an event-type glob
    /// matches, and the recipient filter (if any) matches. An operational event (see
    /// `OperationalEvent`) matches only an endpoint that names its type exactly and is not the
    /// endpoint the event is about.
    ///
    /// An event with a `callbackUrl` goes to that URL alone; the signer handles that case, not this.
    public func accepts(_ event: Event) -> Bool {
        guard state.isEnabled, event.account == account else { return false }
        if OperationalEvent.isOperational(event.type) {
            guard eventTypes.contains(event.type), OperationalEvent.subject(of: event) != accountScopedId else { return false }
        } else {
            guard eventTypes.isEmpty || eventTypes.contains(where: { Endpoint.glob($0, matches: event.type) }) else {
                return false
            }
        }
        guard !recipients.isEmpty else { return true }
        let wanted = Set(recipients.map(Endpoint.normalizedNumber))
        for key in ["recipient", "owner"] {
            if let v = event.data[key]?.stringValue, wanted.contains(Endpoint.normalizedNumber(v)) { return true }
        }
        return false
    }

    static func normalizedNumber(_ s: String) -> String {
        var out = String(s.filter { $0 != " " && $0 != "-" && $0 != "(" && $0 != ")" })
        if out.hasPrefix("+") { out.removeFirst() }
        return out.lowercased()
    }

    /// Glob match on event types: `*` any run of characters (dots included), `?` any one.
    public static func glob(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
