import HeraldCore

/// What the signer reads from the store: an account's endpoints, one endpoint, an account.
///
/// herald-ingest owns writes; the signer only reads, through this protocol, so a PostgreSQL
/// store can stand behind it later. Implementations are safe to call from many tasks.
public protocol EndpointDirectory: Sendable {
    /// Every endpoint of the account, enabled or not.
    func endpoints(account: String) async throws -> [Endpoint]
    /// One endpoint by its store key (`Endpoint.id`, as delivery jobs carry it), or nil when it
    /// does not exist (deleted).
    func endpoint(id: String) async throws -> Endpoint?
    /// One endpoint of the account by its store key, or nil when it does not exist or belongs
    /// to another account.
    func endpoint(account: String, id: String) async throws -> Endpoint?
    /// The account, or nil when it does not exist.
    func account(id: String) async throws -> Account?
}

extension EndpointDirectory {
    public func endpoint(account: String, id: String) async throws -> Endpoint? {
        guard let endpoint = try await endpoint(id: id), endpoint.account == account else { return nil }
        return endpoint
    }
}

/// A tenant: a platform's customer whose endpoints receive webhooks.
public struct Account: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The profile used for an event's one-off `callbackUrl`.
    public var defaultProfile: String
    /// The secret(s) used to sign callbackUrl deliveries (in the default profile's form).
    public var defaultSecrets: [EndpointSecret]

    public init(id: String, name: String, defaultProfile: String, defaultSecrets: [EndpointSecret]) {
        self.id = id
        self.name = name
        self.defaultProfile = defaultProfile
        self.defaultSecrets = defaultSecrets
    }
}
