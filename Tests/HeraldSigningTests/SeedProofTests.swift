import Foundation
import HeraldCore
import Testing

@testable import HeraldSigning

/// Herald signs; each seed's own verification code (node) verifies — on hostile payloads.
/// Times are the real clock because the seeds' verifiers read `Date.now()`.
@Suite("Each seed's own verification code accepts what Herald signs")
struct SeedProofTests {
    static let url = "https://example.com/webhooks/herald?tenant=a/b"

    struct ProfileCase: Sendable, CustomStringConvertible {
        var profile: String
        var script: String
        var status: MessageStatus
        var stored: String
        var given: String  // what the receiver configures
        var description: String { profile }
    }

    static let profiles: [ProfileCase] = [
        ProfileCase(profile: "eksms", script: "eksms.mjs", status: .delivered, stored: "eksms-secret-ü", given: "eksms-secret-ü"),
        ProfileCase(
            profile: "ekdsend", script: "ekdsend.mjs", status: .failed, stored: "ekdsend-secret", given: "ekdsend-secret"),
        ProfileCase(profile: "httpsms", script: "httpsms.mjs", status: .delivered, stored: "httpsms-key", given: "httpsms-key"),
        ProfileCase(profile: "sinch", script: "sinch.mjs", status: .undelivered, stored: "sinch-secret", given: "sinch-secret"),
        ProfileCase(
            profile: "teekrr", script: "teekrr.mjs", status: .delivered,
            stored: TeekrrProfile.storedForm(ofPlaintext: "tk_plaintext"), given: "tk_plaintext"),
        ProfileCase(
            profile: "standard", script: "standard.mjs", status: .delivered,
            stored: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", given: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ]

    static func sign(_ c: ProfileCase, extra: JSONObject, secrets: [String]? = nil) throws -> SignedRequest {
        let profile = try ProfileRegistry.standard.profile(named: c.profile)
        let event = Hostile.event(c.status, extra: extra, reason: c.status == .delivered ? nil : "absent \"subscriber\" / नेटवर्क")
        let ctx = SigningContext(
            endpointId: "ep_1", url: url, account: event.account, secrets: secrets ?? [c.stored], now: .now())
        return try profile.sign(event, context: ctx)
    }

    @Test("verifies every hostile payload and rejects a tampered one", arguments: profiles)
    func seedVerifies(c: ProfileCase) throws {
        for (name, extra) in Hostile.extras {
            let r = try SeedProofTests.sign(c, extra: extra)
            let ok = try ExternalVerifier.verify(
                c.script, body: r.body, headers: r.headers, secret: c.given, url: SeedProofTests.url)
            #expect(
                ok.verified, "\(c.profile) seed code rejected the '\(name)' payload: \(ok.output)\nbody: \(Fixture.text(r.body))")

            var tampered = r.body
            let i = tampered.firstIndex(of: UInt8(ascii: "1"))!  // inside the message id
            tampered[i] = UInt8(ascii: "2")
            let bad = try ExternalVerifier.verify(
                c.script, body: tampered, headers: r.headers, secret: c.given, url: SeedProofTests.url)
            if c.profile == "httpsms" {
                // The seed's JWT does not cover the body: a tampered body passes it. payload_hash catches it.
                #expect(bad.verified, "httpsms: the seed's JWT check is not expected to see the body")
                let strict = try ExternalVerifier.verify(
                    c.script, body: tampered, headers: r.headers, secret: c.given, url: SeedProofTests.url,
                    extraArgs: ["--payload-hash"])
                #expect(!strict.verified, "httpsms: payload_hash did not catch a tampered body")
                let strictOK = try ExternalVerifier.verify(
                    c.script, body: r.body, headers: r.headers, secret: c.given, url: SeedProofTests.url,
                    extraArgs: ["--payload-hash"])
                #expect(strictOK.verified, "httpsms payload_hash check failed on the untouched body: \(strictOK.output)")
            } else {
                #expect(!bad.verified, "\(c.profile) seed code accepted a tampered '\(name)' body")
            }
            // (Appending to a base64 secret may decode to the same key, so standard gets another key.)
            let wrongSecret = c.profile == "standard" ? "whsec_d3Jvbmc=" : c.given + "x"
            let wrong = try ExternalVerifier.verify(
                c.script, body: r.body, headers: r.headers, secret: wrongSecret, url: SeedProofTests.url)
            #expect(!wrong.verified, "\(c.profile) seed code accepted the wrong secret")
        }
    }

    @Test("ekdsend's receivers re-serialize: the body is already what JSON.stringify prints")
    func ekdsendFixpoint() throws {
        let c = SeedProofTests.profiles[1]
        var everything = JSONObject()
        for (_, extra) in Hostile.extras { for (k, v) in extra { everything[k] = v } }
        let r = try SeedProofTests.sign(c, extra: everything)
        let ok = try ExternalVerifier.verify(c.script, body: r.body, headers: r.headers, secret: c.given, url: SeedProofTests.url)
        #expect(ok.verified, "ekdsend rejected the combined payload: \(ok.output)\nbody: \(Fixture.text(r.body))")
    }
}

@Suite("Standard Webhooks verifies with independent implementations")
struct StandardIndependentTests {
    static let old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let new = "whsec_cm90YXRlZC1zZWNyZXQtMzItYnl0ZXMtbG9uZyEhISE="

    func sign(_ secrets: [String], extra: JSONObject) throws -> SignedRequest {
        let event = Hostile.event(.delivered, extra: extra)
        let ctx = SigningContext(endpointId: "ep", url: SeedProofTests.url, account: event.account, secrets: secrets, now: .now())
        return try StandardWebhooksProfile().sign(event, context: ctx)
    }

    @Test("the PyPI standardwebhooks package verifies v1, with either secret during rotation")
    func python() throws {
        for (name, extra) in Hostile.extras {
            let r = try sign([StandardIndependentTests.new, StandardIndependentTests.old], extra: extra)
            for secret in [StandardIndependentTests.new, StandardIndependentTests.old] {
                let out = try ExternalVerifier.verify(
                    "standard.py", with: "python3", body: r.body, headers: r.headers, secret: secret, url: "")
                #expect(out.verified, "standardwebhooks rejected '\(name)' with \(secret.prefix(10))…: \(out.output)")
            }
            let wrong = try ExternalVerifier.verify(
                "standard.py", with: "python3", body: r.body, headers: r.headers, secret: "whsec_d3Jvbmc=", url: "")
            #expect(!wrong.verified, "standardwebhooks accepted a wrong secret")
        }
    }

    @Test("node verifies v1a Ed25519 with the whpk_ public key alone")
    func ed25519() throws {
        let pair = try StandardWebhooksProfile().generateKeyPair()
        for (name, extra) in Hostile.extras {
            let r = try sign([pair.stored, StandardIndependentTests.old], extra: extra)
            let ok = try ExternalVerifier.verify("standard.mjs", body: r.body, headers: r.headers, secret: pair.reveal, url: "")
            #expect(ok.verified, "node rejected v1a on '\(name)': \(ok.output)")
            var tampered = r.body
            tampered[tampered.count - 2] = UInt8(ascii: " ")
            let bad = try ExternalVerifier.verify(
                "standard.mjs", body: tampered, headers: r.headers, secret: pair.reveal, url: "")
            #expect(!bad.verified, "node accepted a tampered v1a body")
        }
    }
}

@Suite("The canonical serializer agrees with JavaScript on thousands of random values")
struct JSONFixpointTests {
    /// SplitMix64: deterministic, so a failure reproduces.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let pieces = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\u{0}", "\u{1F}", "\u{7F}", "\u{2028}", "\u{2029}", "न", "म", "😀", "🇳🇵", "\u{FEFF}",
        "é", "\n", "\t",
    ]
    static let keys = [
        "0", "1", "10", "2", "01", "-1", "4294967294", "4294967295", "a", "b", "__proto__", "constructor", "", "नाम", "😀",
    ]

    static func number(_ r: inout Random) -> Double {
        switch r.below(5) {
        case 0:
            let d = Double(bitPattern: r.next())
            return d.isFinite ? d : 0
        case 1: return Double(Int64(bitPattern: r.next()) >> r.below(64))
        case 2: return Double(r.below(2_000_000) - 1_000_000) / [1, 10, 100, 1000, 1e7][r.below(5)]
        case 3: return Double(r.below(10) + 1) * pow(10, Double(r.below(60) - 30))
        default: return Double(r.next() % 9_007_199_254_740_993) * (r.below(2) == 0 ? 1 : -1)
        }
    }

    static func value(_ r: inout Random, depth: Int) -> JSONValue {
        switch r.below(depth > 3 ? 4 : 6) {
        case 0: return .null
        case 1: return .bool(r.below(2) == 0)
        case 2: return .number(number(&r))
        case 3: return .string((0..<r.below(8)).map { _ in pieces[r.below(pieces.count)] }.joined())
        case 4: return .array((0..<r.below(4)).map { _ in value(&r, depth: depth + 1) })
        default:
            var o = JSONObject()
            for _ in 0..<r.below(5) { o[keys[r.below(keys.count)]] = value(&r, depth: depth + 1) }
            return .object(o)
        }
    }

    @Test("JSON.stringify(JSON.parse(herald)) === herald")
    func fixpoint() throws {
        var r = Random(state: 2026)
        var lines: [UInt8] = []
        for i in 0..<5000 {
            let v: JSONValue = i < 3000 ? .number(JSONFixpointTests.number(&r)) : JSONFixpointTests.value(&r, depth: 0)
            lines += v.serialized()
            lines.append(0x0A)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("herald-json-\(UUID().uuidString).txt")
        try Data(lines).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let out = try ExternalVerifier.run("node", "json-fixpoint.mjs", [file.path])
        #expect(out.verified, "JavaScript prints some values differently:\n\(out.output)")
    }
}
