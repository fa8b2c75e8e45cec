import HeraldCore

/// Every profile Herald knows, by name. Adding a provider: one file in `Profiles/`, one row here.
public enum ProfileRegistry {
    /// The table.
    public static let all: [any WebhookProfile] = [
        StandardWebhooksProfile(),
        EKSMSProfile(),
        EKDSendProfile(),
        HttpSMSProfile(),
        SinchProfile(),
        TeekrrProfile(),
    ]

    /// The profile used when an endpoint names none.
    public static let defaultName = "standard"

    private static let byName: [String: any WebhookProfile] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The profile called `name`.
    public static func profile(named name: String) throws(SigningError) -> any WebhookProfile {
        guard let p = byName[name] else { throw .unknownProfile(name) }
        return p
    }

    /// Every registered name, in table order.
    public static var names: [String] { all.map(\.name) }
}
