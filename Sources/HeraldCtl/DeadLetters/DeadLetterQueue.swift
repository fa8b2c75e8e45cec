import AMQP
import Foundation
import HeraldCore
import HeraldMessages

/// Operations on the dead-letter queue that never lose a message.
///
/// Every operation reads the queue once through a consumer with manual acknowledgement and a
/// wide prefetch window: a message stays in the queue (unacknowledged) while it is looked at, is
/// acknowledged only after what replaces it (a confirmed publish, an fsynced export line) exists,
/// and everything not taken is never settled at all, so the broker puts it back, in its original
/// order, when the connection closes. (Requeueing with `nack` does not keep the order of a
/// quorum queue; closing does.) If the process dies at any point, the same happens.
///
/// Close the connection after an operation to hand back what it read but did not take.
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
    public func list(filter: DeadLetterFilter, limit: Int, now: Timestamp = .now()) async throws -> (
        letters: [DeadLetter], scanned: Int
    ) {
        var letters: [DeadLetter] = []
        var scanned = 0
        try await read(limit: limit) { delivery in
            scanned += 1
            let letter = DeadLetter(delivery)
            if filter.matches(letter, now: now) { letters.append(letter) }
            return true
        }
        return (letters, scanned)
    }

    /// The letter with message id `id`, or nil; the queue is left as it was.
    public func find(id: String) async throws -> DeadLetter? {
        var found: DeadLetter?
        try await read(limit: nil) { delivery in
            let letter = DeadLetter(delivery)
            if letter.id == id { found = letter }
            return found == nil
        }
        return found
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
    public func replay(
        filter: DeadLetterFilter, limit: Int? = nil, ratePerSecond: Double? = nil, dryRun: Bool = false,
        batchSize: Int = 500, progress: @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Result {
        var batch = max(1, batchSize)
        if let ratePerSecond { batch = max(1, min(batch, Int(ratePerSecond / 10))) }
        let pace = ratePerSecond.map { Duration.seconds(Double(batch) / $0) }
        return try await walk(filter: filter, limit: limit, batchSize: batch, pace: pace, dryRun: dryRun, progress: progress) {
            letters in
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
        QueueMessages.job(job, to: .resign, from: .ctl)
    }

    // MARK: purge

    /// Removes matching letters after `confirm` (given their count) agrees.
    public func purge(
        filter: DeadLetterFilter, limit: Int? = nil, dryRun: Bool = false,
        confirm: @Sendable (Int) async -> Bool
    ) async throws -> Result {
        var matched: [DeadLetter] = []
        var result = Result()
        let now = Timestamp.now()
        try await read(limit: nil) { delivery in
            result.scanned += 1
            let letter = DeadLetter(delivery)
            if filter.matches(letter, now: now) { matched.append(letter) }
            return limit.map { matched.count < $0 } ?? true
        }
        result.ids = matched.map(\.id)
        if dryRun || matched.isEmpty {
            result.done = dryRun ? matched.count : 0
            return result
        }
        // Everything read stays unacknowledged while the operator decides.
        if await confirm(matched.count) {
            for letter in matched { letter.delivery.ack() }
            result.done = matched.count
        }
        return result
    }

    // MARK: export / import

    /// Writes matching letters to `path` as JSONL (see `DeadLetterRecord`), fsyncing before
    /// acknowledging; with `keep` the letters stay in the queue (an archive copy).
    public func export(
        filter: DeadLetterFilter, to path: String, keep: Bool = false, limit: Int? = nil,
        progress: @Sendable (Progress) -> Void = { _ in }
    ) async throws -> Result {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CtlError("cannot create '\(path)'")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        return try await walk(
            filter: filter, limit: limit, batchSize: 500, pace: nil, dryRun: keep, writeEvenIfDry: true,
            progress: progress
        ) { letters in
            var data = Data()
            for letter in letters {
                data.append(contentsOf: DeadLetterRecord(letter.delivery).jsonLine())
            }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } canHandle: { _ in
            true
        }
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
            batch.append(
                AMQPPublication(
                    exchange: HeraldNames.deadExchange, routingKey: HeraldNames.deadRoutingKey,
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
    private func walk(
        filter: DeadLetterFilter, limit: Int?, batchSize: Int, pace: Duration?, dryRun: Bool,
        writeEvenIfDry: Bool = false, progress: @Sendable (Progress) -> Void,
        handle: ([DeadLetter]) async throws -> Void,
        canHandle: (DeadLetter) -> Bool
    ) async throws -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        let total = (try? await depth()) ?? 0
        var result = Result()
        var pending: [DeadLetter] = []
        var nextBatchAt = start
        let now = Timestamp.now()
        var lastReport = start

        func report(force: Bool = false) {
            let t = clock.now
            guard force || t - lastReport >= .milliseconds(100) else { return }
            lastReport = t
            progress(
                Progress(
                    scanned: result.scanned, total: max(total, result.scanned), done: result.done,
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
                if !dryRun { letter.delivery.ack() }
                result.ids.append(letter.id)
            }
            result.done += pending.count
            pending.removeAll(keepingCapacity: true)
            report()
        }

        try await read(limit: nil, window: batchSize) { delivery in
            result.scanned += 1
            let letter = DeadLetter(delivery)
            if filter.matches(letter, now: now) {
                if canHandle(letter) {
                    pending.append(letter)
                    if pending.count >= batchSize { try await flush() }
                } else {
                    result.skipped += 1
                }
            }
            report()
            return limit.map { result.done + pending.count < $0 } ?? true
        }
        // Pending letters are acknowledged only after `handle` succeeded; on a throw they stay
        // unacknowledged and go back when the connection closes.
        try await flush()
        report(force: true)
        return result
    }

    /// What the reading loop sees: a message, a clock tick (to notice the queue has run dry),
    /// or the end of the consumer.
    private enum ReadEvent: Sendable {
        case delivery(AMQPDelivery)
        case tick
        case end((any Error)?)
    }

    /// Reads the queue from its head through a consumer, calling `body` for each message until it
    /// returns false, `limit` messages were read, as many messages as the queue held at the start
    /// were read, or nothing arrived for `idle` (`firstDeliveryWait` before the first message: a
    /// busy broker can take seconds to start, and stopping then exported 0 of 7,000 letters).
    /// Nothing is settled here.
    ///
    /// - Parameter window: extra prefetch beyond the queue's depth, for messages acknowledged as
    ///   the walk goes (a replay's batches), so held messages never stall the consumer.
    private func read(
        limit: Int?, window: Int = 0, idle: Duration = .milliseconds(800),
        firstDeliveryWait: Duration = .seconds(15),
        _ body: (AMQPDelivery) async throws -> Bool
    ) async throws {
        let depth = try await connection.inspect(queue: queue).messageCount
        let expected = min(depth, limit ?? .max)
        guard expected > 0 else { return }
        let prefetch = UInt16(clamping: min(65_535, expected + window))
        let consumer = try await connection.consume(queue: queue, prefetch: prefetch)
        let (events, continuation) = AsyncStream<ReadEvent>.makeStream()
        let pump = Task {
            // Ends when the connection closes.
            do {
                for try await delivery in consumer { continuation.yield(.delivery(delivery)) }
                continuation.yield(.end(nil))
            } catch {
                continuation.yield(.end(error))
            }
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                continuation.yield(.tick)
            }
        }
        // The consumer is deliberately left open: cancelling it while messages are still in
        // flight lets the broker requeue those at the back of the queue. Closing the connection
        // returns everything unacknowledged in its original order.
        defer {
            ticker.cancel()
            continuation.finish()
            _ = pump
        }
        let clock = ContinuousClock()
        var seen = 0
        var lastDelivery = clock.now
        loop: for await event in events {
            switch event {
            case .delivery(let delivery):
                seen += 1
                lastDelivery = clock.now
                let more = try await body(delivery)
                // A slow body (a paced batch) is not the queue running dry.
                lastDelivery = clock.now
                if !more || seen >= expected { break loop }
            case .tick:
                // Before the first delivery the broker may simply be slow to start sending (a busy
                // node, thousands of letters): only a long silence means there is nothing to read.
                if clock.now - lastDelivery > (seen == 0 ? firstDeliveryWait : idle) { break loop }
            case .end(let error):
                if let error { throw error }
                break loop
            }
        }
    }
}
