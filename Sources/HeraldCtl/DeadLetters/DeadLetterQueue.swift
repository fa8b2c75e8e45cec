import AMQP
import Foundation
import HeraldCore

/// Operations on the dead-letter queue that never lose a message.
///
/// Every operation walks the queue with `basic.get` and manual acknowledgement: a message stays
/// in the queue (unacknowledged) while it is being looked at, is acknowledged only after what
/// replaces it (a confirmed publish, an fsynced export line) exists, and everything not taken is
/// handed back with `nack(requeue: true)` in the order it was read. If the process dies at any
/// point, the broker returns every unacknowledged message to the queue.
///
/// ```swift
/// let dlq = DeadLetterQueue(connection: connection)
/// let page = try await dlq.list(filter: DeadLetterFilter(), limit: 100)
/// let result = try await dlq.replay(filter: filter) { progress in print(progress.done) }
/// ```
public struct DeadLetterQueue: Sendable {
    public let connection: AMQPConnection
    public let queue: String

    public init(connection: AMQPConnection, queue: String = HeraldNames.deadQueue) {
        self.connection = connection
        self.queue = queue
    }

    /// How many messages are ready in the queue now.
    public func depth() async throws -> Int {
        try await connection.inspect(queue: queue).messageCount
    }

    // MARK: reading

    /// The letters matching `filter`, in queue order, leaving the queue as it was.
    ///
    /// - Parameters:
    ///   - limit: read at most this many messages (matching or not).
    /// - Returns: the matching letters and how many messages were read.
    public func list(filter: DeadLetterFilter, limit: Int, now: Timestamp = .now()) async throws -> (letters: [DeadLetter], scanned: Int) {
        var held: [AMQPDelivery] = []
        var letters: [DeadLetter] = []
        defer { Self.giveBack(held) }
        while held.count < limit, let delivery = try await connection.get(queue: queue) {
            held.append(delivery)
            let letter = DeadLetter(delivery)
            if filter.matches(letter, now: now) { letters.append(letter) }
        }
        return (letters, held.count)
    }

    /// The letter with message id `id`, or nil; the queue is left as it was.
    public func find(id: String) async throws -> DeadLetter? {
        var held: [AMQPDelivery] = []
        defer { Self.giveBack(held) }
        while let delivery = try await connection.get(queue: queue) {
            held.append(delivery)
            let letter = DeadLetter(delivery)
            if letter.id == id { return letter }
        }
        return nil
    }

    // MARK: replay

    /// Counts for a progress display.
    public struct Progress: Sendable {
        /// Messages read so far / in the queue when the operation started.
        public var scanned: Int
        public var total: Int
        /// Matching messages handled (replayed, purged, exported).
        public var done: Int
        /// Matching messages that could not be handled (a body that is not a job) and stay.
        public var skipped: Int
        public var elapsed: Duration
    }

    /// What a replay, purge or export did.
    public struct Result: Sendable {
        public var scanned = 0
        public var done = 0
        public var skipped = 0
        /// Ids of the letters handled (for `--dry-run` listings and tests).
        public var ids: [String] = []
    }

    /// Replays matching letters: each job goes to `herald.resign` with attempt 1 and
    /// `firstAttemptAt` = now, so the signer re-signs it with a fresh retry budget. A letter is
    /// acknowledged (removed) only after its replay is confirmed by the broker.
    ///
    /// - Parameters:
    ///   - limit: replay at most this many.
    ///   - ratePerSecond: at most this many publishes per second (protects a receiver that just came back).
    ///   - dryRun: read and count, publish nothing, remove nothing.
    ///   - batchSize: publishes confirmed together (then their letters are acknowledged together).
    public func replay(filter: DeadLetterFilter, limit: Int? = nil, ratePerSecond: Double? = nil, dryRun: Bool = false,
                       batchSize: Int = 500, progress: @Sendable (Progress) -> Void = { _ in }) async throws -> Result {
        var batch = max(1, batchSize)
        if let ratePerSecond { batch = max(1, min(batch, Int(ratePerSecond / 10))) }
        let pace = ratePerSecond.map { Duration.seconds(Double(batch) / $0) }
        return try await walk(filter: filter, limit: limit, batchSize: batch, pace: pace, dryRun: dryRun, progress: progress) { letters in
            let now = Timestamp.now()
            var publications: [AMQPPublication] = []
            for letter in letters {
                guard let job = letter.replayJob(now: now) else { continue }
                publications.append(Self.resignPublication(job))
            }
            try await connection.publish(publications)
        } canHandle: { letter in
            letter.job != nil
        }
    }

    /// The publication that sends `job` to the signer's re-sign queue.
    public static func resignPublication(_ job: DeliveryJob) -> AMQPPublication {
        AMQPPublication(
            exchange: HeraldNames.resignExchange, routingKey: HeraldNames.resignRoutingKey, body: Data(job.wireEncoded()),
            properties: AMQPProperties(
                contentType: "application/json",
                headers: [
                    "herald-event-id": .string(job.event.id),
                    "herald-endpoint-id": .string(job.endpointId),
                    "herald-attempt": .int64(Int64(job.attempt)),
                ],
                persistent: true, messageId: "\(job.event.id):\(job.endpointId)"))
    }

    // MARK: purge

    /// Removes matching letters after `confirm` (given their count) agrees.
    public func purge(filter: DeadLetterFilter, limit: Int? = nil, dryRun: Bool = false,
                      confirm: @Sendable (Int) async -> Bool) async throws -> Result {
        var held: [AMQPDelivery] = []
        var matched: [DeadLetter] = []
        var result = Result()
        let now = Timestamp.now()
        do {
            while limit.map({ matched.count < $0 }) ?? true, let delivery = try await connection.get(queue: queue) {
                result.scanned += 1
                let letter = DeadLetter(delivery)
                if filter.matches(letter, now: now) { matched.append(letter) } else { held.append(delivery) }
            }
        } catch {
            Self.giveBack(held + matched.map(\.delivery))
            throw error
        }
        result.ids = matched.map(\.id)
        if dryRun || matched.isEmpty {
            Self.giveBack(held + matched.map(\.delivery))
            result.done = dryRun ? matched.count : 0
            return result
        }
        let go = await confirm(matched.count)
        if go {
            for letter in matched { letter.delivery.ack() }
            result.done = matched.count
            Self.giveBack(held)
        } else {
            Self.giveBack(held + matched.map(\.delivery))
        }
        return result
    }

    // MARK: export / import

    /// Writes matching letters to `path` as JSONL (see `DeadLetterRecord`), fsyncing before
    /// acknowledging; with `keep` the letters stay in the queue (an archive copy).
    public func export(filter: DeadLetterFilter, to path: String, keep: Bool = false, limit: Int? = nil,
                       progress: @Sendable (Progress) -> Void = { _ in }) async throws -> Result {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CtlError("cannot create '\(path)'")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        return try await walk(filter: filter, limit: limit, batchSize: 500, pace: nil, dryRun: keep, writeEvenIfDry: true,
                              progress: progress) { letters in
            var data = Data()
            for letter in letters {
                data.append(contentsOf: DeadLetterRecord(letter.delivery).jsonLine())
            }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } canHandle: { _ in true }
    }

    /// Publishes every record of a JSONL export to `herald.dead` (confirmed), in file order.
    /// - Returns: how many were published.
    public func importRecords(from path: String, batchSize: Int = 500) async throws -> Int {
        guard let data = FileManager.default.contents(atPath: path) else { throw CtlError("cannot read '\(path)'") }
        var count = 0
        var batch: [AMQPPublication] = []
        for (number, line) in data.split(separator: 0x0A, omittingEmptySubsequences: true).enumerated() {
            let record: DeadLetterRecord
            do {
                record = try DeadLetterRecord(jsonLine: Array(line))
            } catch {
                throw CtlError("\(path):\(number + 1): \(error)")
            }
            batch.append(AMQPPublication(exchange: HeraldNames.deadExchange, routingKey: HeraldNames.deadRoutingKey,
                                         body: Data(record.body), properties: record.properties))
            if batch.count >= batchSize {
                try await connection.publish(batch)
                count += batch.count
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty {
            try await connection.publish(batch)
            count += batch.count
        }
        return count
    }

    // MARK: the walk

    /// Reads the queue once; matching letters are handled in batches (`handle`, then acked),
    /// the rest are held and given back in order at the end.
    private func walk(filter: DeadLetterFilter, limit: Int?, batchSize: Int, pace: Duration?, dryRun: Bool,
                      writeEvenIfDry: Bool = false, progress: @Sendable (Progress) -> Void,
                      handle: ([DeadLetter]) async throws -> Void,
                      canHandle: (DeadLetter) -> Bool) async throws -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        let total = (try? await depth()) ?? 0
        var result = Result()
        var held: [AMQPDelivery] = []
        var pending: [DeadLetter] = []
        var nextBatchAt = start
        let now = Timestamp.now()
        var lastReport = start

        func report(force: Bool = false) {
            let t = clock.now
            guard force || t - lastReport >= .milliseconds(100) else { return }
            lastReport = t
            progress(Progress(scanned: result.scanned, total: max(total, result.scanned), done: result.done,
                              skipped: result.skipped, elapsed: t - start))
        }

        func flush() async throws {
            guard !pending.isEmpty else { return }
            if let pace {
                let t = clock.now
                if t < nextBatchAt { try await Task.sleep(until: nextBatchAt, clock: clock) }
                nextBatchAt = max(t, nextBatchAt) + pace
            }
            if !dryRun || writeEvenIfDry { try await handle(pending) }
            for letter in pending {
                if dryRun { held.append(letter.delivery) } else { letter.delivery.ack() }
                result.ids.append(letter.id)
            }
            result.done += pending.count
            pending.removeAll(keepingCapacity: true)
            report()
        }

        do {
            while limit.map({ result.done + pending.count < $0 }) ?? true,
                  let delivery = try await connection.get(queue: queue) {
                result.scanned += 1
                let letter = DeadLetter(delivery)
                if filter.matches(letter, now: now) {
                    if canHandle(letter) {
                        pending.append(letter)
                        if pending.count >= batchSize { try await flush() }
                    } else {
                        result.skipped += 1
                        held.append(delivery)
                    }
                } else {
                    held.append(delivery)
                }
                report()
            }
            try await flush()
        } catch {
            // Nothing pending was acknowledged: hand it all back before reporting.
            Self.giveBack(held + pending.map(\.delivery))
            throw error
        }
        Self.giveBack(held)
        report(force: true)
        return result
    }

    /// Returns held messages to the queue in the order they were read.
    static func giveBack(_ deliveries: [AMQPDelivery]) {
        for delivery in deliveries { delivery.nack(requeue: true) }
    }
}
