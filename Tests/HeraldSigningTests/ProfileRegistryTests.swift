import Foundation
import HeraldCore
import HeraldSigning
import HeraldTestSupport
import Testing

@Suite("The published OpenAPI document lists exactly the registry's profiles")
struct OpenAPIProfileEnumTests {
    /// openapi/herald.yaml, found from this file's path (Tests/HeraldSigningTests/…).
    static func document() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("openapi/herald.yaml"), encoding: .utf8)
    }

    /// Every flow-style `enum: [a, b, …]` in the document, as lists of names.
    static func enums(in yaml: String) -> [[String]] {
        yaml.split(separator: "\n").compactMap { line in
            let text = line.trimmingCharacters(in: .whitespaces)
            guard text.hasPrefix("enum:"), let open = text.firstIndex(of: "["), let close = text.lastIndex(of: "]") else {
                return nil
            }
            return text[text.index(after: open)..<close].split(separator: ",").map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: " '\""))
            }
        }
    }

    @Test("every enum naming a profile equals ProfileRegistry.standard's names, in order")
    func enumEqualsRegistry() throws {
        let names = ProfileRegistry.standard.names
        let profileEnums = Self.enums(in: try Self.document()).filter { !Set($0).isDisjoint(with: names) }
        #expect(!profileEnums.isEmpty, "openapi/herald.yaml has no enum naming a profile (expected one: \(names))")
        for e in profileEnums {
            #expect(e == names, "openapi/herald.yaml: expected enum \(names), got \(e)")
        }
    }

    @Test("the Profile schema is that enum")
    func profileSchema() throws {
        let lines = try Self.document().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(
            lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "Profile:" },
            "openapi/herald.yaml has no Profile schema")
        let found = Self.enums(in: lines[start...].prefix(4).joined(separator: "\n")).first
        #expect(
            found == ProfileRegistry.standard.names,
            "Profile schema: expected enum \(ProfileRegistry.standard.names), got \(found ?? [])")
    }
}

@Suite("A profile added to the registry is listed, signed and verified with no other change")
struct AddedProfileTests {
    let registry = ProfileRegistry.withExample
    let event = StatusChange(
        account: "acme", messageId: "m1", status: .delivered, recipient: "9818000000",
        occurredAt: Timestamp(millisecondsSinceEpoch: 1_781_934_660_000), eventId: "evt_7"
    ).event()

    @Test("listed: the registry's names and listing include it, the shipped registry does not")
    func listed() {
        #expect(registry.names == ProfileRegistry.standard.names + ["example"], "got \(registry.names)")
        #expect(registry.listing.hasSuffix(", example"), "got \(registry.listing)")
        #expect(!ProfileRegistry.standard.contains("example"), "the test profile leaked into the shipped registry")
    }

    @Test("signed and verified by Signer, with the key derived from what the receiver holds")
    func signedAndVerified() throws {
        let secret = try Signer.generateSecret(profile: "example", profiles: registry)
        let now = Timestamp(secondsSinceEpoch: 1_781_934_665)
        let endpoint = Endpoint(
            id: "ep_7", account: "acme", url: "https://example.com/hook", profile: "example",
            secrets: [EndpointSecret(value: secret.stored, createdAt: now.adding(seconds: -60))])
        #expect(Signer.delivers(event, to: endpoint, profiles: registry))
        let job = try Signer.sign(event, for: endpoint, now: now, profiles: registry)
        #expect(job.profile == "example")
        #expect(job.headers[header: "X-Example-Signature"] != nil, "headers: \(job.headers)")
        #expect(Signer.policy(for: endpoint, profiles: registry) == ExampleProfile().defaultPolicy)

        let received = ReceivedWebhook(body: job.body, headers: job.headers, url: endpoint.url)
        try Signer.verify(received, for: endpoint, now: now, profiles: registry)
        // A receiver holding only the revealed secret verifies too.
        let profile = try registry.profile(named: "example")
        var receiver = endpoint
        receiver.secrets = [
            EndpointSecret(
                value: profile.verificationSecret(receiverHolds: secret.reveal),
                createdAt: now.adding(seconds: -60))
        ]
        try Signer.verify(received, for: receiver, now: now, profiles: registry)

        var tampered = received
        tampered.body = Array(String(decoding: job.body, as: UTF8.self).replacingOccurrences(of: "m1", with: "m2").utf8)
        #expect(throws: VerificationError.signatureMismatch) {
            try Signer.verify(tampered, for: endpoint, now: now, profiles: registry)
        }
    }

    @Test("the shipped registry does not know it: signing for it fails as an unknown profile")
    func unknownElsewhere() {
        let endpoint = Endpoint(
            id: "ep_7", account: "acme", url: "https://example.com/hook", profile: "example",
            secrets: [EndpointSecret(value: "exh_00", createdAt: Timestamp(millisecondsSinceEpoch: 0))])
        #expect(throws: SigningError.unknownProfile("example")) { try Signer.sign(event, for: endpoint, now: .now()) }
    }
}
