import Foundation
import HeraldService
import Metrics
import Prometheus
import Testing

/// Metrics are process-wide: the first test that needs them bootstraps Prometheus once.
let prometheusBootstrapped: Void = MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: Observability.registry))

@Suite("HTTP edges: timeouts, aborted bodies, unknown routes, bad headers")
struct HTTPEdgeTests {
    @Test("a client that sends half a request, or a Content-Length and no body, is disconnected after the read timeout")
    func readTimeout() async throws {
        try await withIngest(readTimeout: .seconds(1)) { h in
            // A valid key, so the handler waits for the body instead of answering 401 at once.
            let (_, key) = try await h.account("acct_slow")
            let halfHead = try RawConnection(port: h.port)
            halfHead.send("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            let noBody = try RawConnection(port: h.port)
            noBody.send(
                "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            )
            let halfBody = try RawConnection(port: h.port)
            halfBody.send(
                "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\":"
            )
            let silent = try RawConnection(port: h.port)
            for (name, connection, answered) in [
                ("half a head", halfHead, true), ("no body", noBody, true), ("half a body", halfBody, true),
                ("nothing", silent, false),
            ] {
                let (bytes, closed) = connection.readUntilClosed(timeout: .seconds(6))
                #expect(closed, "expected the connection with \(name) closed within 6 s (read timeout 1 s), got it still open")
                let text = String(decoding: bytes, as: UTF8.self)
                if answered {
                    #expect(text.hasPrefix("HTTP/1.1 408"), "expected a 408 for \(name), got \(text.debugDescription)")
                    #expect(
                        text.lowercased().contains("content-type: application/problem+json"), "\(name): \(text.debugDescription)")
                } else {
                    #expect(
                        text.isEmpty, "expected a silent close for a connection that sent nothing, got \(text.debugDescription)")
                }
            }
            // A normal request on a fresh connection is unaffected.
            #expect(try await h.call("GET", "/healthz", key: nil).status == 200)
        }
    }

    @Test("a client aborting mid-body is not counted as a server error")
    func abortedBody() async throws {
        _ = prometheusBootstrapped
        try await withIngest { h in
            let (_, key) = try await h.account("acct_abort")
            #expect(
                try await h.call("POST", "/v1/endpoints", key: key, json: #"{"id":"ep_abort","url":"https://a.example/"}"#).status
                    == 201)
            for _ in 0..<3 {
                let c = try RawConnection(port: h.port)
                c.send(
                    "PATCH /v1/endpoints/ep_abort HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"description\":\""
                )
                try await Task.sleep(for: .milliseconds(200))
            }  // each connection closes here, mid-body
            try await Task.sleep(for: .milliseconds(500))
            let metrics = try await h.call("GET", "/metrics", key: nil).text
            let serverErrors = metrics.split(separator: "\n").filter {
                $0.hasPrefix("herald_ingest_http_requests_total") && $0.contains(#"method="PATCH""#)
                    && $0.contains(#"status="5xx""#)
            }
            #expect(serverErrors.isEmpty, "expected no PATCH 5xx counted for aborted bodies, got \(serverErrors)")
            #expect(try await h.call("GET", "/v1/endpoints/ep_abort", key: key)["description"] == .null)
        }
    }

    @Test("unknown paths answer a problem 404; a known path with another method answers 405 with Allow")
    func unknownRoutes() async throws {
        try await withIngest { h in
            let (_, key) = try await h.account("acct_routes")
            let missing = try await h.call("GET", "/v1/nothing-here", key: key)
            #expect(missing.status == 404, "\(missing)")
            #expect(missing.header("Content-Type") == "application/problem+json", "\(missing.headers)")
            #expect(missing["status"] == 404, "\(missing)")
            let root = try await h.call("GET", "/", key: nil)
            #expect(root.status == 404 && root["status"] == 404, "\(root)")

            for (method, path, allow) in [
                ("DELETE", "/v1/events", "POST"), ("PUT", "/v1/endpoints/ep_1", "DELETE, GET, PATCH"),
                ("GET", "/v1/accounts", "POST"), ("POST", "/v1/events/evt_1", "GET"),
            ] {
                let reply = try await h.call(method, path, key: key, json: method == "GET" || method == "DELETE" ? nil : "{}")
                #expect(reply.status == 405, "\(method) \(path) → \(reply)")
                #expect(
                    reply.header("Allow") == allow,
                    "\(method) \(path): expected Allow '\(allow)', got \(reply.header("Allow") ?? "none")")
                #expect(reply.header("Content-Type") == "application/problem+json", "\(method) \(path) → \(reply.headers)")
                #expect(reply["status"] == 405, "\(reply)")
            }
        }
    }

    @Test("a control character in a header is a problem 400 naming the header")
    func controlCharacterInHeader() async throws {
        try await withIngest { h in
            let c = try RawConnection(port: h.port)
            c.send(Array("GET /v1/endpoints HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trace: ab".utf8) + [0] + Array("cd\r\n\r\n".utf8))
            let (bytes, _) = c.readUntilClosed(timeout: .seconds(5))
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 400"), "expected a 400, got \(text.debugDescription)")
            #expect(
                text.lowercased().contains("content-type: application/problem+json"),
                "expected a problem document, got \(text.debugDescription)")
            #expect(text.contains("X-Trace"), "expected the problem to name the header 'X-Trace', got \(text.debugDescription)")
        }
    }
}
