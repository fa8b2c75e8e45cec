import Testing

@testable import HeraldIngest

@Suite("URL rules: a valid host (DNS name, IPv4 or bracketed IPv6) and a port 1-65535")
struct URLRulesTests {
    @Test(
        "accepts real URLs",
        arguments: [
            "https://example.com/", "http://a.b:8080/x?y=1", "https://1.2.3.4/", "https://[::1]:8443/hook",
            "https://[2001:db8::1]/", "https://[::ffff:192.0.2.1]/", "https://[fe80:0:0:0:0:0:0:1]/",
            "https://xn--bcher-kva.example/",
            "https://my_service.internal:65535", "https://example.com./", "https://localhost:1/",
        ])
    func accepts(url: String) {
        #expect(throws: Never.self, "\(url) should be accepted") { try Rules.url(url, field: "url") }
    }

    @Test(
        "refuses malformed hosts and ports",
        arguments: [
            "https://[:::::]/", "https://[1::2::3]/", "https://[12345::]/", "https://[::g]/", "https://[1:2:3:4:5:6:7:8:9]/",
            "https://[1:2:3:4:5:6:7]/", "https://[::1.2.3]/", "https://[]/", "https://[::1/", "https://-bad.example/",
            "https://bad-.example/", "https://a..b/", "https://.example/", "https://x.example:0/", "https://x.example:65536/",
            "https://x.example:/", "https://:80/", "https:///path", "https://1.2.3.999/", "https://1.2.3/",
            "https://%41.example/",
            "https://ex!ample.com/", "https://\(String(repeating: "a", count: 64)).example/",
        ])
    func refuses(url: String) {
        #expect(throws: Problem.self, "\(url) should be refused") { try Rules.url(url, field: "url") }
    }
}
