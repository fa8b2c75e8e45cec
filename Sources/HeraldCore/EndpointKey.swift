/// Endpoint ids are chosen per account: two accounts may both have `ep_main`. The store, and
/// every queue message after it (delivery jobs, attempt records, control notices, dead letters),
/// keys an endpoint by `Endpoint.id`, which is `<account>/<id>`. `/` is not allowed in account or
/// endpoint ids, so the key is unique across accounts and reads back unambiguously; endpoints
/// created before ids were per account keep their bare id as their key.
///
/// ```swift
/// EndpointKey.key(account: "acme", id: "ep_main")   // "acme/ep_main"
/// EndpointKey.id(ofKey: "acme/ep_main")              // "ep_main" (what the API shows)
/// ```
public enum EndpointKey {
    /// The store key of the account's endpoint `id`.
    public static func key(account: String, id: String) -> String { account + "/" + id }

    /// The id the account chose, from a store key (a bare legacy key is its own id).
    public static func id(ofKey key: String) -> String {
        guard let slash = key.firstIndex(of: "/") else { return key }
        return String(key[key.index(after: slash)...])
    }
}

extension Endpoint {
    /// The id the account chose (what the API shows), without the store's account prefix.
    public var accountScopedId: String { EndpointKey.id(ofKey: id) }
}
