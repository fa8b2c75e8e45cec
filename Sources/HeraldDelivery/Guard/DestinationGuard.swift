/// Refuses deliveries to addresses a webhook must never reach: loopback, private networks,
/// link-local (cloud metadata at 169.254.169.254), CGNAT, multicast, broadcast, reserved ranges,
/// their IPv6 counterparts and the IPv6 forms that embed such an IPv4 address.
///
/// The engine asks the guard about the address each socket is about to connect to, after DNS,
/// so a host name that resolves (or re-resolves) to 10.0.0.5 is refused like the literal would be.
///
/// The worker reads its allowlist and HTTPS-only flag from the environment
/// (`WorkerConfiguration`); the guard itself takes typed values.
///
/// ```swift
/// let guard = DestinationGuard(allowed: [CIDR("10.1.0.0/16")!])
/// guard.refusal(for: IPAddress("127.0.0.1")!)?.reason
/// // "destination 127.0.0.1 is loopback; allow it with HERALD_ALLOW_PRIVATE"
/// ```
public struct DestinationGuard: Sendable, Hashable {
    /// Ranges that are allowed even though they are special-purpose (`HERALD_ALLOW_PRIVATE`).
    public var allowed: [CIDR]
    /// Refuse `http://` URLs (`HERALD_HTTPS_ONLY`).
    public var httpsOnly: Bool

    /// A guard refusing every special-purpose range except `allowed`.
    public init(allowed: [CIDR] = [], httpsOnly: Bool = false) {
        self.allowed = allowed
        self.httpsOnly = httpsOnly
    }

    /// Why a destination is refused, or nil when the address may be used.
    public func refusal(for address: IPAddress) -> DestinationRefusal? {
        guard let category = DestinationGuard.specialPurpose(address) else { return nil }
        if allowed.contains(where: { $0.contains(address) }) { return nil }
        if let embedded = address.embeddedIPv4, allowed.contains(where: { $0.contains(embedded.address) }) {
            return nil
        }
        return DestinationRefusal(
            address: address,
            reason: "destination \(address) is \(category); allow it with HERALD_ALLOW_PRIVATE")
    }

    /// Why a URL is refused before any connection (scheme), or nil.
    /// Only `https` (and `http` unless `httpsOnly`) are ever used.
    public func refusal(forURL url: String) -> DestinationRefusal? {
        let scheme = url.prefix { $0 != ":" }.lowercased()
        if scheme == "https" { return nil }
        if scheme == "http" {
            guard httpsOnly else { return nil }
            return DestinationRefusal(
                address: nil, reason: "http:// URLs are refused in HTTPS-only mode (HERALD_HTTPS_ONLY)")
        }
        return DestinationRefusal(address: nil, reason: "URL scheme '\(scheme)' is not http or https")
    }

    /// The special-purpose range an address falls in, in words (`"loopback"`), or nil for a
    /// public address. IPv6 forms that embed an IPv4 address are judged by that address.
    public static func specialPurpose(_ address: IPAddress) -> String? {
        if let match = ranges.first(where: { $0.range.contains(address) }) { return match.name }
        if let embedded = address.embeddedIPv4, let name = specialPurpose(embedded.address) {
            return "\(name) (\(embedded.form) form of \(embedded.address))"
        }
        return nil
    }

    /// Most specific first: the first match names the refusal.
    static let ranges: [(range: CIDR, name: String)] = [
        ("169.254.169.254/32", "link-local (cloud metadata)"),
        ("255.255.255.255/32", "broadcast"),
        ("0.0.0.0/8", "unspecified (\"this network\", 0.0.0.0/8)"),
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("100.64.0.0/10", "shared address space (CGNAT, RFC 6598)"),
        ("169.254.0.0/16", "link-local"),
        ("192.0.0.0/24", "reserved for IETF protocol assignments"),
        ("192.0.2.0/24", "reserved for documentation"),
        ("198.51.100.0/24", "reserved for documentation"),
        ("203.0.113.0/24", "reserved for documentation"),
        ("198.18.0.0/15", "reserved for benchmarking"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fc00::/7", "unique local (IPv6 ULA)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
        ("100::/64", "discard-only"),
        ("2001:db8::/32", "reserved for documentation"),
    ].map { (CIDR($0.0)!, $0.1) }
}

/// A destination the guard refused: permanent, never retried.
public struct DestinationRefusal: Sendable, Hashable, CustomStringConvertible {
    /// The address refused, or nil when the URL itself was (scheme).
    public let address: IPAddress?
    /// A sentence for the attempt record and the dead letter.
    public let reason: String
    public var description: String { reason }
}
