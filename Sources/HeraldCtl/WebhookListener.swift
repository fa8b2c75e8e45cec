import Foundation
import HeraldCore
import HeraldSigning
import Hummingbird
import Logging

/// The receiver behind `heraldctl listen`: verifies every POST with `Signer.verify` for one
/// endpoint built from the command's flags, reports it, and answers 200 (valid) or 401.
public struct WebhookListener: Sendable {
    /// What the listener saw for one request.
    public struct Received: Sendable {
        public var path: String
        public var headers: [HTTPHeader]
        public var body: [UInt8]
        /// nil when the signature verified.
        public var failure: String?

        public var jsonLine: JSONValue {
            var o = JSONObject()
            o["valid"] = .bool(failure == nil)
            o.set("error", failure.map(JSONValue.string))
            o["path"] = .string(path)
            o["event"] = Self.eventName(headers).map(JSONValue.string) ?? .null
            var h = JSONObject()
            for header in headers { h[header.name.lowercased()] = .string(header.value) }
            o["headers"] = .object(h)
            o["body"] = (try? JSONValue.parse(body)) ?? .string(String(decoding: body, as: UTF8.self))
            return .object(o)
        }

        static func eventName(_ headers: [HTTPHeader]) -> String? {
            headers.first { $0.name.lowercased().hasSuffix("-event") || $0.name.lowercased() == "webhook-event" }?.value
        }
    }

    public let endpoint: Endpoint
    public let toleranceSeconds: Int
    let profiles: ProfileRegistry

    /// - Parameters:
    ///   - profile: the profile the sender signs with.
    ///   - secrets: the secrets as the receiver knows them; the profile derives the key it checks
    ///     with (`WebhookProfile.verificationSecret(receiverHolds:)`, e.g. Teekrr's hash).
    ///   - url: the URL the sender posts to (httpSMS checks it as the JWT audience); nil skips it.
    ///   - profiles: where `profile` is looked up (tests add profiles of their own).
    public init(
        profile: String, secrets: [String], url: String?, toleranceSeconds: Int = 300,
        profiles: ProfileRegistry = .standard
    ) throws {
        let scheme = try profiles.profile(named: profile)
        let stored = secrets.map { scheme.verificationSecret(receiverHolds: $0) }
        self.profiles = profiles
        endpoint = Endpoint(
            id: "ep_listen", account: "local", url: url ?? "http://127.0.0.1/", profile: profile,
            secrets: stored.map { EndpointSecret(value: $0, createdAt: Timestamp(millisecondsSinceEpoch: 0)) })
        self.toleranceSeconds = toleranceSeconds
        self.url = url
    }

    let url: String?

    /// Verifies one request.
    public func check(path: String, headers: [HTTPHeader], body: [UInt8]) -> Received {
        var failure: String?
        do {
            try Signer.verify(
                ReceivedWebhook(body: body, headers: headers, url: url), for: endpoint, now: .now(),
                toleranceSeconds: toleranceSeconds, profiles: profiles)
        } catch {
            failure = error.description
        }
        return Received(path: path, headers: headers, body: body, failure: failure)
    }

    /// A Hummingbird application answering every POST; `report` sees each request.
    public func application(
        host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in },
        report: @escaping @Sendable (Received) -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let buffer = try await request.body.collect(upTo: 16 << 20)
            let headers = request.headers.map { HTTPHeader($0.name.rawName, $0.value) }
            let received = check(path: request.uri.path, headers: headers, body: Array(buffer.readableBytesView))
            report(received)
            let ok = received.failure == nil
            let text =
                ok ? "{\"ok\":true}" : "{\"ok\":false,\"error\":\(JSONValue.string(received.failure ?? "").serializedString())}"
            return Response(
                status: ok ? .ok : .unauthorized, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("/", use: handler)
        router.post("**", use: handler)
        var logger = Logger(label: "heraldctl.listen")
        logger.logLevel = .warning
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
