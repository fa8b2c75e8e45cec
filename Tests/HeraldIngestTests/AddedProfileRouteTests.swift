import Foundation
import HeraldCore
import HeraldSigning
import HeraldTestSupport
import Testing

/// Ingest built with `ProfileRegistry.withExample` takes the test-only `ExampleProfile` like a
/// shipped one: nothing in ingest knows its name or its secret rules.
@Suite("An ingest whose registry has an added profile creates endpoints for it")
struct AddedProfileRouteTests {
    @Test("listed in the 422 rule, accepted for accounts and endpoints, secrets stored in its form, test events signed")
    func created() async throws {
        let registry = ProfileRegistry.withExample
        try await withIngest(profiles: registry) { h in
            let (account, key) = try await h.account("acct_example", profile: "example")

            let unknown = try await h.call(
                "POST", "/v1/endpoints", key: key, json: #"{"url":"https://x.example/","profile":"smtp"}"#)
            #expect(unknown["rule"]?.stringValue == "one of \(registry.listing)", "\(unknown)")
            #expect(unknown["rule"]?.stringValue?.hasSuffix(", example") == true, "\(unknown)")

            // Generated: the answer shows the plaintext once, the store keeps the profile's form.
            let created = try await h.call(
                "POST", "/v1/endpoints", key: key,
                json: #"{"id":"ep_ex","url":"https://x.example/hook","profile":"example"}"#)
            #expect(created.status == 201, "\(created)")
            #expect(created["profile"] == "example", "\(created)")
            #expect(created["policy"]?["timeoutMs"] == 4000, "the profile's default policy: \(created)")
            let reveal = try #require(created["secret"]?.stringValue, "\(created)")
            #expect(reveal.hasPrefix("ex_"), "got \(reveal)")
            let endpoint = try #require(try await h.service.store.endpoint(id: EndpointKey.key(account: account, id: "ep_ex")))
            let profile = try registry.profile(named: "example")
            #expect(endpoint.secrets.map(\.value) == [try profile.storedSecret(given: reveal)])

            // Given: stored through the profile's own rule.
            let given = try await h.call(
                "POST", "/v1/endpoints", key: key,
                json: #"{"id":"ep_ex2","url":"https://x.example/hook","profile":"example","secret":"my-plain"}"#)
            #expect(given.status == 201, "\(given)")
            let stored = try await h.service.store.endpoint(id: EndpointKey.key(account: account, id: "ep_ex2"))
            #expect(
                stored?.secrets.map(\.value) == [profile.verificationSecret(receiverHolds: "my-plain")],
                "\(String(describing: stored))")

            // Ingest signs a test event for it; what the endpoint stores signs what its receiver verifies.
            let test = try await h.call("POST", "/v1/endpoints/ep_ex/test", key: key)
            #expect(test.status == 202, "\(test)")
            let event = Event(
                type: "message.delivered", account: account, occurredAt: .now(),
                data: ["messageId": "m1", "status": "DELIVERED", "recipient": "+10000000000", "channel": "sms"])
            let job = try Signer.sign(event, for: endpoint, now: .now(), profiles: registry)
            var receiver = endpoint
            receiver.secrets = [
                EndpointSecret(value: profile.verificationSecret(receiverHolds: reveal), createdAt: endpoint.secrets[0].createdAt)
            ]
            try Signer.verify(
                ReceivedWebhook(body: job.body, headers: job.headers), for: receiver, now: .now(), profiles: registry)
        }
    }
}
