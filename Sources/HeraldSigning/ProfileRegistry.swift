import HeraldCore

/// The profiles a process knows, by name: the one table everything else reads (ingest's
/// validation, `heraldctl`'s help, the signer, the OpenAPI check in the tests).
///
/// A value, not a global: production uses `ProfileRegistry.standard`; a test adds a profile of
/// its own without touching it.
///
/// ```swift
/// let profile = try ProfileRegistry.standard.profile(named: "eksms")
/// let withMine = ProfileRegistry(profiles: ProfileRegistry.standard.profiles + [MyProfile()])
/// ```
public struct ProfileRegistry: Sendable {
    /// Every profile Herald ships. Adding a provider: one file in `Profiles/`, one row here
    /// (see docs/profiles.md, "Adding a provider").
    public static let standard = ProfileRegistry(profiles: [
        StandardWebhooksProfile(),
        EKSMSProfile(),
        EKDSendProfile(),
        HttpSMSProfile(),
        SinchProfile(),
        TeekrrProfile(),
    ])

    /// The profiles, in table order (the order help texts and problems list them in).
    public let profiles: [any WebhookProfile]
    /// The profile used when an endpoint or account names none.
    public let defaultName: String
    private let byName: [String: any WebhookProfile]

    /// A registry of `profiles`; names must be unique and `defaultName` one of them (a table
    /// that breaks this is a programming error and stops the process at startup).
    public init(profiles: [any WebhookProfile], defaultName: String = "standard") {
        var byName: [String: any WebhookProfile] = [:]
        for p in profiles {
            precondition(byName[p.name] == nil, "two profiles are named '\(p.name)'")
            byName[p.name] = p
        }
        precondition(byName[defaultName] != nil, "the default profile '\(defaultName)' is not in the registry")
        self.profiles = profiles
        self.defaultName = defaultName
        self.byName = byName
    }

    /// The profile called `name`.
    public func profile(named name: String) throws(SigningError) -> any WebhookProfile {
        guard let p = byName[name] else { throw .unknownProfile(name) }
        return p
    }

    /// Whether a profile is called `name`.
    public func contains(_ name: String) -> Bool { byName[name] != nil }

    /// Every registered name, in table order.
    public var names: [String] { profiles.map(\.name) }

    /// The names for people: `standard, eksms, ekdsend, …` (help texts, problem rules).
    public var listing: String { names.joined(separator: ", ") }

    /// The default profile.
    public var defaultProfile: any WebhookProfile { byName[defaultName]! }
}
