/// An address range such as `10.0.0.0/8` or `fc00::/7`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the range (host bits cleared).
    public let network: IPAddress
    /// Leading bits that must match: 0…32 for IPv4, 0…128 for IPv6.
    public let prefixLength: Int

    /// Parses `address/length`, or a bare address as a single-host range (`/32`, `/128`).
    /// Host bits are cleared, so `127.0.0.1/8` means `127.0.0.0/8`. Nil when malformed.
    public init?(_ text: String) {
        let parts = text.trimmingSpaces.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = IPAddress(String(parts[0])) else { return nil }
        let maxLength: Int
        if case .v4 = address { maxLength = 32 } else { maxLength = 128 }
        var length = maxLength
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber),
                let parsed = Int(parts[1]), parsed <= maxLength
            else { return nil }
            length = parsed
        }
        self.init(address, prefixLength: length)
    }

    /// The range of `prefixLength` leading bits of `address`. Traps on a length out of range.
    public init(_ address: IPAddress, prefixLength: Int) {
        switch address {
        case .v4(let value):
            precondition((0...32).contains(prefixLength), "IPv4 prefix length must be 0…32")
            network = .v4(value & CIDR.mask32(prefixLength))
        case .v6(let high, let low):
            precondition((0...128).contains(prefixLength), "IPv6 prefix length must be 0…128")
            let (maskHigh, maskLow) = CIDR.mask128(prefixLength)
            network = .v6(high: high & maskHigh, low: low & maskLow)
        }
        self.prefixLength = prefixLength
    }

    /// Whether `address` lies in the range. An IPv4 address is never inside an IPv6 range
    /// (the guard checks embedded IPv4 forms separately).
    public func contains(_ address: IPAddress) -> Bool {
        switch (network, address) {
        case (.v4(let net), .v4(let value)):
            return value & CIDR.mask32(prefixLength) == net
        case (.v6(let netHigh, let netLow), .v6(let high, let low)):
            let (maskHigh, maskLow) = CIDR.mask128(prefixLength)
            return high & maskHigh == netHigh && low & maskLow == netLow
        default:
            return false
        }
    }

    public var description: String { "\(network)/\(prefixLength)" }

    // Swift's `<<` yields 0 when shifting by the full width, which is exactly the empty mask.
    private static func mask32(_ length: Int) -> UInt32 { ~UInt32(0) << (32 - length) }

    private static func mask128(_ length: Int) -> (UInt64, UInt64) {
        if length <= 64 { return (~UInt64(0) << (64 - length), 0) }
        return (~UInt64(0), ~UInt64(0) << (128 - length))
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
