import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@testable import HeraldSigning

@Suite("Herald's verifier accepts what it signed and rejects tampering, stale times and wrong secrets")
struct VerificationTests {
    /// Pinned secrets for the shipped profiles; a profile without one (the test-only
    /// `ExampleProfile`, a new provider) is checked with a generated secret.
    static let pinned: [String: String] = [
        "standard": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "eksms": "eksms-secret", "ekdsend": "ekdsend-secret",
        "httpsms": "httpsms-key", "sinch": "sinch-secret", "teekrr": TeekrrProfile.storedForm(ofPlaintext: "teekrr-plaintext"),
    ]

    static func secret(for profile: any WebhookProfile) throws -> String {
        try pinned[profile.name] ?? profile.generateSecret().stored
    }

    @Test("round trip, tampered body, wrong secret", arguments: ProfileRegistry.withExample.names)
    func roundTrip(name: String) throws {
        let profile = try ProfileRegistry.withExample.profile(named: name)
        let secret = try Self.secret(for: profile)
        let r = try profile.sign(Fixture.event, context: Fixture.context([secret]))
        let ok = ReceivedWebhook(body: r.body, headers: r.headers, url: Fixture.url)
        try profile.verify(
            ok, secrets: ["some-other-secret-that-does-not-match-0000000000000", secret], now: Fixture.now, toleranceSeconds: 300)

        var tampered = ok
        tampered.body = Array(Fixture.text(r.body).replacingOccurrences(of: "a1b2c3d4", with: "a1b2c3d5").utf8)
        #expect(throws: VerificationError.self, "\(profile.name) accepted a tampered body") {
            try profile.verify(tampered, secrets: [secret], now: Fixture.now, toleranceSeconds: 300)
        }
        #expect(throws: VerificationError.self, "\(profile.name) accepted a wrong secret") {
            try profile.verify(ok, secrets: ["whsec_d3Jvbmc="], now: Fixture.now, toleranceSeconds: 300)
        }
    }

    @Test("timestamped schemes refuse a request outside the tolerance", arguments: ["standard", "httpsms", "sinch"])
    func stale(name: String) throws {
        let profile = try ProfileRegistry.standard.profile(named: name)
        let secret = try Self.secret(for: profile)
        let r = try profile.sign(Fixture.event, context: Fixture.context([secret]))
        let req = ReceivedWebhook(body: r.body, headers: r.headers, url: Fixture.url)
        #expect(throws: VerificationError.self, "\(profile.name) accepted a request an hour old") {
            try profile.verify(req, secrets: [secret], now: Fixture.now.adding(seconds: 3600), toleranceSeconds: 300)
        }
    }

    @Test("httpsms checks aud and payload_hash")
    func httpsmsClaims() throws {
        let r = try HttpSMSProfile().sign(Fixture.event, context: Fixture.context(["k"]))
        #expect(throws: VerificationError.self) {
            try HttpSMSProfile().verify(
                ReceivedWebhook(body: r.body, headers: r.headers, url: "https://evil.example"), secrets: ["k"], now: Fixture.now,
                toleranceSeconds: 300)
        }
    }

    @Test("ekdsend verifies over the re-serialized body, as its receivers do")
    func ekdsendReserialized() throws {
        let r = try EKDSendProfile().sign(Fixture.event, context: Fixture.context(["s"]))
        let pretty = Array(Fixture.text(r.body).replacingOccurrences(of: ",", with: ", ").utf8)
        try EKDSendProfile().verify(
            ReceivedWebhook(body: pretty, headers: r.headers), secrets: ["s"], now: Fixture.now, toleranceSeconds: 300)
    }

    @Test("during rotation the old secret still verifies; single-signature profiles sign with the new one")
    func rotation() throws {
        var ep = Endpoint(
            id: "ep_1", account: "acme", url: Fixture.url, profile: "eksms",
            secrets: [EndpointSecret(value: "old", createdAt: Fixture.occurredAt)])
        ep.rotate(to: "new", at: Fixture.now, graceSeconds: 3600)
        let job = try Signer.sign(Fixture.event, for: ep, now: Fixture.now, nonce: .fixed("n"))
        let received = ReceivedWebhook(body: job.body, headers: job.headers)
        try EKSMSProfile().verify(received, secrets: ["new"], now: Fixture.now, toleranceSeconds: 300)
        #expect(throws: VerificationError.signatureMismatch) {
            try EKSMSProfile().verify(received, secrets: ["old"], now: Fixture.now, toleranceSeconds: 300)
        }
        try Signer.verify(received, for: ep, now: Fixture.now)

        var std = Endpoint(
            id: "ep_2", account: "acme", url: Fixture.url,
            secrets: [EndpointSecret(value: "whsec_b2xk", createdAt: Fixture.occurredAt)])
        std.rotate(to: "whsec_bmV3", at: Fixture.now, graceSeconds: 3600)
        let sjob = try Signer.sign(Fixture.event, for: std, now: Fixture.now)
        #expect(sjob.headers[header: "webhook-signature"]!.split(separator: " ").count == 2)
        let later = Fixture.now.adding(seconds: 7200)
        let ljob = try Signer.sign(Fixture.event, for: std, now: later)
        #expect(ljob.headers[header: "webhook-signature"]!.split(separator: " ").count == 1)
    }

    @Test("the signer builds attempt 1, then re-signs a retry with a fresh signature, keeping its attempt number")
    func signer() throws {
        let ep = Endpoint(
            id: "ep_1", account: "acme", url: Fixture.url, profile: "sinch",
            secrets: [EndpointSecret(value: "s", createdAt: Fixture.occurredAt)])
        let first = try Signer.sign(Fixture.event, for: ep, now: Fixture.now)
        #expect(first.attempt == 1 && first.policy == SinchProfile().defaultPolicy && first.firstAttemptAt == Fixture.now)
        var scheduled = first
        scheduled.attempt = 2  // what the worker publishes to a delay tier after attempt 1 failed
        let retry = try Signer.sign(Fixture.event, for: ep, retrying: scheduled, now: Fixture.now.adding(seconds: 30))
        #expect(retry.attempt == 2 && retry.firstAttemptAt == Fixture.now && retry.policy == SinchProfile().defaultPolicy)
        #expect(
            retry.headers[header: "x-sinch-webhook-signature-nonce"] != first.headers[header: "x-sinch-webhook-signature-nonce"])
        #expect(retry.headers[header: "x-sinch-webhook-signature-timestamp"] == "1781934695")
        var callback = Fixture.event
        callback.callbackUrl = "https://other.example/cb"
        #expect(try Signer.sign(callback, for: ep, now: Fixture.now).url == "https://other.example/cb")
        #expect(throws: SigningError.noSecret(endpoint: "ep_9")) {
            try Signer.sign(
                Fixture.event, for: Endpoint(id: "ep_9", account: "acme", url: Fixture.url, secrets: []), now: Fixture.now)
        }
    }
}

@Suite("Generated secrets have each profile's form and come from the CSPRNG")
struct SecretGenerationTests {
    @Test("forms", arguments: ProfileRegistry.withExample.names)
    func forms(name: String) throws {
        let profile = try ProfileRegistry.withExample.profile(named: name)
        let a = try profile.generateSecret(), b = try profile.generateSecret()
        #expect(a != b)
        try profile.validate(storedSecret: a.stored)
        // Every generated secret signs and verifies.
        let r = try profile.sign(Fixture.event, context: Fixture.context([a.stored]))
        try profile.verify(
            ReceivedWebhook(body: r.body, headers: r.headers, url: Fixture.url), secrets: [a.stored], now: Fixture.now,
            toleranceSeconds: 300)
        // The revealed form, given back (an import) or held by a receiver, leads to the same key.
        let given = try profile.storedSecret(given: a.reveal)
        #expect(given == a.stored, "\(name): stored form of the revealed secret: expected \(a.stored), got \(given)")
        try profile.verify(
            ReceivedWebhook(body: r.body, headers: r.headers, url: Fixture.url),
            secrets: [profile.verificationSecret(receiverHolds: a.reveal)], now: Fixture.now, toleranceSeconds: 300)
        #expect(
            a.reveal.count >= 43, "\(name): a revealed secret of \(a.reveal.count) characters is too short for 32 random bytes")
    }

    @Test("standard secrets are whsec_ and 32 bytes")
    func standardForm() throws {
        let a = try StandardWebhooksProfile().generateSecret()
        #expect(a.stored.hasPrefix("whsec_") && Base64.decode(a.stored.dropFirst(6))?.count == 32, "got \(a.stored)")
    }

    @Test("a Teekrr secret is stored as the hash of its plaintext, whether given or held by a receiver")
    func teekrrForms() throws {
        let p = TeekrrProfile(), hash = TeekrrProfile.storedForm(ofPlaintext: "plain-secret")
        #expect(try p.storedSecret(given: "plain-secret") == hash)
        #expect(try p.storedSecret(given: hash) == hash, "an imported hash is kept as it is")
        #expect(p.verificationSecret(receiverHolds: "plain-secret") == hash)
        #expect(p.verificationSecret(receiverHolds: hash) == hash)
    }

    @Test("Ed25519 key pairs: whsk_ stored, whpk_ revealed, and they belong together")
    func keyPair() throws {
        let pair = try StandardWebhooksProfile().generateKeyPair()
        #expect(pair.stored.hasPrefix("whsk_") && pair.reveal.hasPrefix("whpk_"))
        #expect(try StandardWebhooksProfile.publicKey(of: pair.stored) == pair.reveal)
    }
}
