import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@Suite("Broker unreachable")
struct BrokerDownTests {
    @Test("with no broker, events get 503 with Retry-After at once, endpoints still work, /readyz says not ready")
    func brokerDown() async throws {
        try await withIngest(amqpURL: "amqp://guest:guest@127.0.0.1:\(try closedPort())/") { h in
            let created = try await h.call(
                "POST", "/v1/accounts", key: IngestHarness.adminKey, json: #"{"id":"acct_down","name":"Down"}"#)
            let key = try #require(created["apiKey"]?.stringValue, "\(created)")
            let start = ContinuousClock.now
            let reply = try await h.call("POST", "/v1/events", key: key, json: #"{"type":"message.sent"}"#)
            let elapsed = ContinuousClock.now - start
            #expect(reply.status == 503, "\(reply)")
            #expect(reply.header("Retry-After") == "5")
            #expect(reply.header("Content-Type") == "application/problem+json")
            #expect(elapsed < .seconds(2), "503 must come at once, took \(elapsed)")
            let status = try await h.call("POST", "/v1/messages/m1/status", key: key, json: #"{"status":"SENT","recipient":"1"}"#)
            #expect(status.status == 503)
            // Nothing was accepted, so nothing is remembered: no event to fetch.
            #expect(try await h.call("GET", "/v1/events/\(reply["id"]?.stringValue ?? "x")", key: key).status == 404)
            #expect(try await h.call("GET", "/readyz", key: nil).status == 503)
            #expect(try await h.call("GET", "/healthz", key: nil).status == 200)
            // The store side keeps working (the control notice is best effort).
            let ep = try await h.call("POST", "/v1/endpoints", key: key, json: #"{"url":"https://x.example/"}"#)
            #expect(ep.status == 201, "\(ep)")
        }
    }
}
