import AMQP
import Foundation
import HeraldCore
import HeraldSigning
import HeraldStore
import Testing

@Suite("/v1/endpoints")
struct EndpointRouteTests {
    @Test("create shows the secret once; get, list, patch, rotate, disable, enable, test and delete work and notify signers")
    func lifecycle() async throws {
        try await withIngest { h in
            let (_, key) = try await h.account("acct_ep")
            let amqp = try await h.connect()
            // A signer's control queue: every endpoint change must land here.
            let control = "test.control.\(UUID().uuidString.prefix(8))"
            try await amqp.declare(
                AMQPTopology(
                    exchanges: [.init(name: HeraldNames.controlExchange, kind: .fanout)],
                    queues: [.init(name: control, durable: false, autoDelete: false)],
                    bindings: [.init(exchange: HeraldNames.controlExchange, queue: control, routingKey: "")]))

            let created = try await h.call(
                "POST", "/v1/endpoints", key: key,
                json: """
                    {"id":"ep_main","url":"https://hooks.example.com/herald","eventTypes":["message.*"],"description":"main",
                     "metadata":{"team":"ops"},"policy":{"timeoutMs":2000,"maxAttempts":3},"rateLimitPerSecond":50}
                    """)
            #expect(created.status == 201, "\(created)")
            #expect(created.header("Location") == "/v1/endpoints/ep_main")
            #expect(created["secret"]?.stringValue?.hasPrefix("whsec_") == true, "\(created)")
            #expect(created["policy"]?["timeoutMs"] == 2000)
            #expect(created["policy"]?["maxAttempts"] == 3)
            #expect(created["enabled"] == true)

            let fetched = try await h.call("GET", "/v1/endpoints/ep_main", key: key)
            #expect(fetched.status == 200)
            #expect(fetched["secret"] == nil, "a secret is shown only once")
            #expect(!fetched.text.contains("whsec_"))
            #expect(fetched["metadata"] == ["team": "ops"])
            #expect(fetched["rateLimitPerSecond"] == 50)

            for i in 1...3 {
                _ = try await h.call(
                    "POST", "/v1/endpoints", key: key,
                    json: #"{"id":"ep_x\#(i)","url":"http://h\#(i).example/","profile":"eksms"}"#)
            }
            let page1 = try await h.call("GET", "/v1/endpoints?limit=2", key: key)
            #expect(page1["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["ep_main", "ep_x1"])
            let cursor = try #require(page1["nextCursor"]?.stringValue)
            let page2 = try await h.call("GET", "/v1/endpoints?limit=2&cursor=\(cursor)", key: key)
            #expect(page2["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["ep_x2", "ep_x3"])
            #expect(try await h.call("GET", "/v1/endpoints?limit=0", key: key).status == 422)

            let patched = try await h.call(
                "PATCH", "/v1/endpoints/ep_main", key: key,
                json: #"{"url":"https://hooks.example.com/v2","description":null,"recipients":["+9779818000000"]}"#)
            #expect(patched.status == 200, "\(patched)")
            #expect(patched["url"] == "https://hooks.example.com/v2")
            #expect(patched["description"] == .null)
            #expect(patched["recipients"] == ["+9779818000000"])

            let rotated = try await h.call(
                "POST", "/v1/endpoints/ep_main/rotate-secret", key: key, json: #"{"graceSeconds":600}"#)
            #expect(rotated.status == 200, "\(rotated)")
            #expect(rotated["secret"]?.stringValue?.hasPrefix("whsec_") == true)
            #expect(rotated["secret"] != created["secret"])
            #expect(rotated["activeSecrets"] == 2, "old and new both valid during the grace period")
            let stored = try #require(try await h.service.store.endpoint(id: EndpointKey.key(account: "acct_ep", id: "ep_main")))
            #expect(stored.secrets.map(\.value).contains(try #require(rotated["secret"]?.stringValue)))

            let disabled = try await h.call("POST", "/v1/endpoints/ep_main/disable", key: key, json: #"{"reason":"maintenance"}"#)
            #expect(disabled["enabled"] == false)
            #expect(disabled["disabledReason"] == "maintenance")
            let enabled = try await h.call("POST", "/v1/endpoints/ep_main/enable", key: key)
            #expect(enabled.status == 200, "\(enabled)")
            #expect(enabled["enabled"] == true)

            let test = try await h.call("POST", "/v1/endpoints/ep_main/test", key: key)
            #expect(test.status == 202, "\(test)")
            let jobs = try await IngestHarness.drain(amqp, queue: HeraldNames.deliverQueue)
            #expect(jobs.count == 1)
            let job = try DeliveryJob.wireDecoded(Array(try #require(jobs.first).body))
            #expect(job.endpointId == "acct_ep/ep_main", "jobs carry the store key <account>/<id>")
            #expect(job.url == "https://hooks.example.com/v2")
            #expect(job.headers.contains { $0.name == "webhook-signature" })
            #expect(jobs.first?.properties.messageId == "\(job.event.id):acct_ep/ep_main")
            #expect(jobs.first?.properties.headers["herald-attempt"]?.intValue == 1)

            #expect(try await h.call("DELETE", "/v1/endpoints/ep_main", key: key).status == 204)
            #expect(try await h.call("GET", "/v1/endpoints/ep_main", key: key).status == 404)
            #expect(try await h.call("DELETE", "/v1/endpoints/ep_main", key: key).status == 404)

            // create ×4, patch, rotate, disable, enable, delete = 9 notices naming the account.
            let notices = try await IngestHarness.drain(amqp, queue: control)
            let decoded = try notices.map { try ControlNotice.wireDecoded(Array($0.body)) }
            #expect(decoded.count == 9, "got \(decoded.count) control notices")
            #expect(decoded.allSatisfy { $0.account == "acct_ep" && $0.notice == .endpointChanged })
            await amqp.close()
        }
    }

    @Test("bad endpoint input names the field and the rule")
    func validation() async throws {
        try await withIngest { h in
            let (_, key) = try await h.account("acct_epbad")
            let cases: [(String, String, String)] = [
                (#"{"url":"ftp://x.example/"}"#, "url", "http(s) URL"),
                (#"{"url":"https://user:secret@x.example/"}"#, "url", "no credentials"),
                (#"{}"#, "url", "required"),
                (#"{"url":"https://bad\\host/"}"#, "url", "http(s) URL"),
                (#"{"url":"https://x.example:99999/"}"#, "url", "http(s) URL"),
                (#"{"url":"https://x.example/#frag"}"#, "url", "http(s) URL"),
                (#"{"url":"https://x.example/","profile":"smtp"}"#, "profile", "one of \(ProfileRegistry.standard.listing)"),
                (
                    #"{"url":"https://x.example/","eventTypes":["Message.*"]}"#, "eventTypes[0]",
                    "pattern [a-z0-9_*?]+(\\.[a-z0-9_*?]+)*"
                ),
                (#"{"url":"https://x.example/","policy":{"maxAttempts":0}}"#, "policy.maxAttempts", "range 1...51"),
                (
                    #"{"url":"https://x.example/","policy":{"retryOn":["sometimes"]}}"#, "policy.retryOn[0]",
                    "one of serverError, tooManyRequests, timeout, connectionError"
                ),
                (#"{"url":"https://x.example/","rateLimitPerSecond":"fast"}"#, "rateLimitPerSecond", "type integer"),
                (#"{"url":"https://x.example/","metadata":{"a":1}}"#, "metadata.a", "type string"),
                (#"{"url":"https://x.example/","profile":"teekrr","secret":""}"#, "secret", "non-empty"),
            ]
            for (body, field, rule) in cases {
                let reply = try await h.call("POST", "/v1/endpoints", key: key, json: body)
                #expect(reply.status == 422, "\(body) → \(reply)")
                #expect(reply["field"]?.stringValue == field, "\(body) → \(reply)")
                #expect(reply["rule"]?.stringValue == rule, "\(body) → \(reply)")
            }
            _ = try await h.call("POST", "/v1/endpoints", key: key, json: #"{"id":"ep_dup","url":"https://x.example/"}"#)
            let dup = try await h.call("POST", "/v1/endpoints", key: key, json: #"{"id":"ep_dup","url":"https://x.example/"}"#)
            #expect(dup.status == 409, "\(dup)")
            // The scheme is case-insensitive on input and stored in lower case (found by the fuzzer:
            // an upper-case scheme once stored an endpoint nobody could read back).
            let upper = try await h.call(
                "POST", "/v1/endpoints", key: key, json: #"{"id":"ep_case","url":"HtTPS://X.example/p?q=1"}"#)
            #expect(upper.status == 201, "\(upper)")
            #expect(upper["url"] == "https://X.example/p?q=1")
            #expect(try await h.call("GET", "/v1/endpoints/ep_case", key: key)["url"] == "https://X.example/p?q=1")
            // A given Teekrr secret is stored only as its SHA-256.
            let teekrr = try await h.call(
                "POST", "/v1/endpoints", key: key,
                json: #"{"id":"ep_tk","url":"https://x.example/","profile":"teekrr","secret":"plain-secret"}"#)
            #expect(teekrr.status == 201, "\(teekrr)")
            #expect(teekrr["secret"] == nil)
            let stored = try await h.service.store.endpoint(id: EndpointKey.key(account: "acct_epbad", id: "ep_tk"))
            #expect(stored?.secrets.first?.value.count == 64)
            #expect(stored?.secrets.first?.value != "plain-secret")
        }
    }
}
