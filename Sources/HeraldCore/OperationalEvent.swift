/// The events Herald publishes itself, about deliveries: `endpoint.disabled` when an endpoint is
/// switched off, `attempt.exhausted` when a delivery is dead-lettered.
///
/// They are contained so that they can never feed on themselves: an operational event reaches
/// only endpoints that name its type exactly in their event-type filter (a catch-all endpoint
/// or a glob such as `*` or `attempt.*` does not count), never the endpoint it is about, and
/// the failure of an operational event's delivery announces nothing further. Platforms cannot
/// send these types themselves.
public enum OperationalEvent {
    public static let endpointDisabled = "endpoint.disabled"
    public static let attemptExhausted = "attempt.exhausted"

    /// Every operational event type.
    public static let types: Set<String> = [endpointDisabled, attemptExhausted]

    public static func isOperational(_ type: String) -> Bool { types.contains(type) }

    /// The endpoint an operational event is about (`data.endpointId`: the id its account chose).
    public static func subject(of event: Event) -> String? { event.data["endpointId"]?.stringValue }
}
