import AMQP
import ArgumentParser
import Foundation
import HeraldCore
import HeraldTopology

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `heraldctl stats`: where messages are in the pipeline right now.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Queue depths per stage and delay tier, consumers, dead letters by reason, and rates.",
        discussion: """
            Depths and consumers come from AMQP. Dead letters by reason come from a non-destructive \
            scan of herald.dead (first --scan-limit messages). Publish/deliver rates come from the \
            management API when HERALD_RABBIT_MANAGEMENT_URL is set (e.g. http://guest:guest@127.0.0.1:15672).
            """)

    @Option(help: "Read at most this many dead letters for the by-reason counts.")
    var scanLimit: Int = 10_000
    @Flag(help: "Print one JSON object.")
    var json = false

    struct Row {
        var stage: String
        var queue: String
        var depth: Int?
        var consumers: Int?
        var publishRate: Double?
        var deliverRate: Double?
    }

    static func stage(of queue: String) -> String {
        switch queue {
        case HeraldNames.signQueue: "sign (new events)"
        case HeraldNames.deliverQueue: "deliver"
        case HeraldNames.resignQueue: "resign (retries, replays)"
        case HeraldNames.deadQueue: "dead"
        case HeraldNames.attemptsQueue: "attempts (delivery log)"
        default:
            queue.hasPrefix(HeraldNames.retryExchange + ".")
                ? "retry tier \(queue.dropFirst(HeraldNames.retryExchange.count + 1))" : queue
        }
    }

    func run() async throws {
        let configuration = try CtlConfiguration.fromEnvironment()
        let connection = try await configuration.connect(purpose: "stats")
        var rows: [Row] = []
        var reasons: [(String, Int)] = []
        var scanned = 0
        try await connection.closing { connection in
            for queue in HeraldTopology.all.queues {
                let status = try? await connection.inspect(queue: queue.name)
                rows.append(
                    Row(
                        stage: Self.stage(of: queue.name), queue: queue.name, depth: status?.messageCount,
                        consumers: status?.consumerCount))
            }
            if rows.first(where: { $0.queue == HeraldNames.deadQueue })?.depth != nil {
                let (letters, n) = try await DeadLetterQueue(connection: connection).list(
                    filter: DeadLetterFilter(), limit: scanLimit)
                scanned = n
                var counts: [String: Int] = [:]
                for l in letters { counts[l.reason ?? "-", default: 0] += 1 }
                reasons = counts.sorted { $0.value > $1.value }
            }
        }
        if let management = configuration.managementURL {
            try await addRates(&rows, management: management, vhost: connection.configuration.vhost)
        }
        if json {
            var o = JSONObject()
            o["queues"] = .array(
                rows.map { r in
                    var q = JSONObject()
                    q["stage"] = .string(r.stage)
                    q["queue"] = .string(r.queue)
                    q["depth"] = r.depth.map { .number(Double($0)) } ?? .null
                    q["consumers"] = r.consumers.map { .number(Double($0)) } ?? .null
                    q.set("publishRate", r.publishRate.map { .number($0) })
                    q.set("deliverRate", r.deliverRate.map { .number($0) })
                    return .object(q)
                })
            o["deadByReason"] = .object(JSONObject(reasons.map { ($0.0, .number(Double($0.1))) }))
            o["deadScanned"] = .number(Double(scanned))
            Output.json(.object(o))
            return
        }
        let withRates = rows.contains { $0.publishRate != nil }
        var header = ["STAGE", "QUEUE", "DEPTH", "CONSUMERS"]
        if withRates { header += ["PUBLISH/s", "DELIVER/s"] }
        var cells: [[String]] = []
        for r in rows {
            var row: [String] = [r.stage, r.queue]
            row.append(r.depth.map { String($0) } ?? "missing")
            row.append(r.consumers.map { String($0) } ?? "-")
            if withRates {
                row.append(r.publishRate.map { String(format: "%.1f", $0) } ?? "-")
                row.append(r.deliverRate.map { String(format: "%.1f", $0) } ?? "-")
            }
            cells.append(row)
        }
        Output.table(header, cells)
        Output.line("")
        Output.line("dead letters by reason (first \(scanned) read):")
        if reasons.isEmpty { Output.line("  none") }
        for (reason, count) in reasons { Output.line("  \(reason): \(count)") }
        if !withRates { Output.line("(set HERALD_RABBIT_MANAGEMENT_URL for publish/deliver rates)") }
    }

    private func addRates(_ rows: inout [Row], management: String, vhost: String) async throws {
        guard let base = URLComponents(string: management), base.host != nil else {
            throw CtlError("HERALD_RABBIT_MANAGEMENT_URL '\(management)' is not a URL like http://guest:guest@127.0.0.1:15672")
        }
        let auth = (base.user ?? "guest", base.password ?? "guest")
        var plain = base
        plain.user = nil
        plain.password = nil
        let encodedVhost = vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vhost
        for i in rows.indices {
            let name =
                rows[i].queue.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: ".-_")))
                ?? rows[i].queue
            guard
                let url = URL(
                    string: (plain.string ?? management).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                        + "/api/queues/\(encodedVhost)/\(name)")
            else { continue }
            let response = try await HTTPCall.send("GET", url, basicAuth: auth, what: "the RabbitMQ management API")
            guard response.status == 200, let o = try? JSONValue.parse(Array(response.body)).objectValue else { continue }
            let stats = o["message_stats"]?.objectValue
            rows[i].publishRate = stats?["publish_details"]?["rate"]?.numberValue ?? 0
            rows[i].deliverRate = stats?["deliver_get_details"]?["rate"]?.numberValue ?? 0
        }
    }
}
