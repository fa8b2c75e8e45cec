import ArgumentParser
import Foundation
import HeraldCore

/// `heraldctl events send`: publish a status change or an event through herald-ingest.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Send events through herald-ingest (HERALD_API_KEY).",
        subcommands: [EventsSend.self])
}

struct EventsSend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a message status change (from flags) or any event (from a JSON file).",
        discussion: """
              heraldctl events send --message-id m1 --status delivered --recipient +9779800000000
              heraldctl events send --file event.json      # the body of POST /v1/events
            """)

    @Option(help: "A JSON file with the event (POST /v1/events); '-' reads stdin.")
    var file: String?
    @Option(help: "The platform's message id (status change).")
    var messageId: String?
    @Option(help: "New status: queued, sent, delivered, failed, undelivered, rejected, expired…")
    var status: String?
    @Option(help: "The message's recipient (phone number).")
    var recipient: String?
    @Option(help: "Channel (sms, whatsapp, voice…).")
    var channel: String?
    @Option(help: "Why it failed, for failure statuses.")
    var reason: String?
    @Option(help: "The account to act for (an admin key may send for any account).")
    var account: String?
    @Flag(help: "Print the API's JSON.")
    var json = false

    func validate() throws {
        if file == nil, messageId == nil || status == nil {
            throw ValidationError("give --file FILE, or --message-id and --status for a status change")
        }
        if file != nil, messageId != nil { throw ValidationError("--file and --message-id cannot be combined") }
    }

    func run() async throws {
        let client = try IngestClient.api()
        if let file {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data else { throw CtlError("cannot read '\(file)'") }
            let body: JSONValue
            do { body = try JSONValue.parse(Array(data)) } catch { throw CtlError("\(file): \(error)") }
            try await client.callAndPrint("POST", "/v1/events" + IngestClient.accountQuery(account), body: body, json: json)
            return
        }
        var o = JSONObject()
        o["status"] = .string(status!)
        o.set("recipient", recipient.map(JSONValue.string))
        o.set("channel", channel.map(JSONValue.string))
        o.set("reason", reason.map(JSONValue.string))
        o.set("account", account.map(JSONValue.string))
        try await client.callAndPrint(
            "POST", "/v1/messages/\(IngestClient.escape(messageId!))/status", body: .object(o), json: json)
    }
}
