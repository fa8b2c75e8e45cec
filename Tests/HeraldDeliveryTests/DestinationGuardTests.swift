import HeraldDelivery
import Testing

@Suite("Addresses and CIDR ranges")
struct AddressesAndCIDRRanges {
    @Test(
        "addresses parse to numbers and print back canonically",
        arguments: [
            ("127.0.0.1", "127.0.0.1"), ("::1", "::1"), ("::FFFF:10.0.0.1", "::ffff:10.0.0.1"),
            ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"), ("fe80::1", "fe80::1"),
        ])
    func addressRoundTrip(input: String, printed: String) throws {
        let address = try #require(IPAddress(input))
        #expect(address.description == printed)
    }

    @Test(
        "malformed addresses are rejected",
        arguments: ["", "localhost", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "::g", "1.2.3.4/8", " 1.2.3.4"])
    func malformedAddress(input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test(
        "CIDRs parse, clear host bits and match",
        arguments: [
            ("10.0.0.0/8", "10.255.1.2", true), ("10.0.0.0/8", "11.0.0.0", false),
            ("127.0.0.1/8", "127.9.9.9", true), ("127.0.0.1", "127.0.0.1", true), ("127.0.0.1", "127.0.0.2", false),
            ("172.16.0.0/12", "172.31.255.255", true), ("172.16.0.0/12", "172.32.0.0", false),
            ("100.64.0.0/10", "100.127.255.255", true), ("100.64.0.0/10", "100.128.0.0", false),
            ("0.0.0.0/0", "8.8.8.8", true), ("0.0.0.0/0", "::1", false),
            ("fc00::/7", "fd12:3456::1", true), ("fc00::/7", "fe00::1", false),
            ("fe80::/10", "febf::1", true), ("fe80::/10", "fec0::1", false),
            ("::1/128", "::1", true), ("::1/128", "::2", false), ("::/0", "2606:4700::1", true),
            ("2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff", true), ("2001:db8::/65", "2001:db8::8000:0:0:0", false),
        ])
    func cidrMatching(cidr: String, address: String, expected: Bool) throws {
        let range = try #require(CIDR(cidr))
        let ip = try #require(IPAddress(address))
        #expect(range.contains(ip) == expected, "\(range) contains \(ip)")
    }

    @Test(
        "CIDR text is normalised",
        arguments: [("127.0.0.1/8", "127.0.0.0/8"), ("::1", "::1/128"), (" 10.1.2.3/16 ", "10.1.0.0/16")])
    func cidrNormalised(input: String, printed: String) throws {
        #expect(try #require(CIDR(input)).description == printed)
    }

    @Test(
        "malformed CIDRs are rejected",
        arguments: ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "/8", "x/8", "10.0.0.0/+8"])
    func malformedCIDR(input: String) {
        #expect(CIDR(input) == nil)
    }
}

@Suite("The destination guard")
struct TheDestinationGuard {
    @Test(
        "special-purpose addresses are refused with the range named",
        arguments: [
            ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("10.1.2.3", "private (RFC 1918)"),
            ("172.16.0.1", "private (RFC 1918)"), ("192.168.1.1", "private (RFC 1918)"),
            ("169.254.169.254", "link-local (cloud metadata)"), ("169.254.1.1", "link-local"),
            ("100.64.0.1", "shared address space (CGNAT, RFC 6598)"), ("224.0.0.251", "multicast"),
            ("0.0.0.0", "unspecified (\"this network\", 0.0.0.0/8)"), ("255.255.255.255", "broadcast"),
            ("240.0.0.1", "reserved"), ("::1", "loopback"), ("::", "unspecified"), ("fd00:ec2::254", "unique local (IPv6 ULA)"),
            ("fe80::1", "link-local"), ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback (IPv4-mapped form of 127.0.0.1)"),
            ("::ffff:169.254.169.254", "link-local (cloud metadata) (IPv4-mapped form of 169.254.169.254)"),
            ("::ffff:10.0.0.1", "private (RFC 1918) (IPv4-mapped form of 10.0.0.1)"),
            ("64:ff9b::a00:1", "private (RFC 1918) (NAT64 form of 10.0.0.1)"),
            ("2002:7f00:1::", "loopback (6to4 form of 127.0.0.1)"),
        ])
    func refused(address: String, category: String) throws {
        let ip = try #require(IPAddress(address))
        let refusal = DestinationGuard().refusal(for: ip)
        #expect(refusal?.reason == "destination \(ip) is \(category); allow it with HERALD_ALLOW_PRIVATE")
    }

    @Test(
        "public addresses pass",
        arguments: [
            "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "169.253.255.255",
        ])
    func publicAllowed(address: String) throws {
        let ip = try #require(IPAddress(address))
        #expect(DestinationGuard().refusal(for: ip) == nil, "refused \(ip)")
    }

    @Test("the allowlist lets exactly its ranges through, including their IPv4-mapped forms")
    func allowlist() throws {
        let destinationGuard = DestinationGuard(allowed: ["127.0.0.1/32", "::1/128", "10.1.0.0/16"].map { CIDR($0)! })
        #expect(destinationGuard.allowed.map(\.description) == ["127.0.0.1/32", "::1/128", "10.1.0.0/16"])
        for allowed in ["127.0.0.1", "::1", "::ffff:127.0.0.1", "10.1.200.3"] {
            #expect(destinationGuard.refusal(for: IPAddress(allowed)!) == nil, "refused \(allowed)")
        }
        for refused in ["127.0.0.2", "10.2.0.1", "169.254.169.254", "::ffff:127.0.0.2"] {
            #expect(destinationGuard.refusal(for: IPAddress(refused)!) != nil, "allowed \(refused)")
        }
    }

    @Test("URL schemes: https always, http unless HTTPS-only, nothing else")
    func schemes() throws {
        let open = DestinationGuard()
        let strict = DestinationGuard(httpsOnly: true)
        #expect(strict.httpsOnly)
        #expect(open.refusal(forURL: "https://a.example/") == nil)
        #expect(open.refusal(forURL: "HTTP://a.example/") == nil)
        #expect(strict.refusal(forURL: "https://a.example/") == nil)
        #expect(
            strict.refusal(forURL: "http://a.example/")?.reason
                == "http:// URLs are refused in HTTPS-only mode (HERALD_HTTPS_ONLY)")
        #expect(open.refusal(forURL: "file:///etc/passwd")?.reason == "URL scheme 'file' is not http or https")
        #expect(open.refusal(forURL: "gopher://a.example/") != nil)
    }
}
