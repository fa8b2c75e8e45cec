import Foundation
import HeraldCore
import Testing

@Suite("Tenancy isolation")
struct TenancyTests {
    @Test("an account cannot see or touch another account's endpoints and events; the admin can read across accounts")
    func isolation() async throws {
        try await withIngest { h in
            let (_, keyA) = try await h.account("tenant_a")
            let (_, keyB) = try await h.account("tenant_b")
            #expect(
                try await h.call("POST", "/v1/endpoints", key: keyA, json: #"{"id":"ep_a","url":"https://a.example/"}"#).status
                    == 201)
            #expect(
                try await h.call("POST", "/v1/events", key: keyA, json: #"{"id":"evt_a","type":"message.sent"}"#).status == 202)

            for (method, path) in [
                ("GET", "/v1/endpoints/ep_a"), ("PATCH", "/v1/endpoints/ep_a"), ("DELETE", "/v1/endpoints/ep_a"),
                ("POST", "/v1/endpoints/ep_a/rotate-secret"), ("POST", "/v1/endpoints/ep_a/disable"),
                ("POST", "/v1/endpoints/ep_a/enable"), ("POST", "/v1/endpoints/ep_a/test"),
                ("GET", "/v1/endpoints/ep_a/attempts"), ("GET", "/v1/events/evt_a"), ("GET", "/v1/events/evt_a/attempts"),
            ] {
                let reply = try await h.call(method, path, key: keyB, json: method == "GET" || method == "DELETE" ? nil : "{}")
                #expect(reply.status == 404, "\(method) \(path) as B → \(reply)")
            }
            let listB = try await h.call("GET", "/v1/endpoints", key: keyB)
            #expect(listB["data"] == .array([]))
            let asOther = try await h.call("GET", "/v1/endpoints?account=tenant_a", key: keyB)
            #expect(asOther.status == 403, "\(asOther)")
            // The same event id from B is B's own event, not a duplicate of A's.
            #expect(
                try await h.call("POST", "/v1/events", key: keyB, json: #"{"id":"evt_a","type":"message.sent"}"#).status == 202)
            let bEvent = try await h.call("GET", "/v1/events/evt_a", key: keyB)
            #expect(bEvent["account"] == "tenant_b")

            let adminRead = try await h.call("GET", "/v1/endpoints/ep_a", key: IngestHarness.adminKey)
            #expect(adminRead.status == 200)
            let adminEvent = try await h.call("GET", "/v1/events/evt_a?account=tenant_a", key: IngestHarness.adminKey)
            #expect(adminEvent["account"] == "tenant_a")
            let adminList = try await h.call("GET", "/v1/endpoints", key: IngestHarness.adminKey)
            #expect(adminList.status == 422, "the admin must name the account: \(adminList)")
            #expect(adminList["field"] == "account")
        }
    }
}

@Suite("Endpoint ids are per account")
struct EndpointIdScopeTests {
    @Test("two accounts may use the same endpoint id; each sees, changes and deletes only its own")
    func sameIdInTwoAccounts() async throws {
        try await withIngest { h in
            let (_, keyA) = try await h.account("scope_a")
            let (_, keyB) = try await h.account("scope_b")
            let a = try await h.call("POST", "/v1/endpoints", key: keyA, json: #"{"id":"ep_same","url":"https://a.example/"}"#)
            #expect(a.status == 201, "\(a)")
            let b = try await h.call("POST", "/v1/endpoints", key: keyB, json: #"{"id":"ep_same","url":"https://b.example/"}"#)
            #expect(b.status == 201, "expected B to create its own 'ep_same', got \(b)")
            #expect(try await h.call("GET", "/v1/endpoints/ep_same", key: keyA)["url"] == "https://a.example/")
            #expect(try await h.call("GET", "/v1/endpoints/ep_same", key: keyB)["url"] == "https://b.example/")
            let patched = try await h.call("PATCH", "/v1/endpoints/ep_same", key: keyB, json: #"{"description":"B's"}"#)
            #expect(patched.status == 200, "\(patched)")
            #expect(try await h.call("GET", "/v1/endpoints/ep_same", key: keyA)["description"] == .null)
            #expect(try await h.call("DELETE", "/v1/endpoints/ep_same", key: keyA).status == 204)
            #expect(try await h.call("GET", "/v1/endpoints/ep_same", key: keyA).status == 404)
            #expect(try await h.call("GET", "/v1/endpoints/ep_same", key: keyB)["url"] == "https://b.example/")
            // The admin names the account to reach an endpoint.
            let admin = try await h.call("GET", "/v1/endpoints/ep_same?account=scope_b", key: IngestHarness.adminKey)
            #expect(admin["url"] == "https://b.example/", "\(admin)")
            let ambiguous = try await h.call("GET", "/v1/endpoints/ep_other", key: IngestHarness.adminKey)
            #expect(ambiguous.status == 404, "\(ambiguous)")
            _ = try await h.call("POST", "/v1/endpoints", key: keyA, json: #"{"id":"ep_same","url":"https://a2.example/"}"#)
            let several = try await h.call("GET", "/v1/endpoints/ep_same", key: IngestHarness.adminKey)
            #expect(
                several.status == 422 && several["field"] == "account",
                "expected the admin asked to name the account, got \(several)")
            #expect(try await h.service.store.endpoint(account: "scope_b", id: "scope_b/ep_same")?.url == "https://b.example/")
            #expect(
                try await h.service.store.endpointRecord(account: "scope_a", id: "ep_same")?.endpoint.url == "https://a2.example/"
            )
        }
    }
}
