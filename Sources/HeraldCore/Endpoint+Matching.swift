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
            guard eventTypes.isEmpty || eventTypes.contains(where: { Glob.matches($0, event.type) }) else {
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
}
