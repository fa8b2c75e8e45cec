import HeraldCore
import HeraldSigning
import Testing

@Suite("The signer sends a job where its caller says")
struct TheSignerDestination {
    private let endpoint = Endpoint(
        id: "ep_1", account: "acme", url: Fixture.url,
        secrets: [EndpointSecret(value: "whsec_b2xk", createdAt: Fixture.occurredAt)])

    private var withCallback: Event {
        var event = Fixture.event
        event.callbackUrl = "https://other.example/cb"
        return event
    }

    @Test("by default an event's callbackUrl is the destination, else the endpoint's URL")
    func defaultDestination() {
        let plain = Signer.destination(of: Fixture.event, for: endpoint)
        #expect(plain == "https://example.com/webhooks/sms", "got \(plain)")
        let callback = Signer.destination(of: withCallback, for: endpoint)
        #expect(callback == "https://other.example/cb", "got \(callback)")
    }

    @Test("signed to the endpoint's URL, an event with a callbackUrl keeps it and signs like one without")
    func explicitDestination() throws {
        let job = try Signer.sign(withCallback, for: endpoint, to: endpoint.url, now: Fixture.now)
        #expect(job.url == "https://example.com/webhooks/sms", "got \(job.url)")
        #expect(job.event.callbackUrl == "https://other.example/cb", "the job must carry the whole event, got \(job.event)")
        let without = try Signer.sign(Fixture.event, for: endpoint, now: Fixture.now)
        #expect(job.body == without.body)
        #expect(job.headers == without.headers, "expected \(without.headers), got \(job.headers)")
        #expect(job.headers[header: "webhook-signature"] == without.headers[header: "webhook-signature"])
    }

    @Test("the destination given is the one signed and sent to, whatever the endpoint's URL")
    func anyDestination() throws {
        let job = try Signer.sign(Fixture.event, for: endpoint, to: "https://third.example/x", now: Fixture.now)
        #expect(job.url == "https://third.example/x", "got \(job.url)")
        let viaDefault = try Signer.sign(withCallback, for: endpoint, now: Fixture.now)
        let explicit = try Signer.sign(withCallback, for: endpoint, to: "https://other.example/cb", now: Fixture.now)
        #expect(viaDefault == explicit, "expected \(explicit), got \(viaDefault)")
    }
}
