import HeraldCore
import HeraldStore

/// The destination an event's `callbackUrl` stands for: not a stored endpoint, but one built
/// from the account's default profile and secrets each time it is signed.
enum CallbackEndpoint {
    /// Jobs for a callbackUrl carry this endpoint id, so a retry knows to rebuild it.
    static let prefix = "callback:"

    static func id(account: String) -> String { prefix + account }

    static func isCallback(_ endpointId: String) -> Bool { endpointId.hasPrefix(prefix) }

    static func endpoint(for account: Account, url: String) -> Endpoint {
        Endpoint(
            id: id(account: account.id), account: account.id, url: url, profile: account.defaultProfile,
            secrets: account.defaultSecrets)
    }
}
