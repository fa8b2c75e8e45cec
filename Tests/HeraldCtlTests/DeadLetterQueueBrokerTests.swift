import AMQP
import Foundation
import HeraldCore
import HeraldCtl
import HeraldTestSupport
import Testing

/// `heraldctl dlq` against the real broker, each test in its own vhost.
@Suite("dead-letter queue on a real broker", .serialized)
struct DeadLetterQueueBrokerTests {
    @Test("listing leaves every dead letter in the queue, in the same order")
    func listIsNonDestructive() async throws {
        let f = try await DeadLetterFixture.make("ctl-list")
        defer { Task { await f.tearDown() } }
        let ids = try await f.fill(200)

        let all = try CtlBinary.run(["dlq", "list", "--json"], amqpURL: f.url)
        #expect(all.status == 0, "\(all)")
        let listed = all.strings("id")
        #expect(listed == ids, "listed \(listed.count) ids, expected \(ids.count) in publish order")

        let filtered = try CtlBinary.run(
            ["dlq", "list", "--json", "--endpoint", "ep_1", "--reason", "permanent-failure"], amqpURL: f.url)
        let positions: [Int] = Array(0..<200).filter { (i: Int) -> Bool in i % 3 == 1 && i % 2 == 1 }
        let expected: [String] = positions.map { ids[$0] }
        let got = filtered.strings("id")
        #expect(got == expected)

        let summary = try CtlBinary.run(["dlq", "list", "--summary", "--json"], amqpURL: f.url)
        let groups = summary.jsonLines
        #expect(groups.count == 6, "3 endpoints × 2 reasons, got \(summary.stdout)")
        let counted: Int = groups.reduce(0) { (sum: Int, g: JSONValue) -> Int in sum + (g["count"]?.intValue ?? 0) }
        #expect(counted == 200)

        let show = try CtlBinary.run(["dlq", "show", ids[5]], amqpURL: f.url)
        #expect(
            show.status == 0 && show.stdout.contains("permanent-failure") && show.stdout.contains("https://example.com/hook"),
            "\(show)")
        let missing = try CtlBinary.run(["dlq", "show", "evt_nope:ep_0"], amqpURL: f.url)
        #expect(missing.status == 1 && missing.stderr.contains("no dead letter with id"), "\(missing)")

        // After four reads, the queue still holds the same messages in the same order.
        try await Task.sleep(for: .milliseconds(300))
        let after = try await f.peek(HeraldNames.deadQueue).map { $0.properties.messageId ?? "" }
        let firstDifference = zip(after, ids).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(after.count == ids.count, "count changed: \(after.count) messages, expected \(ids.count)")
        #expect(
            firstDifference == nil,
            "order changed at \(firstDifference.map { "\($0.offset): got \($0.element.0), expected \($0.element.1)" } ?? "-")")
    }

    @Test("replaying 10,000 dead letters puts each exactly once on herald.resign with a fresh budget")
    func replayTenThousand() async throws {
        let f = try await DeadLetterFixture.make("ctl-replay")
        defer { Task { await f.tearDown() } }
        let ids = try await f.fill(10_000)

        let clock = ContinuousClock()
        let start = clock.now
        let result = try CtlBinary.run(["dlq", "replay", "--all", "--json"], amqpURL: f.url)
        let elapsed = clock.now - start
        #expect(result.status == 0, "\(result)")
        #expect(try JSONValue.parse(result.stdout)["replayed"]?.intValue == 10_000, "\(result.stdout)")
        print("replayed 10000 dead letters in \(elapsed)")

        // heraldctl acked every dead letter before it closed; a quorum queue applies those acks
        // through its Raft log, so its count can lag the command's exit by a moment.
        var deadLeft = -1
        #expect(
            try await eventually(timeout: .seconds(10)) {
                deadLeft = try await f.depth(HeraldNames.deadQueue)
                return deadLeft == 0
            }, "\(deadLeft) dead letters still in herald.dead 10 s after the replay")
        let resigned = try await f.drain(HeraldNames.resignQueue)
        let resignedIds = resigned.compactMap(\.properties.messageId)
        #expect(resignedIds.count == 10_000, "got \(resignedIds.count) messages on herald.resign")
        #expect(
            Set(resignedIds) == Set(ids),
            "missing \(Set(ids).subtracting(resignedIds).count), unexpected \(Set(resignedIds).subtracting(ids).count)")
        let job = try DeliveryJob.wireDecoded(Array(resigned[0].body))
        #expect(job.attempt == 1, "replayed job attempt \(job.attempt), expected 1")
        #expect(job.firstAttemptAt > Timestamp(secondsSinceEpoch: 1_700_000_000))
        #expect(resigned[0].properties.headers["herald-attempt"]?.intValue == 1)
    }

    @Test("replay with a filter and --dry-run touches only what it says")
    func replayFilterAndDryRun() async throws {
        let f = try await DeadLetterFixture.make("ctl-filter")
        defer { Task { await f.tearDown() } }
        let ids = try await f.fill(30)

        let dry = try CtlBinary.run(["dlq", "replay", "--endpoint", "ep_2", "--dry-run"], amqpURL: f.url)
        #expect(dry.status == 0 && dry.stdout.contains("would replay 10 of 30"), "\(dry)")
        #expect(try await f.depth(HeraldNames.resignQueue) == 0)

        let one = try CtlBinary.run(["dlq", "replay", ids[4]], amqpURL: f.url)
        #expect(one.status == 0, "\(one)")
        let some = try CtlBinary.run(["dlq", "replay", "--endpoint", "ep_2"], amqpURL: f.url)
        #expect(some.status == 0 && some.stdout.contains("replayed 10 of"), "\(some)")

        let left = try await f.peek(HeraldNames.deadQueue).compactMap(\.properties.messageId)
        var expectedLeft: [String] = []
        for (i, id) in ids.enumerated() where i % 3 != 2 && i != 4 { expectedLeft.append(id) }
        #expect(left == expectedLeft, "the rest stays, in order")
        #expect(try await f.depth(HeraldNames.resignQueue) == 11)

        let purge = try CtlBinary.run(["dlq", "purge", "--endpoint", "ep_0"], amqpURL: f.url, stdin: "n\n")
        #expect(purge.status == 0 && purge.stdout.contains("nothing purged"), "\(purge)")
        let purgeYes = try CtlBinary.run(["dlq", "purge", "--endpoint", "ep_0", "--yes"], amqpURL: f.url)
        #expect(purgeYes.status == 0 && purgeYes.stdout.contains("purged 10"), "\(purgeYes)")
        let settled = await eventually { (try? await f.depth(HeraldNames.deadQueue)) == 9 }
        let left9 = try await f.depth(HeraldNames.deadQueue)
        #expect(settled, "expected 9 dead letters left, got \(left9)")
    }

    @Test("export then import gives back byte-equal bodies and headers")
    func exportImportRoundTrip() async throws {
        let f = try await DeadLetterFixture.make("ctl-export")
        defer { Task { await f.tearDown() } }
        try await f.fill(500)
        let before = try await f.peek(HeraldNames.deadQueue)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-export-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: file) }

        let export = try CtlBinary.run(["dlq", "export", file], amqpURL: f.url)
        #expect(export.status == 0 && export.stdout.contains("exported 500"), "\(export)")
        // A quorum queue applies acks through Raft: its count can lag the command's exit.
        let emptied = await eventually { (try? await f.depth(HeraldNames.deadQueue)) == 0 }
        let left = try await f.depth(HeraldNames.deadQueue)
        #expect(emptied, "expected herald.dead empty after the export, \(left) left")
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 500)

        let imported = try CtlBinary.run(["dlq", "import", file], amqpURL: f.url)
        #expect(imported.status == 0 && imported.stdout.contains("imported 500"), "\(imported)")
        let after = try await f.drain(HeraldNames.deadQueue)
        #expect(after.count == before.count)
        for (a, b) in zip(before, after) {
            var ha = a.properties.headers, hb = b.properties.headers
            ha["x-delivery-count"] = nil
            hb["x-delivery-count"] = nil
            #expect(a.body == b.body, "body of \(a.properties.messageId ?? "?") changed")
            #expect(ha == hb, "headers of \(a.properties.messageId ?? "?") changed: \(ha) vs \(hb)")
            #expect(a.properties.messageId == b.properties.messageId && a.properties.contentType == b.properties.contentType)
        }
    }

    @Test("a replay killed mid-way loses nothing: every letter is on herald.dead or herald.resign")
    func interruptedReplay() async throws {
        let f = try await DeadLetterFixture.make("ctl-kill")
        defer { Task { await f.tearDown() } }
        let ids = try await f.fill(3_000)

        let process = try CtlBinary.spawn(["dlq", "replay", "--all", "--rate", "2000/s"], amqpURL: f.url)
        let started = await eventually(timeout: .seconds(20)) { (try? await f.depth(HeraldNames.resignQueue)) ?? 0 >= 600 }
        #expect(started, "the replay did not get going")
        kill(process.processIdentifier, SIGKILL)
        await process.waitForExit()
        #expect(process.terminationReason == .uncaughtSignal)

        // The broker returns the killed connection's unacknowledged messages to herald.dead.
        _ = await eventually(timeout: .seconds(10)) {
            let d = (try? await f.depth(HeraldNames.deadQueue)) ?? 0
            let r = (try? await f.depth(HeraldNames.resignQueue)) ?? 0
            return d + r >= ids.count
        }
        let dead = try await f.drain(HeraldNames.deadQueue).compactMap(\.properties.messageId)
        let resigned = try await f.drain(HeraldNames.resignQueue).compactMap(\.properties.messageId)
        print("interrupted replay: \(resigned.count) on herald.resign, \(dead.count) back on herald.dead, of \(ids.count)")
        #expect(resigned.count > 0 && resigned.count < ids.count, "killed mid-way, got \(resigned.count) replayed")
        let union = Set(dead).union(resigned)
        #expect(union == Set(ids), "lost \(Set(ids).subtracting(union).count) dead letters")
        // A letter killed between its confirm and its ack is in both places (at-least-once);
        // at most one batch (200 at this rate) can be.
        let both = Set(dead).intersection(resigned).count
        #expect(dead.count + resigned.count - ids.count == both && both <= 200, "duplicates: \(both)")
    }
}
