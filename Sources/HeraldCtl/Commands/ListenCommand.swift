import ArgumentParser
import Foundation
import HeraldCore
import HeraldSigning
import Hummingbird

/// `heraldctl listen`: a local webhook receiver that checks signatures, like `stripe listen`.
struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Receive webhooks locally, verify each signature with the profile's scheme, and print them.",
        discussion: """
            Point an endpoint at this receiver, then watch deliveries arrive:

              heraldctl endpoints add --account acme --url http://127.0.0.1:9000/hook --profile eksms
              heraldctl listen --port 9000 --profile eksms --secret <the secret it printed>

            Answers 200 when the signature verifies and 401 when it does not (so Herald retries).
            Profiles: \(ProfileRegistry.standard.listing).
            """)

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port: Int = 9000
    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"
    @Option(help: "Signing profile of the endpoint: \(ProfileRegistry.standard.listing).")
    var profile: String = ProfileRegistry.standard.defaultName
    @Option(help: "The endpoint's secret as the receiver knows it (repeat during a rotation).")
    var secret: [String] = []
    @Option(help: "The public URL the sender posts to (httpSMS checks it as the token audience).")
    var url: String?
    @Option(help: "Accepted clock skew for signed timestamps, in seconds.")
    var tolerance: Int = 300
    @Flag(help: "Print one JSON object per webhook.")
    var json = false

    func validate() throws {
        guard !secret.isEmpty else { throw ValidationError("--secret is required (the endpoint's signing secret)") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard ProfileRegistry.standard.contains(profile) else {
            throw ValidationError("unknown profile '\(profile)': use one of \(ProfileRegistry.standard.listing)")
        }
    }

    func run() async throws {
        let listener = try WebhookListener(profile: profile, secrets: secret, url: url, toleranceSeconds: tolerance)
        let json = self.json, profile = self.profile, host = self.host
        let app = listener.application(
            host: host, port: port,
            onRunning: { port in
                Output.error("listening on http://\(host):\(port) for \(profile) webhooks (Ctrl-C to stop)")
            },
            report: { received in
                if json {
                    Output.json(received.jsonLine)
                    return
                }
                let mark = received.failure == nil ? "200 valid  " : "401 INVALID"
                let event = WebhookListener.Received.eventName(received.headers).map { " event=\($0)" } ?? ""
                var line = "\(Timestamp.now().iso8601Seconds) \(mark) POST \(received.path)\(event)"
                if let failure = received.failure { line += " (\(failure))" }
                Output.line(line)
                Output.line("  " + String(decoding: received.body, as: UTF8.self))
            })
        try await app.runService()
    }
}
