import HeraldCore
import Testing

let fixedTime = Timestamp(millisecondsSinceEpoch: 1_781_934_660_000)

func sampleEvent() -> Event {
    Event(
        id: "evt_1", type: "message.delivered", account: "acme", occurredAt: fixedTime,
        data: ["messageId": "m1", "text": "नमस्ते 👋", "n": 1.5, "nested": ["z": [], "a": [:]]],
        callbackUrl: "https://example.com/a/b?c=/d")
}

@Suite("Wire forms round-trip and refuse bad messages with a reason")
struct ModelWireTests {
    @Test("an event round-trips byte for byte, data key order kept")
    func eventRoundTrip() throws {
        let e = sampleEvent()
        let bytes = e.wireEncoded()
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"kind":"herald.event","v":1,"id":"evt_1""#))
        let back = try Event.wireDecoded(bytes)
        #expect(back == e)
        #expect(back.wireEncoded() == bytes)
    }

    @Test("a status change becomes a message.<status> event")
    func statusChange() throws {
        let text =
            #"{"account":"acme","messageId":"m1","status":"undelivered","recipient":"9818000000","occurredAt":"2026-06-20T05:51:00Z","reason":"absent subscriber","data":{"segments":2}}"#
        let change = try StatusChange.wireDecoded(Array(text.utf8))
        #expect(change.status == .undelivered)
        let e = change.event()
        #expect(e.type == "message.undelivered")
        #expect(
            JSONValue.object(e.data).serializedString()
                == #"{"messageId":"m1","status":"UNDELIVERED","recipient":"9818000000","channel":"sms","reason":"absent subscriber","segments":2}"#
        )
        #expect(try StatusChange.wireDecoded(change.wireEncoded()) == change)
    }

    @Test("an endpoint round-trips with secrets, policy and state")
    func endpointRoundTrip() throws {
        var ep = Endpoint(
            id: "ep_1", account: "acme", url: "https://example.com/hook", profile: "sinch", eventTypes: ["message.*"],
            recipients: ["+977 9818000000"], secrets: [EndpointSecret(value: "s1", createdAt: fixedTime)],
            policy: RetryPolicy(connectTimeoutMs: 1000, timeoutMs: 2000, delaysSeconds: [1, 5], retryOn: [.timeout]),
            rateLimitPerSecond: 10, state: .disabled(reason: "410 Gone", at: fixedTime))
        #expect(try Endpoint.wireDecoded(ep.wireEncoded()) == ep)
        ep.state = .enabled
        ep.policy = nil
        #expect(try Endpoint.wireDecoded(ep.wireEncoded()) == ep)
    }

    @Test("a delivery job round-trips with exact body bytes and header order")
    func jobRoundTrip() throws {
        let body = Array(#"{"t":"नमस्ते\u2028","q":"\""}"#.utf8)
        let job = DeliveryJob(
            endpointId: "ep_1", url: "https://example.com/hook", profile: "standard", attempt: 2,
            firstAttemptAt: fixedTime, signedAt: fixedTime.adding(seconds: 5), notBefore: nil,
            policy: RetryPolicy(
                connectTimeoutMs: 5000, timeoutMs: 5000, delaysSeconds: [5, 30], retryOn: [.serverError, .timeout]),
            headers: [HTTPHeader("webhook-id", "evt_1"), HTTPHeader("Content-Type", "application/json")], body: body,
            event: sampleEvent())
        let back = try DeliveryJob.wireDecoded(job.wireEncoded())
        #expect(back == job)
        #expect(back.body == body)
        #expect(back.nextDelaySeconds == 30)
        #expect(back.headers[header: "WEBHOOK-ID"] == "evt_1")
        #expect(back.rateLimitPerSecond == nil)

        var limited = job
        limited.rateLimitPerSecond = 25
        let limitedBack = try DeliveryJob.wireDecoded(limited.wireEncoded())
        #expect(limitedBack.rateLimitPerSecond == 25, "the endpoint's rate limit travels with the job")
    }

    @Test("an attempt record round-trips and truncates long snippets on a character boundary")
    func attemptRoundTrip() throws {
        let r = AttemptRecord(
            eventId: "evt_1", endpointId: "ep_1", attempt: 1, at: fixedTime, outcome: .retrying, statusCode: 503,
            latencyMs: 120, responseSnippet: String(repeating: "न", count: 400), url: "https://example.com/hook",
            nextAttemptAt: fixedTime.adding(seconds: 5))
        #expect(r.responseSnippet!.utf8.count <= AttemptRecord.maxSnippetBytes)
        #expect(try AttemptRecord.wireDecoded(r.wireEncoded()) == r)
    }

    @Test(
        "bad messages are errors that say what is wrong",
        arguments: [
            ("not json", "not JSON"),
            ("[1]", "not a JSON object"),
            (#"{"kind":"herald.attempt","v":1}"#, "kind is 'herald.attempt'"),
            (#"{"kind":"herald.event","v":9}"#, "version 9 is not supported"),
            (
                #"{"kind":"herald.event","v":1,"type":"message.delivered","account":"a","occurredAt":"2026-06-20T05:51:00Z"}"#,
                "'id' is missing"
            ),
            (
                #"{"kind":"herald.event","v":1,"id":"e","type":"Message Delivered","account":"a","occurredAt":"2026-06-20T05:51:00Z"}"#,
                "not a dotted lowercase event type"
            ),
            (
                #"{"kind":"herald.event","v":1,"id":"e","type":"a.b","account":"a","occurredAt":"yesterday"}"#,
                "not an RFC 3339 time"
            ),
            (
                #"{"kind":"herald.event","v":1,"id":7,"type":"a.b","account":"a","occurredAt":"2026-06-20T05:51:00Z"}"#,
                "should be a string, got number"
            ),
            (
                #"{"kind":"herald.event","v":1,"id":"e","type":"a.b","account":"a","occurredAt":"2026-06-20T05:51:00Z","data":[]}"#,
                "'data' should be an object"
            ),
        ])
    func badEvents(text: String, reason: String) {
        do {
            _ = try Event.wireDecoded(Array(text.utf8))
            Issue.record("decoded \(text) but expected an error containing \(reason)")
        } catch {
            #expect(error.description.contains(reason), "got '\(error.description)'")
        }
    }

    @Test("a bad delivery job names the field")
    func badJob() {
        let text = #"{"kind":"herald.delivery","v":1,"endpointId":"ep","url":"u","profile":"p","attempt":0}"#
        #expect(throws: WireError.invalidValue(field: "attempt", reason: "must be ≥ 1")) {
            try DeliveryJob.wireDecoded(Array(text.utf8))
        }
    }

    @Test("generated event ids are distinct and well formed")
    func ids() {
        let ids = Set((0..<1000).map { _ in Event.newID() })
        #expect(ids.count == 1000)
        #expect(ids.allSatisfy { $0.hasPrefix("evt_") && $0.count == 30 })
    }
}

@Suite("Endpoints choose their events and rotate their secrets")
struct EndpointTests {
    @Test(
        "globs match event types",
        arguments: [
            ("*", "message.delivered", true), ("message.*", "message.delivered", true), ("message.*", "sms.sent", false),
            ("*.failed", "message.send.failed", true), ("message.?ent", "message.sent", true), ("a", "ab", false),
        ])
    func glob(pattern: String, type: String, matches: Bool) {
        #expect(Glob.matches(pattern, type) == matches)
    }

    @Test("account, state, type and recipient filters apply")
    func accepts() {
        var ep = Endpoint(
            id: "ep", account: "acme", url: "https://x", eventTypes: ["message.*"], recipients: ["+977-9818000000"], secrets: [])
        var e = Event(id: "e", type: "message.sent", account: "acme", occurredAt: fixedTime, data: ["recipient": "9779818000000"])
        #expect(ep.accepts(e))
        e.data["recipient"] = "123"
        #expect(!ep.accepts(e))
        e.data["owner"] = "+9779818000000"
        #expect(ep.accepts(e))
        e.account = "other"
        #expect(!ep.accepts(e))
        e.account = "acme"
        ep.state = .disabled(reason: "x", at: fixedTime)
        #expect(!ep.accepts(e))
    }

    @Test("rotation keeps the old secret valid for the grace period, newest first")
    func rotation() {
        var ep = Endpoint(id: "ep", account: "a", url: "https://x", secrets: [EndpointSecret(value: "old", createdAt: fixedTime)])
        let t1 = fixedTime.adding(seconds: 60)
        ep.rotate(to: "new", at: t1, graceSeconds: 3600)
        #expect(ep.activeSecrets(at: t1) == ["new", "old"])
        #expect(ep.activeSecrets(at: t1.adding(seconds: 3600)) == ["new"])
        ep.rotate(to: "newer", at: t1.adding(seconds: 7200), graceSeconds: 10)
        #expect(ep.secrets.map(\.value) == ["new", "newer"])
    }
}
