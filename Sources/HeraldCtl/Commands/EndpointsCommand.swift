import ArgumentParser
import Foundation
import HeraldCore
import HeraldSigning

/// `heraldctl endpoints …`: manage subscriptions through herald-ingest's admin API.
struct EndpointsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endpoints",
        abstract: "List, add, update, rotate, disable, enable and test endpoints (via herald-ingest, HERALD_ADMIN_KEY).",
        subcommands: [
            EndpointsList.self, EndpointsAdd.self, EndpointsUpdate.self, EndpointsRotate.self,
            EndpointsDisable.self, EndpointsEnable.self, EndpointsTest.self,
        ])
}

/// Fields shared by `add` and `update`.
struct EndpointFields: ParsableArguments {
    @Option(help: "Where to POST webhooks.")
    var url: String?
    @Option(help: "Signing profile: \(ProfileRegistry.standard.listing).")
    var profile: String?
    @Option(name: .customLong("event-type"), help: "Event-type glob to subscribe to (repeat; none = all).")
    var eventTypes: [String] = []
    @Option(name: .customLong("recipient"), help: "Only events for this phone number (repeat; none = all).")
    var recipients: [String] = []
    @Option(help: "Most deliveries per second to this endpoint.")
    var rateLimit: Int?

    func object(account: String?) -> JSONObject {
        var o = JSONObject()
        o.set("account", account.map(JSONValue.string))
        o.set("url", url.map(JSONValue.string))
        o.set("profile", profile.map(JSONValue.string))
        if !eventTypes.isEmpty { o["eventTypes"] = .array(eventTypes.map(JSONValue.string)) }
        if !recipients.isEmpty { o["recipients"] = .array(recipients.map(JSONValue.string)) }
        o.set("rateLimitPerSecond", rateLimit.map { .number(Double($0)) })
        return o
    }
}

struct EndpointsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List endpoints (optionally one account's).")
    @Option(help: "Only this account's endpoints.")
    var account: String?
    @Flag(help: "Print the API's JSON.")
    var json = false

    func run() async throws {
        let answer = try await IngestClient.admin().call("GET", "/v1/endpoints" + IngestClient.accountQuery(account))
        let items = answer.arrayValue ?? answer["endpoints"]?.arrayValue ?? answer["data"]?.arrayValue
        guard !json, let items else { return Output.answer(answer, json: json) }
        Output.table(
            ["ID", "ACCOUNT", "PROFILE", "STATE", "URL"],
            items.map { e in
                let state: String =
                    e["state"]?["enabled"]?.boolValue == false || e["enabled"]?.boolValue == false ? "disabled" : "enabled"
                return [
                    e["id"]?.stringValue ?? "-", e["account"]?.stringValue ?? "-", e["profile"]?.stringValue ?? "-", state,
                    e["url"]?.stringValue ?? "-",
                ]
            })
    }
}

struct EndpointsAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Create an endpoint; prints its secret once.",
        discussion:
            "heraldctl endpoints add --account acme --url https://example.com/hook --profile standard --event-type 'message.*'")
    @Option(help: "The account the endpoint belongs to.")
    var account: String
    @OptionGroup var fields: EndpointFields
    @Flag(help: "Print the API's JSON.")
    var json = false

    func validate() throws {
        guard fields.url != nil else { throw ValidationError("--url is required") }
    }

    func run() async throws {
        try await IngestClient.admin().callAndPrint(
            "POST", "/v1/endpoints", body: .object(fields.object(account: account)), json: json)
    }
}

struct EndpointsUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Change an endpoint's URL, profile, event types, recipients or rate limit.")
    @Argument(help: "Endpoint id.")
    var id: String
    @OptionGroup var fields: EndpointFields
    @Flag(help: "Print the API's JSON.")
    var json = false

    func validate() throws {
        guard !fields.object(account: nil).isEmpty else {
            throw ValidationError("nothing to update: give --url, --profile, --event-type, --recipient or --rate-limit")
        }
    }

    func run() async throws {
        try await IngestClient.admin().callAndPrint(
            "PATCH", "/v1/endpoints/\(IngestClient.escape(id))", body: .object(fields.object(account: nil)), json: json)
    }
}

/// `rotate-secret`, `disable`, `enable`, `test`: a POST to `/v1/endpoints/{id}/<action>`.
protocol EndpointAction: AsyncParsableCommand {
    var id: String { get }
    var json: Bool { get }
    static var action: String { get }
    var body: JSONValue? { get }
}

extension EndpointAction {
    var body: JSONValue? { nil }
    func run() async throws {
        try await IngestClient.admin().callAndPrint(
            "POST", "/v1/endpoints/\(IngestClient.escape(id))/\(Self.action)", body: body, json: json)
    }
}

struct EndpointsRotate: EndpointAction {
    static let configuration = CommandConfiguration(
        commandName: "rotate-secret", abstract: "Issue a new secret; the old one stays valid for the grace period.")
    static let action = "rotate-secret"
    @Argument(help: "Endpoint id.") var id: String
    @Option(help: "Seconds the old secret stays valid.") var grace: Int?
    @Flag(help: "Print the API's JSON.") var json = false
    var body: JSONValue? { grace.map { .object(["graceSeconds": .number(Double($0))]) } }
}

struct EndpointsDisable: EndpointAction {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Stop deliveries to an endpoint.")
    static let action = "disable"
    @Argument(help: "Endpoint id.") var id: String
    @Option(help: "Why (shown in listings).") var reason: String?
    @Flag(help: "Print the API's JSON.") var json = false
    var body: JSONValue? { reason.map { .object(["reason": .string($0)]) } }
}

struct EndpointsEnable: EndpointAction {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Resume deliveries to an endpoint.")
    static let action = "enable"
    @Argument(help: "Endpoint id.") var id: String
    @Flag(help: "Print the API's JSON.") var json = false
}

struct EndpointsTest: EndpointAction {
    static let configuration = CommandConfiguration(commandName: "test", abstract: "Send a signed test event to an endpoint.")
    static let action = "test"
    @Argument(help: "Endpoint id.") var id: String
    @Flag(help: "Print the API's JSON.") var json = false
}
