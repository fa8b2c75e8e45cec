import Foundation
import Logging

/// A connection to RabbitMQ that survives broker restarts.
///
/// rabbitmq-c connections are not thread-safe, so each `AMQPConnection` owns a dedicated thread
/// that alone calls into the C library; this type is the `Sendable` façade the rest of the
/// program uses from any task.
///
/// ```swift
/// let connection = try await AMQPConnection.connect(
///     AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:5672/", connectionName: "herald-signer"))
/// try await connection.declare(topology)
/// try await connection.publish(AMQPPublication(exchange: "herald.events", routingKey: "message.delivered", body: body))
/// for try await delivery in try await connection.consume(queue: "herald.sign", prefetch: 100) {
///     // ... handle, then:
///     delivery.ack()
/// }
/// ```
///
/// Guarantees:
/// - `publish` returns only once the broker confirmed the message (publisher confirms); a
///   mandatory message no queue receives throws `.unroutable`. Publishes are pipelined: many
///   tasks may publish at once, and a batch is sent in one go and confirmed together.
/// - Every call is answered, exactly once: success or an error, at the latest after
///   `publishTimeout` for a publish, across reconnects, and at once on `close()`.
/// - A failed publish says whether the broker may hold the message: `.timeout` and `.blocked`
///   mean it was never sent (nothing was accepted); `.unconfirmed` means it was sent and may
///   still be delivered (`mayHaveBeenAccepted`), so a retry must be safe to deduplicate.
/// - While the broker blocks publishing (memory or disk alarm, `isBlocked`), nothing is written:
///   publishes wait at most `blockedPublishTimeout` (1 s by default) for the block to lift, then
///   fail with `.blocked`; those already on the wire fail with `.unconfirmed` after the same time.
/// - A message AMQP cannot encode (a short string such as the message id or routing key over
///   255 bytes, properties too big for a frame) fails its batch with `.unencodable` before any of
///   the batch is sent; the connection, its consumers and other publishes are unaffected.
/// - When the connection drops, it reconnects with backoff, re-declares every topology declared
///   through it, re-sends unconfirmed publishes (so duplicates are possible, losses are not) and
///   resubscribes consumers. The broker redelivers whatever was not acknowledged.
public final class AMQPConnection: Sendable {
    let core: ConnectionCore

    private init(core: ConnectionCore) {
        self.core = core
    }

    /// Connects and logs in.
    ///
    /// - Throws: `AMQPError` saying what is wrong: `.connectionFailed` (nothing listening),
    ///   `.accessRefused` (credentials), `.notAllowed` (vhost). Later connection losses are
    ///   repaired in the background instead of thrown.
    public static func connect(
        _ configuration: AMQPConfiguration,
        logger: Logger = Logger(label: "herald.amqp")
    ) async throws -> AMQPConnection {
        let core = ConnectionCore(configuration: configuration, logger: logger)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let thread = Thread {
                let engine = ConnectionEngine(core: core)
                do {
                    try engine.connectFirstTime()
                } catch {
                    _ = core.markClosed()
                    continuation.resume(throwing: error)
                    return
                }
                continuation.resume()
                engine.run()
            }
            thread.name = "amqp:\(configuration.connectionName)"
            thread.start()
        }
        return AMQPConnection(core: core)
    }

    deinit {
        // The thread holds the core, not this façade: ask it to stop if nobody did.
        if !core.isClosed {
            let core = self.core
            Task { await withCheckedContinuation { core.submit(.close($0)) } }
        }
    }

    /// The configuration this connection was made with.
    public var configuration: AMQPConfiguration { core.configuration }

    /// True while a live connection to the broker exists (false while reconnecting).
    public var isConnected: Bool { core.isConnected }

    /// True while the broker blocks publishing (a memory or disk alarm); publishes then wait
    /// until it lifts, at most `blockedPublishTimeout`, and fail with `.blocked`.
    public var isBlocked: Bool { core.isBlocked }

    /// How many times the connection was re-established after a loss since `connect`: a
    /// consumer that caches per-connection state can tell that a reconnect happened, however short.
    public var reconnectCount: Int { core.reconnectCount }

    /// Declares exchanges, queues and bindings, and remembers them to declare again after a reconnect.
    ///
    /// - Throws: `.preconditionFailed` when a name exists with other arguments.
    public func declare(_ topology: AMQPTopology) async throws {
        try await withCheckedThrowingContinuation { core.submit(.declare(topology, $0)) }
    }

    /// Publishes one message and waits for the broker's confirm.
    public func publish(_ publication: AMQPPublication) async throws {
        try await publish([publication])
    }

    /// Publishes messages back to back and waits until every one is confirmed.
    ///
    /// - Throws: the first failure: `.unroutable`, `.nacked`, `.unencodable` (nothing of the
    ///   batch was sent), `.blocked` or `.timeout` (that message was never sent), `.unconfirmed`
    ///   (it was sent and may still be delivered). Other messages of the batch may have been
    ///   delivered; callers that retry must tolerate duplicates.
    public func publish(_ publications: [AMQPPublication]) async throws {
        let deadline = ContinuousClock.now + core.configuration.publishTimeout
        try await withCheckedThrowingContinuation { continuation in
            core.submit(.publish(PublishBatch(publications: publications, deadline: deadline, continuation: continuation)))
        }
    }

    /// Starts consuming a queue with manual acknowledgements.
    ///
    /// - Parameters:
    ///   - queue: the queue to consume.
    ///   - prefetch: how many unacknowledged deliveries the broker may send ahead.
    ///   - exclusive: refuse other consumers on the queue.
    /// - Returns: the deliveries. The sequence ends when `cancel()` is called or the connection
    ///   closes, and throws `.consumerCancelled` when the broker cancels the consumer. It
    ///   survives reconnects: redelivered messages arrive with `redelivered == true`.
    public func consume(
        queue: String, prefetch: UInt16, exclusive: Bool = false,
        arguments: AMQPTable = [:]
    ) async throws -> AMQPConsumer {
        let (stream, continuation) = AsyncThrowingStream<AMQPDelivery, Error>.makeStream()
        let state = ConsumerState(
            queue: queue, prefetch: prefetch, exclusive: exclusive,
            arguments: arguments, continuation: continuation)
        let core = self.core
        continuation.onTermination = { termination in
            if case .cancelled = termination { core.submit(.cancelConsumer(state)) }
        }
        try await withCheckedThrowingContinuation { core.submit(.consume(state, $0)) }
        return AMQPConsumer(stream: stream, state: state, core: core)
    }

    /// Takes one message from a queue without subscribing (`basic.get`), or nil when it is empty.
    /// The message stays unacknowledged until settled.
    public func get(queue: String) async throws -> AMQPDelivery? {
        try await withCheckedThrowingContinuation { core.submit(.get(queue, $0)) }
    }

    /// The queue's ready-message and consumer counts.
    ///
    /// - Throws: `.notFound` when the queue does not exist.
    public func inspect(queue: String) async throws -> AMQPQueueStatus {
        try await withCheckedThrowingContinuation { core.submit(.inspectQueue(queue, $0)) }
    }

    /// Removes every ready message from the queue; returns how many.
    @discardableResult
    public func purge(queue: String) async throws -> Int {
        try await withCheckedThrowingContinuation { core.submit(.purgeQueue(queue, $0)) }
    }

    /// Deletes the queue and its messages.
    public func delete(queue: String) async throws {
        try await withCheckedThrowingContinuation { core.submit(.deleteQueue(queue, $0)) }
    }

    /// Closes the connection: fails publishes still waiting, ends consumers, and returns when the
    /// broker connection is closed. Unacknowledged deliveries go back to their queues.
    public func close() async {
        await withCheckedContinuation { core.submit(.close($0)) }
    }
}

/// The deliveries of one consumer, as an `AsyncSequence`.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    private let stream: AsyncThrowingStream<AMQPDelivery, Error>
    private let state: ConsumerState
    private let core: ConnectionCore

    init(stream: AsyncThrowingStream<AMQPDelivery, Error>, state: ConsumerState, core: ConnectionCore) {
        self.stream = stream
        self.state = state
        self.core = core
    }

    public func makeAsyncIterator() -> AsyncThrowingStream<AMQPDelivery, Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// Stops new deliveries (`basic.cancel`); deliveries already received can still be settled.
    public func cancel() {
        core.submit(.cancelConsumer(state))
    }
}
