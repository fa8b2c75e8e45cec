import Foundation
import HeraldCore
import HeraldCtl
import HeraldSigning
import HeraldTestSupport
import Testing

@Suite("heraldctl lists and verifies the registry's profiles")
struct ProfileListingTests {
    @Test(
        "the help of endpoints add, endpoints update and listen names every profile in the registry",
        arguments: [["endpoints", "add", "--help"], ["endpoints", "update", "--help"], ["listen", "--help"]])
    func help(arguments: [String]) throws {
        let result = try CtlBinary.run(arguments, amqpURL: nil)
        let text = (result.stdout + result.stderr).replacingOccurrences(of: "\n", with: " ")
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        #expect(
            text.contains(ProfileRegistry.standard.listing),
            "heraldctl \(arguments.joined(separator: " ")): expected '\(ProfileRegistry.standard.listing)' in \(result)")
    }

    @Test("listen refuses a profile the registry does not know, naming the known ones")
    func unknownProfile() throws {
        let result = try CtlBinary.run(["listen", "--profile", "example", "--secret", "s"], amqpURL: nil)
        #expect(result.status != 0, "\(result)")
        #expect(result.stderr.contains(ProfileRegistry.standard.listing), "\(result)")
    }

    @Test("a listener built with an added profile verifies its webhooks from the receiver's secret")
    func addedProfile() throws {
        let registry = ProfileRegistry.withExample
        let secret = try Signer.generateSecret(profile: "example", profiles: registry)
        let now = Timestamp.now()
        let endpoint = Endpoint(
            id: "ep_1", account: "acme", url: "http://127.0.0.1/hook", profile: "example",
            secrets: [EndpointSecret(value: secret.stored, createdAt: now.adding(seconds: -60))])
        let event = Event(
            type: "message.delivered", account: "acme", occurredAt: now,
            data: ["messageId": "m1", "recipient": "+9779800000000", "status": "delivered", "channel": "sms"])
        let job = try Signer.sign(event, for: endpoint, now: now, profiles: registry)

        let listener = try WebhookListener(profile: "example", secrets: [secret.reveal], url: nil, profiles: registry)
        let ok = listener.check(path: "/hook", headers: job.headers, body: job.body)
        #expect(ok.failure == nil, "expected a valid signature, got \(ok.failure ?? "")")
        var tampered = job.body
        tampered[tampered.firstIndex(of: UInt8(ascii: "1"))!] = UInt8(ascii: "2")
        let bad = listener.check(path: "/hook", headers: job.headers, body: tampered)
        #expect(bad.failure != nil, "a tampered body verified")
        #expect(throws: SigningError.unknownProfile("example")) {
            try WebhookListener(profile: "example", secrets: [secret.reveal], url: nil)
        }
    }
}
