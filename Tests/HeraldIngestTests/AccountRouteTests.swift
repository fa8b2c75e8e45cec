import Foundation
import HeraldCore
import Testing

@Suite("POST /v1/accounts and authentication")
struct AccountRouteTests {
    @Test("the admin creates an account and gets its API key once; the key authenticates; errors are problems")
    func accounts() async throws {
        try await withIngest { h in
            let created = try await h.call(
                "POST", "/v1/accounts", key: IngestHarness.adminKey,
                json: #"{"id":"acme","name":"Acme","defaultProfile":"eksms"}"#)
            #expect(created.status == 201, "\(created)")
            #expect(created["id"] == "acme")
            #expect(created["defaultProfile"] == "eksms")
            let key = try #require(created["apiKey"]?.stringValue)
            #expect(key.hasPrefix("hk_"))
            #expect(created["callbackSecret"]?.stringValue?.isEmpty == false)

            // The key works: an empty endpoint list.
            let list = try await h.call("GET", "/v1/endpoints", key: key)
            #expect(list.status == 200, "\(list)")
            #expect(list["data"] == .array([]))

            let duplicate = try await h.call(
                "POST", "/v1/accounts", key: IngestHarness.adminKey, json: #"{"id":"acme","name":"Again"}"#)
            #expect(duplicate.status == 409, "\(duplicate)")
            #expect(duplicate["field"] == "id")
            #expect(duplicate.header("Content-Type") == "application/problem+json")

            let notAdmin = try await h.call("POST", "/v1/accounts", key: key, json: #"{"name":"Other"}"#)
            #expect(notAdmin.status == 403, "\(notAdmin)")
            #expect(notAdmin["status"] == 403)

            let anonymous = try await h.call("POST", "/v1/accounts", key: nil, json: #"{"name":"Other"}"#)
            #expect(anonymous.status == 401, "\(anonymous)")
            #expect(anonymous["field"] == "Authorization")
            let wrongKey = try await h.call("GET", "/v1/endpoints", key: "hk_not_a_key")
            #expect(wrongKey.status == 401, "\(wrongKey)")

            let badProfile = try await h.call(
                "POST", "/v1/accounts", key: IngestHarness.adminKey,
                json: #"{"name":"X","defaultProfile":"smtp"}"#)
            #expect(badProfile.status == 422, "\(badProfile)")
            #expect(badProfile["field"] == "defaultProfile")
            #expect(badProfile["rule"]?.stringValue?.hasPrefix("one of standard") == true, "\(badProfile)")

            let badJSON = try await h.call("POST", "/v1/accounts", key: IngestHarness.adminKey, json: #"{"name":"#)
            #expect(badJSON.status == 400, "\(badJSON)")
            #expect(badJSON["type"] == "https://herald.dev/problems/malformed-json")

            let wrongType = try await h.call("POST", "/v1/accounts", key: IngestHarness.adminKey, json: #"{"name":42}"#)
            #expect(wrongType.status == 422, "\(wrongType)")
            #expect(wrongType["field"] == "name")
            #expect(wrongType["rule"] == "type string")

            let unknownField = try await h.call(
                "POST", "/v1/accounts", key: IngestHarness.adminKey, json: #"{"name":"X","colour":"red"}"#)
            #expect(unknownField.status == 422, "\(unknownField)")
            #expect(unknownField["field"] == "colour")

            let textBody = try await h.call(
                "POST", "/v1/accounts", key: IngestHarness.adminKey, body: Data("name=x".utf8),
                headers: ["Content-Type": "text/plain"])
            #expect(textBody.status == 415, "\(textBody)")
        }
    }

    @Test("health, readiness and metrics are served next to the API")
    func operations() async throws {
        try await withIngest { h in
            #expect(try await h.call("GET", "/healthz", key: nil).status == 200)
            let ready = try await h.call("GET", "/readyz", key: nil)
            #expect(ready.status == 200, "\(ready)")
            _ = try await h.call("GET", "/v1/endpoints", key: nil)
            let metrics = try await h.call("GET", "/metrics", key: nil)
            #expect(metrics.status == 200)
        }
    }
}
