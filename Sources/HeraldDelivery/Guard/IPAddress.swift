#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address as numbers, for range checks. Parsing and printing use the C
/// library's `inet_pton`/`inet_ntop` (pure functions: no I/O, no resolver).
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 address, host byte order (`127.0.0.1` is `0x7f00_0001`).
    case v4(UInt32)
    /// An IPv6 address as two 64-bit halves, most significant first.
    case v6(high: UInt64, low: UInt64)

    /// Parses a literal address: `10.0.0.1`, `::1`, `::ffff:127.0.0.1`. No host names, no zone ids.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = withUnsafeBytes(of: &v6) { IPAddress(v6Bytes: $0) }
            return
        }
        return nil
    }

    /// An IPv6 address from its 16 network-order bytes.
    init(v6Bytes bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count >= 16, "an IPv6 address has 16 bytes")
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
        self = .v6(high: high, low: low)
    }

    /// The IPv4 address carried inside an IPv6 one, for the forms that route to it:
    /// IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d` (deprecated), NAT64
    /// `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::`.
    public var embeddedIPv4: (address: IPAddress, form: String)? {
        guard case .v6(let high, let low) = self else { return nil }
        let last32 = IPAddress.v4(UInt32(truncatingIfNeeded: low))
        if high == 0 && low >> 32 == 0xffff { return (last32, "IPv4-mapped") }
        if high == 0 && low >> 32 == 0 && low > 1 { return (last32, "IPv4-compatible") }
        if high == 0x0064_ff9b_0000_0000 && low >> 32 == 0 { return (last32, "NAT64") }
        if high >> 48 == 0x2002 { return (.v4(UInt32(truncatingIfNeeded: high >> 16)), "6to4") }
        return nil
    }

    public var description: String {
        switch self {
        case .v4(let value):
            var addr = in_addr(s_addr: value.bigEndian)
            return IPAddress.format(family: AF_INET, &addr)
        case .v6(let high, let low):
            var addr = in6_addr()
            withUnsafeMutableBytes(of: &addr) { bytes in
                for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) }
                for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i))) }
            }
            return IPAddress.format(family: AF_INET6, &addr)
        }
    }

    private static func format<T>(family: Int32, _ addr: inout T) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = withUnsafeBytes(of: &addr) { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        guard ok else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
