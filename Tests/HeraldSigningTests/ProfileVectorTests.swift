import HeraldCore
import Testing

@testable import HeraldSigning

/// Bodies and signatures for the pinned fixture; expected signatures were computed independently
/// (Python's hmac/hashlib) from the expected body text.
@Suite("Each profile renders and signs the fixture byte for byte")
struct ProfileVectorTests {
    @Test("eksms: the seed's flat body, hex HMAC of the raw body")
    func eksms() throws {
        let r = try EKSMSProfile().sign(Fixture.event, context: Fixture.context(["eksms-secret"]))
        #expect(
            Fixture.text(r.body)
                == #"{"event":"message.delivered","messageId":"a1b2c3d4","recipient":"9818000000","status":"DELIVERED","deliveredAt":"2026-06-20T05:51:00.000Z"}"#
        )
        #expect(
            r.headers == [
                HTTPHeader("Content-Type", "application/json"),
                HTTPHeader("X-EKSMS-Signature", "ff09c935f064b5b3ffc6ffd93ff9f35d5783a7ddf9a05d6a24462609347c3253"),
                HTTPHeader("X-EKSMS-Event", "message.delivered"),
            ])
    }

    @Test("ekdsend: {id, type, created_at, data}, sha256=<hex>")
    func ekdsend() throws {
        let r = try EKDSendProfile().sign(Fixture.event, context: Fixture.context(["ekdsend-secret"]))
        #expect(
            Fixture.text(r.body)
                == #"{"id":"evt_fixed","type":"sms.delivered","created_at":"2026-06-20T05:51:00Z","data":{"message_id":"a1b2c3d4","to":"9818000000","status":"delivered","delivered_at":"2026-06-20T05:51:00Z"}}"#
        )
        #expect(
            r.headers[header: "X-EKDSend-Signature"] == "sha256=acbebc2a04eef84be0c0e4b304bb6971c5df87faadd5a5e5609256887c47363c")
    }

    @Test("teekrr: keyed with hex(SHA-256(secret)), only the hash stored")
    func teekrr() throws {
        let stored = TeekrrProfile.storedForm(ofPlaintext: "teekrr-plaintext")
        #expect(stored == "fcb43c64e6bc639255e48170052ca3aabf7af8fff7ebe9a00c67e73fcf0e7729")
        let r = try TeekrrProfile().sign(Fixture.event, context: Fixture.context([stored]))
        #expect(
            Fixture.text(r.body)
                == #"{"event":"delivered","timestamp":"2026-06-20T05:51:00.000Z","data":{"messageUuid":"a1b2c3d4","recipient":"9818000000","channel":"sms","status":"DELIVERED"}}"#
        )
        #expect(r.headers[header: "X-Teekrr-Signature"] == "90e371f8f541b2ffe1712e5f16d0f6779db49b7368b68c00a45dae1fb9b95ccc")
        #expect(r.headers[header: "X-Teekrr-Event"] == "delivered")
        #expect(throws: SigningError.self) {
            try TeekrrProfile().sign(Fixture.event, context: Fixture.context(["teekrr-plaintext"]))
        }
    }

    @Test("sinch: base64 HMAC over body.nonce.timestamp with its three companion headers")
    func sinch() throws {
        let r = try SinchProfile().sign(Fixture.event, context: Fixture.context(["sinch-secret"]))
        #expect(
            Fixture.text(r.body)
                == #"{"app_id":"acme","accepted_time":"2026-06-20T05:51:05.000Z","event_time":"2026-06-20T05:51:00.000Z","message_delivery_report":{"message_id":"a1b2c3d4","status":"DELIVERED","channel_identity":{"channel":"SMS","identity":"9818000000"}}}"#
        )
        #expect(
            r.headers == [
                HTTPHeader("Content-Type", "application/json"),
                HTTPHeader("x-sinch-webhook-signature-timestamp", "1781934665"),
                HTTPHeader("x-sinch-webhook-signature-nonce", "01J0NONCE"),
                HTTPHeader("x-sinch-webhook-signature-algorithm", "HmacSHA256"),
                HTTPHeader("x-sinch-webhook-signature", "x6PxCfrZDq7wAxc+23D+ooyiWfnY5Zve0QfMa0edxCc="),
            ])
    }

    @Test("httpsms: CloudEvents body, HS256 bearer token with aud = URL and payload_hash")
    func httpsms() throws {
        let r = try HttpSMSProfile().sign(Fixture.event, context: Fixture.context(["httpsms-key"]))
        #expect(
            Fixture.text(r.body)
                == #"{"specversion":"1.0","id":"evt_fixed","source":"/herald/accounts/acme","type":"message.phone.delivered","datacontenttype":"application/json","time":"2026-06-20T05:51:00.000Z","data":{"message_id":"a1b2c3d4","contact":"9818000000","status":"delivered","timestamp":"2026-06-20T05:51:00.000Z"}}"#
        )
        #expect(
            r.headers[header: "Authorization"]
                == "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJoZXJhbGQiLCJzdWIiOiJhY21lIiwiYXVkIjoiaHR0cHM6Ly9leGFtcGxlLmNvbS93ZWJob29rcy9zbXMiLCJpYXQiOjE3ODE5MzQ2NjUsIm5iZiI6MTc4MTkzNDY2NSwiZXhwIjoxNzgxOTM1MjY1LCJqdGkiOiJldnRfZml4ZWQiLCJwYXlsb2FkX2hhc2giOiI2ODFkODZlYWIwZjk5NThhMzI2YmU5NzE3ZmEzM2E1OGRiM2Q0MjcyM2Q3YWE2M2FhN2RmMWZiNzU0NTIxYThmIn0.ZF1-yUB8DG2J_v5z-dA-eiciTCavUoKyifNawlCidnA"
        )
        #expect(r.headers[header: "X-Event-Type"] == "message.phone.delivered")
    }

    @Test("standard: {type, timestamp, data}, one v1 signature per valid secret, newest first")
    func standard() throws {
        let old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", new = "whsec_cm90YXRlZC1zZWNyZXQtMzItYnl0ZXMtbG9uZyEhISE="
        let r = try StandardWebhooksProfile().sign(Fixture.event, context: Fixture.context([new, old]))
        #expect(
            Fixture.text(r.body)
                == #"{"type":"message.delivered","timestamp":"2026-06-20T05:51:00.000Z","data":{"messageId":"a1b2c3d4","status":"DELIVERED","recipient":"9818000000","channel":"sms"}}"#
        )
        #expect(
            r.headers == [
                HTTPHeader("Content-Type", "application/json"), HTTPHeader("webhook-id", "evt_fixed"),
                HTTPHeader("webhook-timestamp", "1781934665"),
                HTTPHeader(
                    "webhook-signature",
                    "v1,vVI1f4BVKNFne1JJeT/XgcKhykEAEpMLHM8ktzu2RSw= v1,ZNjU1FFr1b1q0ci0nuZmD/K0tvRZ0vAEj/Y/BgWZcGA="),
            ])
    }

    @Test("standard v1a: Ed25519 with a whsk_ key verifies with its whpk_ public key only")
    func standardEd25519() throws {
        let seed = Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")!
        let whsk = "whsk_" + Base64.encode(seed)
        let whpk = try StandardWebhooksProfile.publicKey(of: whsk)
        #expect(whpk == "whpk_" + Base64.encode(Hex.decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")!))
        let r = try StandardWebhooksProfile().sign(Fixture.event, context: Fixture.context([whsk]))
        let sig = r.headers[header: "webhook-signature"]!
        #expect(sig.hasPrefix("v1a,"))
        let content = StandardWebhooksProfile.signedContent(id: "evt_fixed", timestamp: "1781934665", body: r.body)
        #expect(Base64.encode(try Crypto.ed25519Sign(seed: seed, message: content)) == String(sig.dropFirst(4)))
        let received = ReceivedWebhook(body: r.body, headers: r.headers)
        try StandardWebhooksProfile().verify(received, secrets: [whpk], now: Fixture.now, toleranceSeconds: 300)
        #expect(throws: SigningError.self) { try StandardWebhooksProfile().sign(Fixture.event, context: Fixture.context([whpk])) }
    }
}

@Suite("Profiles name events their provider's way and skip what it lacks")
struct EventNameTests {
    func event(_ status: MessageStatus, channel: String = "sms") -> Event {
        StatusChange(
            account: "a", messageId: "m", status: status, recipient: "r", channel: channel, occurredAt: Fixture.occurredAt
        ).event()
    }

    @Test("names per profile")
    func names() {
        #expect(EKDSendProfile().eventName(for: event(.failed)) == "sms.failed")
        #expect(EKDSendProfile().eventName(for: event(.opened, channel: "email")) == "email.opened")
        #expect(EKDSendProfile().eventName(for: event(.delivered, channel: "voice")) == "call.completed")
        #expect(HttpSMSProfile().eventName(for: event(.expired)) == "message.send.expired")
        #expect(HttpSMSProfile().eventName(for: event(.received)) == "message.phone.received")
        #expect(TeekrrProfile().eventName(for: event(.undelivered)) == "failed")
        #expect(TeekrrProfile().eventName(for: event(.sent)) == nil)
        #expect(EKSMSProfile().eventName(for: event(.billed)) == nil)
        #expect(SinchProfile().eventName(for: Event(type: "call.completed", account: "a", occurredAt: Fixture.occurredAt)) == nil)
        #expect(StandardWebhooksProfile().eventName(for: event(.billed)) == "message.billed")
    }

    @Test("an unsupported event is a skip, not a failure")
    func unsupported() {
        do {
            _ = try TeekrrProfile().sign(event(.sent), context: Fixture.context([TeekrrProfile.storedForm(ofPlaintext: "x")]))
            Issue.record("teekrr signed message.sent")
        } catch {
            #expect(error.isEventNotSupported)
        }
    }

    @Test("the registry finds each of its profiles by name, defaults to standard and refuses others")
    func registry() throws {
        let registry = ProfileRegistry.standard
        #expect(registry.defaultName == "standard" && registry.defaultProfile.name == "standard")
        for name in registry.names {
            let found = try registry.profile(named: name).name
            #expect(found == name, "looked up \(name), got \(found)")
        }
        #expect(throws: SigningError.unknownProfile("nope")) { try registry.profile(named: "nope") }
    }

    @Test("default policies follow the seeds")
    func policies() {
        #expect(EKDSendProfile().defaultPolicy.delaysSeconds.count == 5)
        #expect(EKDSendProfile().defaultPolicy.timeoutMs == 5000)
        #expect(HttpSMSProfile().defaultPolicy.delaysSeconds.count == 4)
        #expect(HttpSMSProfile().defaultPolicy.retryOn == [.serverError])
        #expect(HttpSMSProfile().defaultPolicy.delaysSeconds.allSatisfy { $0 >= 1 })
        #expect(TeekrrProfile().defaultPolicy.maxAttempts == 1)
        #expect(TeekrrProfile().defaultPolicy.timeoutMs == 10_000)
        #expect(SinchProfile().defaultPolicy.delaysSeconds.reduce(0, +) >= 3 * 3600)
        let day = StandardWebhooksProfile().defaultPolicy.delaysSeconds.reduce(0, +)
        #expect(day > 20 * 3600 && day < 36 * 3600)
    }
}
