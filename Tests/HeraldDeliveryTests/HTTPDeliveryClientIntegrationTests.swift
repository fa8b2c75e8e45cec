import Foundation
import HeraldCore
import HeraldDelivery
import HeraldTestSupport
import Testing

// Integration tests: the real engine (libcurl multi) against real HTTP receivers on 127.0.0.1
// (`TestReceiver` from HeraldTestSupport, one per test). No broker needed.

/// A client that may reach the local receivers.
private func localClient(_ tweak: (inout HTTPDeliveryClient.Configuration) -> Void = { _ in }) -> HTTPDeliveryClient {
    var configuration = HTTPDeliveryClient.Configuration(
        destinationGuard: DestinationGuard(allowed: [CIDR("127.0.0.1/32")!, CIDR("::1/128")!]))
    tweak(&configuration)
    return HTTPDeliveryClient(configuration: configuration)
}

private func post(_ client: HTTPDeliveryClient, _ url: String, body: String = "{}", timeout: Duration = .seconds(5))
    async -> DeliveryResponse
{
    await client.send(
        DeliveryRequest(
            url: url, body: Array(body.utf8), headers: [HTTPHeader("Content-Type", "application/json")],
            connectTimeout: .seconds(2), timeout: timeout))
}

private func stats(_ receiver: TestReceiver) async throws -> ReceiverStats {
    let client = localClient()
    let response = await client.send(DeliveryRequest(url: receiver.url("/stats"), body: []))
    #expect(response.status == 200, "stats request failed: \(String(describing: response.error))")
    return try JSONDecoder().decode(ReceiverStats.self, from: Data(response.bodyPrefix))
}

@Suite("Delivering to a real receiver")
struct DeliveringToARealReceiver {
    @Test("the exact body bytes and headers arrive, with Herald's User-Agent")
    func exactBytesAndHeadersArrive() async throws {
        let receiver = try await TestReceiver.start()
        let client = localClient { $0.responseBodyPrefixBytes = 64 * 1024 }
        let body = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7) } + Array("\r\n\0{\"é\":1}".utf8)
        let headers = [
            HTTPHeader("Content-Type", "application/json; charset=utf-8"),
            HTTPHeader("webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"),
            HTTPHeader("webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,abc"),
            HTTPHeader("X-Empty", ""),
        ]
        let response = await client.send(DeliveryRequest(url: receiver.url("/echo"), body: body, headers: headers))
        #expect(response.status == 200, "error: \(String(describing: response.error))")
        let echo = try JSONDecoder().decode(EchoReply.self, from: Data(response.bodyPrefix))
        #expect(echo.length == body.count)
        #expect(echo.bodyBytes == body)
        for header in headers {
            #expect(echo.header(header.name) == header.value, "header \(header.name)")
        }
        #expect(echo.header("User-Agent") == "Herald/\(heraldVersion)")
        #expect(echo.header("Expect") == nil)
        #expect(echo.header("Content-Length") == "\(body.count)")
    }

    @Test("without a Content-Type header none is invented")
    func noContentTypeInvented() async throws {
        let receiver = try await TestReceiver.start()
        let client = localClient()
        let response = await client.send(DeliveryRequest(url: receiver.url("/echo"), body: Array("x=1".utf8)))
        let echo = try JSONDecoder().decode(EchoReply.self, from: Data(response.bodyPrefix))
        #expect(echo.header("Content-Type") == nil)
    }

    @Test("a 200 comes back with its status, body prefix, latency and HTTP version")
    func okResponse() async throws {
        let receiver = try await TestReceiver.start()
        let response = await post(localClient(), receiver.url("/status/200"))
        #expect(response.status == 200)
        #expect(response.error == nil)
        #expect(response.bodySnippet == "status 200")
        #expect(response.httpVersion == "1.1")
        #expect(response.latency > .zero && response.latency < .seconds(2), "latency \(response.latency)")
    }

    @Test("500 and 410 come back as statuses, not errors", arguments: [500, 410, 404, 503])
    func errorStatuses(status: Int) async throws {
        let receiver = try await TestReceiver.start()
        let response = await post(localClient(), receiver.url("/status/\(status)"))
        #expect(response.status == status)
        #expect(response.error == nil)
    }

    @Test("a 429 carries its Retry-After header")
    func tooManyRequestsWithRetryAfter() async throws {
        let receiver = try await TestReceiver.start()
        let response = await post(localClient(), receiver.url("/retry-after/7"))
        #expect(response.status == 429)
        #expect(response.header("retry-after") == "7")
    }

    @Test("only the first bytes of a large body are kept, and the status survives")
    func largeBodyIsCut() async throws {
        let receiver = try await TestReceiver.start()
        let response = await post(localClient(), receiver.url("/big"))
        #expect(response.status == 200)
        #expect(response.error == nil)
        #expect(response.bodyPrefix.count == 1024)
    }

    @Test("redirects are not followed")
    func redirectsNotFollowed() async throws {
        let receiver = try await TestReceiver.start()
        let response = await post(localClient(), receiver.url("/redirect"))
        #expect(response.status == 302)
        #expect(response.header("Location") == "/status/200")
        let seen = try await stats(receiver)
        #expect(seen.requests == 1, "the receiver saw \(seen.requests) requests; a followed redirect makes 2")
    }
}

@Suite("Transport failures")
struct TransportFailures {
    @Test("a receiver that hangs is cut off at the total timeout")
    func hangingReceiverTimesOut() async throws {
        let receiver = try await TestReceiver.start()
        let started = ContinuousClock.now
        let response = await post(localClient(), receiver.url("/hang"), timeout: .milliseconds(800))
        let elapsed = ContinuousClock.now - started
        #expect(response.status == nil)
        #expect(response.error?.code == .timeout, "got \(String(describing: response.error))")
        #expect(
            response.latency >= .milliseconds(750) && response.latency < .milliseconds(1300),
            "the engine measured \(response.latency) for an 800 ms timeout")
        #expect(elapsed < .seconds(3), "the caller waited \(elapsed) for an 800 ms timeout")
    }

    @Test("nothing listening is a refused connection")
    func connectionRefused() async throws {
        let port = try closedPort()
        let response = await post(localClient(), "http://127.0.0.1:\(port)/")
        #expect(response.error?.code == .connectionRefused, "got \(String(describing: response.error))")
    }

    @Test("speaking TLS to a plain HTTP port is a TLS error")
    func tlsFailure() async throws {
        let receiver = try await TestReceiver.start()
        let response = await post(localClient(), "https://127.0.0.1:\(receiver.port)/status/200")
        #expect(response.error?.code == .tls, "got \(String(describing: response.error))")
    }

    @Test("a header with CR/LF is refused before any I/O")
    func headerInjectionRefused() async throws {
        let client = localClient()
        let response = await client.send(
            DeliveryRequest(
                url: "http://127.0.0.1:1/", body: [], headers: [HTTPHeader("X-A", "1\r\nX-B: 2")]))
        #expect(response.error?.code == .invalidRequest, "got \(String(describing: response.error))")
    }
}

@Suite("The destination guard at connect time")
struct DestinationGuardAtConnectTime {
    @Test("127.0.0.1 is refused when not allowlisted, and the receiver never hears of it")
    func loopbackLiteralRefused() async throws {
        let receiver = try await TestReceiver.start()
        let client = HTTPDeliveryClient()
        let response = await post(client, receiver.url("/status/200"))
        #expect(response.status == nil)
        #expect(response.error?.code == .refusedDestination, "got \(String(describing: response.error))")
        #expect(response.error?.message == "destination 127.0.0.1 is loopback; allow it with HERALD_ALLOW_PRIVATE")
        #expect(try await stats(receiver) == ReceiverStats(connections: 0, requests: 0))
    }

    @Test("a host name that resolves to loopback (localhost) is refused too")
    func hostnameResolvingToLoopbackRefused() async throws {
        let receiver = try await TestReceiver.start()
        let client = HTTPDeliveryClient()
        let response = await post(client, receiver.url("/status/200", host: "localhost"))
        #expect(response.error?.code == .refusedDestination, "got \(String(describing: response.error))")
        #expect(response.error?.message.contains("is loopback") == true, "got \(String(describing: response.error))")
        #expect(try await stats(receiver).requests == 0)
    }

    @Test("localhost is delivered to when loopback is allowlisted")
    func allowlistedLocalhostDelivered() async throws {
        let receiver = try await TestReceiver.start()
        let response = await post(localClient(), receiver.url("/status/200", host: "localhost"))
        #expect(response.status == 200, "got \(String(describing: response.error))")
    }

    @Test("http:// is refused in HTTPS-only mode, even to an allowed address")
    func httpsOnlyRefusesHTTP() async throws {
        let receiver = try await TestReceiver.start()
        let client = localClient { $0.destinationGuard.httpsOnly = true }
        let response = await post(client, receiver.url("/status/200"))
        #expect(response.error?.code == .refusedDestination, "got \(String(describing: response.error))")
        #expect(try await stats(receiver).requests == 0)
    }
}

@Suite("Concurrency, reuse and fairness")
struct ConcurrencyReuseAndFairness {
    @Test("300 concurrent transfers all complete")
    func threeHundredConcurrent() async throws {
        let receiver = try await TestReceiver.start()
        let client = localClient()
        let statuses = await withTaskGroup(of: Int?.self) { group in
            for _ in 0..<300 { group.addTask { await post(client, receiver.url("/status/200")).status } }
            return await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        #expect(statuses.count == 300)
        #expect(statuses.filter { $0 == 200 }.count == 300, "non-200: \(statuses.filter { $0 != 200 })")
    }

    @Test("sequential requests to one host reuse one kept-alive connection")
    func keepAliveReuse() async throws {
        let receiver = try await TestReceiver.start()
        let client = localClient()
        var newConnections = 0
        for _ in 0..<20 {
            let response = await post(client, receiver.url("/status/200"))
            #expect(response.status == 200)
            newConnections += response.newConnections
        }
        #expect(newConnections == 1, "curl opened \(newConnections) connections for 20 sequential requests")
        let seen = try await stats(receiver)
        #expect(seen == ReceiverStats(connections: 1, requests: 20))
    }

    @Test("a receiver that hangs does not slow deliveries to a healthy one")
    func hangingReceiverDoesNotStarveHealthyOne() async throws {
        let hanging = try await TestReceiver.start()
        let healthy = try await TestReceiver.start()
        let client = localClient()
        // Baseline: 50 deliveries to the healthy receiver alone.
        let baseline = await timeBatch(client, healthy.url("/status/200"), count: 50)
        // Same again while 50 transfers hang on the other receiver.
        let hangingTask = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<50 { group.addTask { _ = await post(client, hanging.url("/hang"), timeout: .seconds(3)) } }
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let contended = await timeBatch(client, healthy.url("/status/200"), count: 50)
        hangingTask.cancel()
        await hangingTask.value
        #expect(
            contended < baseline * 5 + .milliseconds(200),
            "healthy batch took \(contended) next to a hanging receiver vs \(baseline) alone")
    }

    @Test("shutdown lets in-flight transfers finish within the grace period and cancels the rest")
    func gracefulShutdown() async throws {
        let receiver = try await TestReceiver.start()
        let client = localClient()
        let fast = Task { await post(client, receiver.url("/status/200")) }
        let slow = Task { await post(client, receiver.url("/hang"), timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        await client.shutdown(gracePeriod: .milliseconds(500))
        let took = ContinuousClock.now - started
        let fastResponse = await fast.value
        let slowResponse = await slow.value
        #expect(fastResponse.status == 200)
        #expect(slowResponse.error?.code == .cancelled, "got \(String(describing: slowResponse.error))")
        #expect(took < .seconds(2), "shutdown took \(took)")
        let late = await post(client, receiver.url("/status/200"))
        #expect(late.error?.code == .cancelled)
    }

    @Test("cancelling the caller's task abandons its transfer")
    func taskCancellation() async throws {
        let receiver = try await TestReceiver.start()
        let client = localClient()
        let task = Task { await post(client, receiver.url("/hang"), timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        task.cancel()
        let response = await task.value
        #expect(response.error?.code == .cancelled, "got \(String(describing: response.error))")
        #expect(ContinuousClock.now - started < .seconds(1))
    }
}

private func timeBatch(_ client: HTTPDeliveryClient, _ url: String, count: Int) async -> Duration {
    let started = ContinuousClock.now
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<count { group.addTask { _ = await post(client, url) } }
    }
    return ContinuousClock.now - started
}
