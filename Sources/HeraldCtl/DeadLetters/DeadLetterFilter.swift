import HeraldCore

/// Which dead letters a command applies to; every set field must match.
public struct DeadLetterFilter: Sendable {
    public var ids: Set<String> = []
    public var endpointId: String?
    public var account: String?
    public var eventType: String?
    public var reason: String?
    public var status: Int?
    /// Only letters dead for at least this many seconds.
    public var olderThanSeconds: Double?
    /// Only letters dead for at most this many seconds.
    public var newerThanSeconds: Double?

    public init() {}

    public var isEmpty: Bool {
        ids.isEmpty && endpointId == nil && account == nil && eventType == nil && reason == nil && status == nil
            && olderThanSeconds == nil && newerThanSeconds == nil
    }

    public func matches(_ letter: DeadLetter, now: Timestamp) -> Bool {
        if !ids.isEmpty, !ids.contains(letter.id) { return false }
        // Letters carry the store's endpoint key (`<account>/<id>`); the id the account chose matches too.
        if let endpointId, letter.endpointId != endpointId, letter.endpointId.map(EndpointKey.id(ofKey:)) != endpointId {
            return false
        }
        if let account, letter.account != account { return false }
        if let eventType, !Glob.matches(eventType, letter.eventType ?? "") { return false }
        if let reason, letter.reason != reason { return false }
        if let status, letter.lastStatus != status { return false }
        if olderThanSeconds != nil || newerThanSeconds != nil {
            guard let deadAt = letter.deadAt else { return false }
            let age = Double(now.millisecondsSinceEpoch - deadAt.millisecondsSinceEpoch) / 1000
            if let olderThanSeconds, age < olderThanSeconds { return false }
            if let newerThanSeconds, age > newerThanSeconds { return false }
        }
        return true
    }

    /// Parses `90s`, `15m`, `2h`, `7d` (a bare number is seconds).
    public static func parseAge(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400), ("w", 604_800)]
        for (suffix, seconds) in units where text.hasSuffix(suffix) {
            guard let n = Double(text.dropLast(suffix.count)), n >= 0 else { return nil }
            return n * seconds
        }
        guard let n = Double(text), n >= 0 else { return nil }
        return n
    }
}
