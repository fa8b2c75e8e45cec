import AMQP
import ArgumentParser
import Foundation
import HeraldCore

/// `heraldctl dlq …`: look at, replay, purge, export and import dead letters.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect and drain the dead-letter queue (herald.dead) without losing anything.",
        discussion: """
            A message leaves herald.dead only after its replay is confirmed by the broker or its \
            export line is on disk; interrupting any command (Ctrl-C, crash) returns every message \
            it was holding to the queue.
            """,
        subcommands: [DLQList.self, DLQShow.self, DLQReplay.self, DLQPurge.self, DLQExport.self, DLQImport.self])
}

/// The filters every `dlq` command accepts.
struct DeadLetterFilterOptions: ParsableArguments {
    @Option(name: .long, help: "Only this endpoint id.")
    var endpoint: String?
    @Option(name: .long, help: "Only this account.")
    var account: String?
    @Option(name: .long, help: "Only this event type (globs allowed: 'message.*').")
    var eventType: String?
    @Option(
        name: .long,
        help:
            "Only this reason (retries-exhausted, permanent-failure, gone, destination-refused, endpoint-disabled, invalid-event…)."
    )
    var reason: String?
    @Option(name: .long, help: "Only letters whose last HTTP status was this code.")
    var status: Int?
    @Option(name: .long, help: "Only letters dead for at least this long (90s, 15m, 2h, 7d).")
    var olderThan: String?
    @Option(name: .long, help: "Only letters dead for at most this long (90s, 15m, 2h, 7d).")
    var newerThan: String?

    func validate() throws {
        for (flag, age) in [("--older-than", olderThan), ("--newer-than", newerThan)] {
            if let age, DeadLetterFilter.parseAge(age) == nil {
                throw ValidationError("\(flag) '\(age)' is not a duration (e.g. 90s, 15m, 2h, 7d)")
            }
        }
    }

    var filter: DeadLetterFilter {
        var f = DeadLetterFilter()
        f.endpointId = endpoint
        f.account = account
        f.eventType = eventType
        f.reason = reason
        f.status = status
        f.olderThanSeconds = olderThan.flatMap(DeadLetterFilter.parseAge)
        f.newerThanSeconds = newerThan.flatMap(DeadLetterFilter.parseAge)
        return f
    }
}

/// Opens the DLQ, runs `body`, and closes the connection even when `body` throws, so held
/// messages are returned promptly.
func withDeadLetterQueue<T: Sendable>(_ purpose: String, _ body: (DeadLetterQueue) async throws -> T) async throws -> T {
    try await CtlConfiguration.fromEnvironment().connect(purpose: purpose).closing { connection in
        do {
            _ = try await connection.inspect(queue: HeraldNames.deadQueue)
        } catch let error as AMQPError where error.kind == .notFound {
            throw CtlError(
                "queue \(HeraldNames.deadQueue) does not exist on \(connection.configuration): run `heraldctl topology apply`")
        }
        return try await body(DeadLetterQueue(connection: connection))
    }
}

struct DLQList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List dead letters without removing them (they stay in the queue, in order).")

    @OptionGroup var filters: DeadLetterFilterOptions
    @Option(help: "Read at most this many messages from the head of the queue.")
    var limit: Int = 1000
    @Flag(help: "Group by endpoint and reason, with counts.")
    var summary = false
    @Flag(help: "Print JSON (one object per line; with --summary, one per group).")
    var json = false

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let (letters, scanned) = try await withDeadLetterQueue("dlq list") { dlq in
            try await dlq.list(filter: filters.filter, limit: limit)
        }
        if summary {
            var groups: [String: (endpoint: String, reason: String, count: Int)] = [:]
            var order: [String] = []
            for l in letters {
                let key = "\(l.endpointId ?? "-")\u{0}\(l.reason ?? "-")"
                if groups[key] == nil { order.append(key); groups[key] = (l.endpointId ?? "-", l.reason ?? "-", 0) }
                groups[key]!.count += 1
            }
            let rows = order.map { groups[$0]! }.sorted { $0.count > $1.count }
            if json {
                for r in rows {
                    Output.json(
                        .object([
                            "endpointId": .string(r.endpoint), "reason": .string(r.reason), "count": .number(Double(r.count)),
                        ]))
                }
            } else {
                Output.table(["ENDPOINT", "REASON", "COUNT"], rows.map { [$0.endpoint, $0.reason, String($0.count)] })
            }
        } else if json {
            for l in letters { Output.json(.object(l.summaryJSON)) }
        } else {
            Output.table(
                ["ID", "REASON", "STATUS", "ATTEMPTS", "EVENT TYPE", "ACCOUNT", "DEAD AT"],
                letters.map { l in
                    [
                        l.id, l.reason ?? "-", l.lastStatus.map(String.init) ?? "-", l.attempts.map(String.init) ?? "-",
                        l.eventType ?? "-", l.account ?? "-", l.deadAt?.iso8601Seconds ?? "-",
                    ]
                })
        }
        if !json { Output.error("\(letters.count) matching of \(scanned) read") }
    }
}

struct DLQShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one dead letter: job, headers, reason and attempts. The letter stays in the queue.")

    @Argument(help: "The message id: <eventId>:<endpointId> (as `dlq list` prints it).")
    var id: String
    @Flag(help: "Print the full record as JSON.")
    var json = false

    func run() async throws {
        let found = try await withDeadLetterQueue("dlq show") { dlq in
            try await dlq.find(id: id).map { ($0, DeadLetterRecord($0.delivery).jsonLine()) }
        }
        guard let (letter, line) = found else { throw CtlError("no dead letter with id '\(id)' in herald.dead") }
        if json {
            FileHandle.standardOutput.write(Data(line))
            return
        }
        Output.line("id:          \(letter.id)")
        Output.line("reason:      \(letter.reason ?? "-")")
        Output.line("error:       \(letter.error ?? "-")")
        Output.line("last status: \(letter.lastStatus.map(String.init) ?? "-")")
        Output.line("attempts:    \(letter.attempts.map(String.init) ?? "-")")
        Output.line("dead at:     \(letter.deadAt?.iso8601Milliseconds ?? "-") (by \(letter.source ?? "?"))")
        Output.line("endpoint:    \(letter.endpointId ?? "-")   account: \(letter.account ?? "-")")
        Output.line("event:       \(letter.eventId ?? "-")   type: \(letter.eventType ?? "-")")
        Output.line("headers:")
        for name in letter.delivery.properties.headers.keys.sorted() {
            Output.line("  \(name): \(DeadLetterRecord.encode(letter.delivery.properties.headers[name]!).serializedString())")
        }
        if let job = letter.job {
            Output.line("job:")
            Output.line("  url:            \(job.url)")
            Output.line("  profile:        \(job.profile)")
            Output.line("  first attempt:  \(job.firstAttemptAt)   last signed: \(job.signedAt)")
            Output.line(
                "  policy:         \(job.policy.maxAttempts) attempts, delays \(job.policy.delaysSeconds.map { "\($0)s" }.joined(separator: " "))"
            )
            Output.line("  event:          \(JSONValue.object(job.event.wireObject).serializedString())")
        } else {
            Output.line("body (not a delivery job):")
            Output.line(String(decoding: letter.delivery.body, as: UTF8.self))
        }
    }
}

struct DLQReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send dead letters back through the signer with a fresh signature and retry budget.",
        discussion: """
            Each job is published to herald.resign with attempt 1; its dead letter is removed only \
            after the broker confirms the publish. Choose one id, filters, or --all.

              heraldctl dlq replay evt_01…:ep_1
              heraldctl dlq replay --endpoint ep_1 --rate 20/s
              heraldctl dlq replay --all --dry-run
            """)

    @Argument(help: "Message ids (<eventId>:<endpointId>) to replay.")
    var ids: [String] = []
    @OptionGroup var filters: DeadLetterFilterOptions
    @Flag(help: "Replay every dead letter (required when no id or filter is given).")
    var all = false
    @Option(help: "Most replays per second, e.g. 50/s or 50.")
    var rate: String?
    @Option(help: "Replay at most this many.")
    var limit: Int?
    @Flag(help: "Show what would be replayed; change nothing.")
    var dryRun = false
    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if ids.isEmpty, filters.filter.isEmpty, !all {
            throw ValidationError("say what to replay: message ids, a filter (--endpoint, --reason …) or --all")
        }
        if let rate, Self.parseRate(rate) == nil { throw ValidationError("--rate '\(rate)' is not a rate (e.g. 50/s)") }
    }

    static func parseRate(_ text: String) -> Double? {
        var t = text
        if t.hasSuffix("/s") { t.removeLast(2) }
        guard let n = Double(t), n > 0 else { return nil }
        return n
    }

    func run() async throws {
        var filter = filters.filter
        filter.ids = Set(ids)
        let bar = ProgressBar(verb: dryRun ? "checked" : "replayed", json: json)
        let result = try await withDeadLetterQueue("dlq replay") { dlq in
            try await dlq.replay(
                filter: filter, limit: limit ?? (ids.isEmpty ? nil : ids.count),
                ratePerSecond: rate.flatMap(Self.parseRate), dryRun: dryRun
            ) { bar.update($0) }
        }
        bar.finish()
        if json {
            Output.json(
                .object([
                    "replayed": .number(Double(dryRun ? 0 : result.done)),
                    "wouldReplay": .number(Double(dryRun ? result.done : 0)),
                    "skipped": .number(Double(result.skipped)), "scanned": .number(Double(result.scanned)),
                    "ids": .array(dryRun ? result.ids.map(JSONValue.string) : []),
                ]))
        } else if dryRun {
            for id in result.ids { Output.line(id) }
            Output.line("dry run: would replay \(result.done) of \(result.scanned) dead letters read; nothing changed")
        } else {
            Output.line("replayed \(result.done) of \(result.scanned) dead letters read to herald.resign")
        }
        if result.skipped > 0 {
            Output.error(
                "\(result.skipped) matching letters are not delivery jobs (e.g. invalid events) and were left in the queue")
        }
        if !ids.isEmpty, result.done < ids.count {
            throw CtlError("\(ids.count - result.done) of the given ids were not found in herald.dead")
        }
    }
}

struct DLQPurge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete dead letters for good (asks first unless --yes).")

    @OptionGroup var filters: DeadLetterFilterOptions
    @Flag(help: "Do not ask for confirmation.")
    var yes = false
    @Flag(help: "Count what would be deleted; delete nothing.")
    var dryRun = false
    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let autoConfirm = yes
        let result = try await withDeadLetterQueue("dlq purge") { dlq in
            try await dlq.purge(filter: filters.filter, dryRun: dryRun) { count in
                if autoConfirm { return true }
                FileHandle.standardError.write(Data("Delete \(count) dead letters permanently? [y/N] ".utf8))
                guard let answer = readLine() else { return false }
                return ["y", "yes"].contains(answer.lowercased().trimmingCharacters(in: .whitespaces))
            }
        }
        if json {
            Output.json(
                .object([
                    "purged": .number(Double(dryRun ? 0 : result.done)), "matched": .number(Double(result.ids.count)),
                    "scanned": .number(Double(result.scanned)),
                ]))
        } else if dryRun {
            Output.line("dry run: would purge \(result.ids.count) of \(result.scanned) dead letters read")
        } else if result.done == 0, !result.ids.isEmpty {
            Output.line("nothing purged")
        } else {
            Output.line("purged \(result.done) of \(result.scanned) dead letters read")
        }
    }
}

struct DLQExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Move dead letters to a JSONL file (one message per line); each is removed only after its line is fsynced.")

    @Argument(help: "The file to write (overwritten).")
    var file: String
    @OptionGroup var filters: DeadLetterFilterOptions
    @Flag(help: "Copy only: leave the letters in the queue.")
    var keep = false
    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let bar = ProgressBar(verb: "exported", json: json)
        let result = try await withDeadLetterQueue("dlq export") { dlq in
            try await dlq.export(filter: filters.filter, to: file, keep: keep) { bar.update($0) }
        }
        bar.finish()
        if json {
            Output.json(.object(["exported": .number(Double(result.done)), "file": .string(file), "kept": .bool(keep)]))
        } else {
            Output.line("exported \(result.done) dead letters to \(file)\(keep ? " (left in the queue)" : "")")
        }
    }
}

struct DLQImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Publish the dead letters of a JSONL export back to herald.dead (confirmed).")

    @Argument(help: "A file written by `dlq export`.")
    var file: String
    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let count = try await withDeadLetterQueue("dlq import") { dlq in
            try await dlq.importRecords(from: file)
        }
        if json {
            Output.json(.object(["imported": .number(Double(count)), "file": .string(file)]))
        } else {
            Output.line("imported \(count) dead letters into herald.dead")
        }
    }
}
