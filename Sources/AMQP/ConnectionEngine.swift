internal import CRabbitMQ
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The owner thread's side of a connection: it alone calls rabbitmq-c.
///
/// The loop: run queued commands, read every frame the broker sent, send what waits in
/// `unsent`, sleep in `poll` on the socket and the wake eventfd. When the connection drops it
/// reconnects with backoff, re-declares the topology, re-sends unconfirmed publishes and
/// resubscribes consumers; the broker redelivers whatever was unacknowledged. Not `Sendable`:
/// it never leaves its thread.
///
/// Every publication is in exactly one of `unsent` and `unconfirmed` until its batch is
/// answered (confirm, failure, deadline or shutdown), so no caller is ever left waiting.
final class ConnectionEngine {
    private let core: ConnectionCore
    private var logger: Logger { core.logger }
    private var configuration: AMQPConfiguration { core.configuration }

    private var session: Session?
    /// Every topology declared through this connection, re-declared after a reconnect.
    private var topology = AMQPTopology()

    /// Publications waiting to be written (no connection, the broker blocks publishing, or
    /// re-sent after a reconnect), oldest first.
    private var unsent: [PendingPublish] = []
    /// Publications sent and waiting for their confirm, by sequence number.
    private var unconfirmed: [UInt64: PendingPublish] = [:]
    private var nextSequence: UInt64 = 1
    private var lowestUnconfirmed: UInt64 = 1
    /// Since when the broker blocks publishing (`connection.blocked`); nil when it does not.
    /// Nothing is written meanwhile: the broker would not read it, and a write could block.
    private var blockedSince: ContinuousClock.Instant?

    private var consumers: [UInt16: ConsumerState] = [:]
    private var nextConsumerChannel = Session.firstConsumerChannel
    /// Bumped whenever a channel is (re)opened, so settlements for an older incarnation are dropped.
    private var incarnations: [UInt16: UInt64] = [:]
    private var incarnationCounter: UInt64 = 0
    /// In-order acks taken in one pass, sent as one `basic.ack(multiple)` at its end.
    private var acks = AckCoalescer()

    private var reconnectDelay: Duration
    private var nextReconnect = ContinuousClock.now
    private var lastDeadlineSweep = ContinuousClock.now
    /// Everyone waiting in `close()`: several tasks may ask, each must be resumed.
    private var closeContinuations: [CheckedContinuation<Void, Never>] = []

    /// The header carrying a mandatory publish's sequence number, so that a `basic.return` (which
    /// has no delivery tag) can be matched to the publish it refers to.
    static let sequenceHeader = "herald-publish-seq"
    /// Header bytes a mandatory publish gains (`sequenceHeader` and an int64, plus the table's
    /// length in case it was empty), kept free when checking that its content header fits a frame.
    static let sequenceHeaderBytes = 4 + 1 + sequenceHeader.utf8.count + 1 + 8
    /// Frames read per pass before queued commands get their turn (see `readAvailableFrames`).
    static let framesPerPass = 32

    init(core: ConnectionCore) {
        self.core = core
        self.reconnectDelay = core.configuration.reconnectInitialDelay
    }

    /// Opens the first connection; the caller learns at once if the broker or credentials are wrong.
    func connectFirstTime() throws(AMQPError) {
        session = try Session.open(configuration)
        incarnations[Session.controlChannel] = 0
        core.isConnected = true
        logger.info(
            "AMQP connected", metadata: ["amqp.url": "\(configuration)", "amqp.connection": "\(configuration.connectionName)"])
    }

    /// Runs until `close`.
    func run() {
        while closeContinuations.isEmpty {
            for command in core.takeCommands() { execute(command) }
            sendDeferredAcks()
            guard closeContinuations.isEmpty else { break }
            if session == nil { reconnectIfDue() }
            if let session {
                readAvailableFrames(session)
            }
            if let session, !unsent.isEmpty, blockedSince == nil {
                sendUnsent(on: session)
            }
            sweepDeadlines()
            sleepUntilWork()
        }
        shutDown()
    }

    // MARK: - Commands

    private func execute(_ command: Command) {
        // Anything but a settlement sees the acks taken before it already sent.
        if case .settle = command {} else { sendDeferredAcks() }
        switch command {
        case .publish(let batch):
            // A publication AMQP cannot carry fails its whole batch before any of it is written,
            // so the caller knows nothing of it was sent; the connection never sees it.
            let frameMax = session?.frameMax ?? Session.requestedFrameMax
            for publication in batch.publications {
                let reserved = publication.mandatory ? Self.sequenceHeaderBytes : 0
                if let problem = publication.encodingProblem(frameMax: frameMax, reservedHeaderBytes: reserved) {
                    batch.fail(
                        AMQPError(
                            .unencodable,
                            "cannot publish to exchange '\(publication.exchange.prefix(64))' with routing key '\(publication.routingKey.prefix(64))': \(problem); nothing was sent"
                        ))
                    return
                }
            }
            let now = ContinuousClock.now
            for index in batch.publications.indices {
                let pending = PendingPublish(batch: batch, index: index, since: now)
                if let session, unsent.isEmpty, blockedSince == nil {
                    send(pending, on: session)
                } else {
                    unsent.append(pending)
                }
            }
        case .settle(let channel, let incarnation, let tag, let settlement):
            guard let session, incarnations[channel] == incarnation else { return }
            if acks.settle(tag: tag, isAck: settlement == .ack, channel: channel, incarnation: incarnation) { return }
            settle(tag: tag, settlement, channel: channel, on: session)
        case .declare(let requested, let continuation):
            continuation.resume(
                with: withSession { session throws(Session.Failure) in
                    try declare(requested, on: session)
                    remember(requested)
                })
        case .inspectQueue(let name, let continuation):
            continuation.resume(
                with: withSession { session throws(Session.Failure) in
                    try inspect(queue: name, on: session)
                })
        case .purgeQueue(let name, let continuation):
            continuation.resume(
                with: withSession { session throws(Session.Failure) in
                    let arena = CArena()
                    let ok = amqp_queue_purge(session.handle, Session.controlChannel, arena.bytes(name))
                    try session.check(
                        amqp_get_rpc_reply(session.handle), channel: Session.controlChannel, context: "purging queue '\(name)'")
                    return Int(ok?.pointee.message_count ?? 0)
                })
        case .deleteQueue(let name, let continuation):
            continuation.resume(
                with: withSession { session throws(Session.Failure) in
                    let arena = CArena()
                    amqp_queue_delete(session.handle, Session.controlChannel, arena.bytes(name), 0, 0)
                    try session.check(
                        amqp_get_rpc_reply(session.handle), channel: Session.controlChannel, context: "deleting queue '\(name)'")
                })
        case .get(let name, let continuation):
            continuation.resume(
                with: withSession { session throws(Session.Failure) in
                    try get(queue: name, on: session)
                })
        case .consume(let consumer, let continuation):
            continuation.resume(
                with: withSession { session throws(Session.Failure) in
                    consumer.channel = nextConsumerChannel
                    nextConsumerChannel += 1
                    consumers[consumer.channel] = consumer
                    do throws(Session.Failure) {
                        try startConsumer(consumer, on: session)
                    } catch {
                        consumers[consumer.channel] = nil
                        consumer.finish(throwing: error.error)
                        throw error
                    }
                })
        case .cancelConsumer(let consumer):
            guard consumers[consumer.channel] === consumer else { return }
            consumers[consumer.channel] = nil
            // Only basic.cancel: the channel stays open so deliveries in hand can still be settled.
            if let session, consumer.active, !consumer.consumerTag.isEmpty {
                let arena = CArena()
                amqp_basic_cancel(session.handle, consumer.channel, arena.bytes(consumer.consumerTag))
                do throws(Session.Failure) {
                    try session.check(
                        amqp_get_rpc_reply(session.handle), channel: consumer.channel, context: "cancelling a consumer")
                } catch {
                    handle(error)
                }
            }
            consumer.finish()
        case .close(let continuation):
            closeContinuations.append(continuation)
        }
    }

    /// Runs `body` on the live session; turns a lost channel or connection into an error for the
    /// caller and repairs it (reopen the channel, or reconnect).
    private func withSession<T>(_ body: (Session) throws(Session.Failure) -> T) -> Result<T, Error> {
        guard let session else {
            return .failure(
                AMQPError(
                    .connectionLost, "not connected to the broker at \(configuration.host):\(configuration.port); reconnecting"))
        }
        do {
            return .success(try body(session))
        } catch {
            handle(error)
            return .failure(error.error)
        }
    }

    private func remember(_ declared: AMQPTopology) {
        for exchange in declared.exchanges where !topology.exchanges.contains(exchange) { topology.exchanges.append(exchange) }
        for queue in declared.queues where !topology.queues.contains(queue) { topology.queues.append(queue) }
        for binding in declared.bindings where !topology.bindings.contains(binding) { topology.bindings.append(binding) }
    }

    private func declare(_ topology: AMQPTopology, on session: Session) throws(Session.Failure) {
        let channel = Session.controlChannel
        for exchange in topology.exchanges {
            let arena = CArena()
            amqp_exchange_declare(
                session.handle, channel, arena.bytes(exchange.name), arena.bytes(exchange.kind.rawValue),
                0, exchange.durable ? 1 : 0, exchange.autoDelete ? 1 : 0, exchange.isInternal ? 1 : 0,
                arena.table(exchange.arguments))
            try session.check(
                amqp_get_rpc_reply(session.handle), channel: channel, context: "declaring exchange '\(exchange.name)'")
        }
        for queue in topology.queues {
            let arena = CArena()
            amqp_queue_declare(
                session.handle, channel, arena.bytes(queue.name), 0, queue.durable ? 1 : 0,
                queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0, arena.table(queue.arguments))
            try session.check(amqp_get_rpc_reply(session.handle), channel: channel, context: "declaring queue '\(queue.name)'")
        }
        for binding in topology.bindings {
            let arena = CArena()
            amqp_queue_bind(
                session.handle, channel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                arena.bytes(binding.routingKey), arena.table(binding.arguments))
            try session.check(
                amqp_get_rpc_reply(session.handle), channel: channel,
                context: "binding queue '\(binding.queue)' to exchange '\(binding.exchange)' with key '\(binding.routingKey)'")
        }
    }

    private func inspect(queue name: String, on session: Session) throws(Session.Failure) -> AMQPQueueStatus {
        let arena = CArena()
        let ok = amqp_queue_declare(
            session.handle, Session.controlChannel, arena.bytes(name), 1, 0, 0, 0,
            amqp_table_t(num_entries: 0, entries: nil))
        try session.check(
            amqp_get_rpc_reply(session.handle), channel: Session.controlChannel, context: "inspecting queue '\(name)'")
        return AMQPQueueStatus(
            name: name, messageCount: Int(ok?.pointee.message_count ?? 0),
            consumerCount: Int(ok?.pointee.consumer_count ?? 0))
    }

    /// `basic.get` on the control channel with manual ack: the message stays unacknowledged
    /// until settled, and goes back to the queue if the connection drops first.
    private func get(queue name: String, on session: Session) throws(Session.Failure) -> AMQPDelivery? {
        let arena = CArena()
        let reply = amqp_basic_get(session.handle, Session.controlChannel, arena.bytes(name), 0)
        try session.check(reply, channel: Session.controlChannel, context: "getting from queue '\(name)'")
        guard reply.reply.id == AMQP_BASIC_GET_OK_METHOD else { return nil }
        let ok = reply.reply.decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        var message = amqp_message_t()
        try session.check(
            amqp_read_message(session.handle, Session.controlChannel, &message, 0),
            channel: Session.controlChannel, context: "reading a message from queue '\(name)'")
        defer { amqp_destroy_message(&message) }
        return AMQPDelivery(
            body: message.body.data, properties: AMQPProperties(message.properties),
            exchange: ok.exchange.string, routingKey: ok.routing_key.string,
            redelivered: ok.redelivered != 0, deliveryTag: ok.delivery_tag,
            settler: DeliverySettler(
                core: core, channel: Session.controlChannel,
                incarnation: incarnations[Session.controlChannel] ?? 0))
    }

    private func startConsumer(_ consumer: ConsumerState, on session: Session) throws(Session.Failure) {
        let channel = consumer.channel
        try session.openChannel(channel)
        incarnationCounter += 1
        incarnations[channel] = incarnationCounter
        amqp_basic_qos(session.handle, channel, 0, consumer.prefetch, 0)
        try session.check(
            amqp_get_rpc_reply(session.handle), channel: channel, context: "setting prefetch on '\(consumer.queue)'")
        let arena = CArena()
        let ok = amqp_basic_consume(
            session.handle, channel, arena.bytes(consumer.queue), amqp_bytes_t(len: 0, bytes: nil),
            0, 0, consumer.exclusive ? 1 : 0, arena.table(consumer.arguments))
        try session.check(amqp_get_rpc_reply(session.handle), channel: channel, context: "consuming from '\(consumer.queue)'")
        consumer.consumerTag = ok?.pointee.consumer_tag.string ?? ""
        logger.debug("AMQP consuming", metadata: ["amqp.queue": "\(consumer.queue)", "amqp.channel": "\(channel)"])
    }

    // MARK: - Publishing and confirms

    /// Writes one publication; it then waits in `unconfirmed` for its confirm.
    ///
    /// - Returns: false when the connection was lost meanwhile: `connectionLost` put it back in
    ///   `unsent` with everything else unconfirmed.
    @discardableResult
    private func send(_ pending: PendingPublish, on session: Session) -> Bool {
        let publication = pending.publication
        let sequence = nextSequence
        nextSequence += 1
        unconfirmed[sequence] = pending
        let arena = CArena()
        var properties = arena.properties(
            publication.properties,
            extraHeaders: publication.mandatory ? [Self.sequenceHeader: .int64(Int64(sequence))] : [:])
        let status = publication.body.withUnsafeBytes { body in
            amqp_basic_publish(
                session.handle, Session.publishChannel, arena.bytes(publication.exchange),
                arena.bytes(publication.routingKey), publication.mandatory ? 1 : 0, 0, &properties,
                amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
        }
        do throws(Session.Failure) {
            try session.checkEncoded(status, context: "publishing to '\(publication.exchange)'")
            pending.wasSent = true
            pending.since = .now
        } catch .request(let error) {
            // Only this message is at fault (the Swift check above missed a limit rabbitmq-c
            // enforces). The broker never got a complete publish, so its sequence number is
            // free again. Should part of it have been written, the broker closes the connection
            // and we reconnect once, without it.
            unconfirmed[sequence] = nil
            nextSequence = sequence
            pending.batch.fail(error)
        } catch {
            handle(error)
        }
        return self.session === session
    }

    /// Writes what waits in `unsent`, oldest first (after a reconnect, or when a block lifts).
    /// If the connection drops on the way, `connectionLost` puts everything unconfirmed back in
    /// `unsent`, and what was not yet written goes after it, in order.
    private func sendUnsent(on session: Session) {
        let waiting = unsent
        unsent.removeAll()
        for (offset, pending) in waiting.enumerated() where !pending.batch.isSettled {
            guard send(pending, on: session) else {
                unsent += waiting[(offset + 1)...].filter { !$0.batch.isSettled }
                return
            }
        }
    }

    private func confirm(upTo tag: UInt64, multiple: Bool, acked: Bool) {
        let range = multiple ? lowestUnconfirmed...max(tag, lowestUnconfirmed) : tag...tag
        for sequence in range {
            guard let pending = unconfirmed.removeValue(forKey: sequence) else { continue }
            if !acked {
                pending.batch.fail(
                    AMQPError(
                        .nacked,
                        "the broker refused a message published to '\(pending.publication.exchange)' with key '\(pending.publication.routingKey)' (basic.nack: a queue may be full or unavailable)"
                    ))
            } else if let returned = pending.returned {
                pending.batch.fail(returned)
            } else {
                pending.batch.succeedOne()
            }
        }
        while lowestUnconfirmed < nextSequence, unconfirmed[lowestUnconfirmed] == nil { lowestUnconfirmed += 1 }
    }

    /// Fails publications past their deadline, or held too long by a blocked broker (checked
    /// a few times a second). What was ever written fails as `.unconfirmed` (the broker may hold
    /// it); what never was, as `.timeout` or `.blocked` (nothing was accepted).
    private func sweepDeadlines() {
        let now = ContinuousClock.now
        guard now - lastDeadlineSweep >= .milliseconds(100) else { return }
        lastDeadlineSweep = now
        // A publication held since before this instant, by a block older than it, has waited
        // `blockedPublishTimeout` for the broker to read again.
        var blockedCutoff: ContinuousClock.Instant?
        if let blockedSince, blockedSince <= now - configuration.blockedPublishTimeout {
            blockedCutoff = now - configuration.blockedPublishTimeout
        }
        func expired(_ pending: PendingPublish) -> Bool {
            pending.batch.deadline <= now || blockedCutoff.map { pending.since <= $0 } == true
        }
        unsent.removeAll { pending in
            if pending.batch.isSettled { return true }
            guard expired(pending) else { return false }
            pending.batch.fail(pending.wasSent ? unconfirmedError(pending) : unsentError(pending))
            return true
        }
        for (sequence, pending) in unconfirmed where expired(pending) {
            unconfirmed[sequence] = nil
            pending.batch.fail(unconfirmedError(pending))
        }
        while lowestUnconfirmed < nextSequence, unconfirmed[lowestUnconfirmed] == nil { lowestUnconfirmed += 1 }
    }

    /// For a publication never written: the broker cannot hold it.
    private func unsentError(_ pending: PendingPublish) -> AMQPError {
        let publication = pending.publication
        if blockedSince != nil {
            return AMQPError(
                .blocked,
                "publish to exchange '\(publication.exchange)' with key '\(publication.routingKey)' failed: the broker blocks publishing (memory or disk alarm): the message was not sent; nothing was accepted"
            )
        }
        return AMQPError(
            .timeout,
            "publish to exchange '\(publication.exchange)' with key '\(publication.routingKey)' timed out after \(configuration.publishTimeout): the broker at \(configuration.host):\(configuration.port) is unreachable and the message was never sent; nothing was accepted"
        )
    }

    /// For a publication written at least once: the broker may hold it and deliver it later.
    private func unconfirmedError(_ pending: PendingPublish) -> AMQPError {
        let publication = pending.publication
        let why =
            blockedSince != nil
            ? "the broker blocks publishing (memory or disk alarm)"
            : session == nil ? "the connection was lost" : "no confirm arrived in \(configuration.publishTimeout)"
        return AMQPError(
            .unconfirmed,
            "publish to exchange '\(publication.exchange)' with key '\(publication.routingKey)' was sent but not confirmed (\(why)): the broker may still deliver it"
        )
    }

    private func settle(tag: UInt64, _ settlement: Settlement, channel: UInt16, on session: Session) {
        let status: Int32 =
            switch settlement {
            case .ack: amqp_basic_ack(session.handle, channel, tag, 0)
            case .nackRequeue: amqp_basic_nack(session.handle, channel, tag, 0, 1)
            case .nackDrop: amqp_basic_nack(session.handle, channel, tag, 0, 0)
            case .rejectRequeue: amqp_basic_reject(session.handle, channel, tag, 1)
            case .rejectDrop: amqp_basic_reject(session.handle, channel, tag, 0)
            }
        do throws(Session.Failure) {
            try session.checkStatus(status, context: "settling a delivery")
        } catch {
            handle(error)
        }
    }

    /// Sends the acks `AckCoalescer` deferred, unless their channel was reopened meanwhile.
    private func sendDeferredAcks() {
        for ack in acks.takeDeferred() {
            guard let session, incarnations[ack.channel] == ack.incarnation else { continue }
            let status = amqp_basic_ack(session.handle, ack.channel, ack.tag, ack.multiple ? 1 : 0)
            do throws(Session.Failure) {
                try session.checkStatus(status, context: "acknowledging deliveries")
            } catch {
                handle(error)
            }
        }
    }

    // MARK: - Reading frames

    /// Reads and handles the frames that are ready, without blocking.
    ///
    /// At most `framesPerPass` per call: the run loop then takes queued commands (acks above
    /// all) before reading on, so that under a steady stream of deliveries acks go out while
    /// the broker is still sending, instead of after the whole prefetch window was read.
    private func readAvailableFrames(_ session: Session) {
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        var budget = Self.framesPerPass
        while self.session === session, budget > 0 {
            budget -= 1
            var frame = amqp_frame_t()
            let status = amqp_simple_wait_frame_noblock(session.handle, &frame, &zero)
            if status == AMQP_STATUS_TIMEOUT.rawValue { break }
            do throws(Session.Failure) {
                try session.checkStatus(status, context: "reading from the broker")
                try handle(frame, on: session)
            } catch {
                handle(error)
            }
        }
        if let current = self.session, !current.hasBufferedInput {
            amqp_maybe_release_buffers(current.handle)
        }
    }

    private func handle(_ frame: amqp_frame_t, on session: Session) throws(Session.Failure) {
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }
        let channel = frame.channel
        let method = frame.payload.method
        switch method.id {
        case AMQP_BASIC_DELIVER_METHOD:
            let deliver = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            var message = amqp_message_t()
            try session.check(
                amqp_read_message(session.handle, channel, &message, 0), channel: channel, context: "reading a delivery")
            defer { amqp_destroy_message(&message) }
            guard let consumer = consumers[channel], consumer.active else {
                // A delivery racing a cancel: give it back so another consumer gets it.
                _ = amqp_basic_reject(session.handle, channel, deliver.delivery_tag, 1)
                return
            }
            consumer.continuation.yield(
                AMQPDelivery(
                    body: message.body.data, properties: AMQPProperties(message.properties),
                    exchange: deliver.exchange.string, routingKey: deliver.routing_key.string,
                    redelivered: deliver.redelivered != 0, deliveryTag: deliver.delivery_tag,
                    settler: DeliverySettler(core: core, channel: channel, incarnation: incarnations[channel] ?? 0)))
        case AMQP_BASIC_ACK_METHOD:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            confirm(upTo: ack.delivery_tag, multiple: ack.multiple != 0, acked: true)
        case AMQP_BASIC_NACK_METHOD:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            confirm(upTo: nack.delivery_tag, multiple: nack.multiple != 0, acked: false)
        case AMQP_BASIC_RETURN_METHOD:
            let returned = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            var message = amqp_message_t()
            try session.check(
                amqp_read_message(session.handle, channel, &message, 0), channel: channel, context: "reading a returned message")
            defer { amqp_destroy_message(&message) }
            let headers = AMQPProperties(message.properties).headers
            if let sequence = headers[Self.sequenceHeader]?.intValue, let pending = unconfirmed[UInt64(sequence)] {
                pending.returned = AMQPError(
                    .unroutable, replyCode: Int(returned.reply_code),
                    "\(returned.reply_text.string): no queue is bound to exchange '\(returned.exchange.string)' with routing key '\(returned.routing_key.string)'"
                )
            }
        case AMQP_BASIC_CANCEL_METHOD:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            if let consumer = consumers.removeValue(forKey: channel) {
                logger.warning("AMQP consumer cancelled by the broker", metadata: ["amqp.queue": "\(consumer.queue)"])
                consumer.finish(
                    throwing: AMQPError(
                        .consumerCancelled,
                        "the broker cancelled the consumer of queue '\(consumer.queue)' (the queue was deleted or its leader moved)"
                    ))
            }
            if cancel.nowait == 0 {
                var ok = amqp_basic_cancel_ok_t(consumer_tag: cancel.consumer_tag)
                _ = amqp_send_method(session.handle, channel, AMQP_BASIC_CANCEL_OK_METHOD, &ok)
            }
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            session.acknowledgeChannelClose(channel)
            throw .channel(channel, AMQPError.broker(code: Int(close.reply_code), text: close.reply_text.string, context: nil))
        case AMQP_CONNECTION_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            session.acknowledgeConnectionClose()
            throw .connection(AMQPError.broker(code: Int(close.reply_code), text: close.reply_text.string, context: nil))
        case AMQP_CONNECTION_BLOCKED_METHOD:
            let blocked = method.decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            if blockedSince == nil { blockedSince = .now }
            core.isBlocked = true
            logger.warning("AMQP connection blocked by the broker", metadata: ["amqp.reason": "\(blocked.reason.string)"])
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
            blockedSince = nil
            core.isBlocked = false
            logger.info("AMQP connection unblocked")
        default:
            break
        }
    }

    // MARK: - Failures and reconnecting

    /// Repairs what a failure broke: reopens a closed channel, or drops the connection to reconnect.
    private func handle(_ failure: Session.Failure) {
        switch failure {
        case .connection(let error):
            connectionLost(error)
        case .request:
            // Nothing broke: the caller gets the error and the connection carries on.
            break
        case .channel(let channel, let error):
            guard let session else { return }
            logger.warning("AMQP channel closed by the broker", metadata: ["amqp.channel": "\(channel)", "error": "\(error)"])
            do throws(Session.Failure) {
                if channel == Session.publishChannel {
                    publishChannelClosed(error)
                    try session.openChannel(channel)
                    amqp_confirm_select(session.handle, channel)
                    try session.check(
                        amqp_get_rpc_reply(session.handle), channel: channel, context: "enabling publisher confirms")
                } else if let consumer = consumers[channel] {
                    // e.g. consumer_timeout or an unknown delivery tag: the broker requeued the
                    // channel's deliveries; subscribe again and they come back.
                    do throws(Session.Failure) {
                        try startConsumer(consumer, on: session)
                    } catch {
                        consumers[channel] = nil
                        consumer.finish(throwing: error.error)
                    }
                } else {
                    incarnationCounter += 1
                    incarnations[channel] = incarnationCounter
                    try session.openChannel(channel)
                }
            } catch {
                handle(error)
            }
        }
    }

    /// The broker closed the publish channel over one publish (a missing exchange, a refused
    /// one) and dropped what followed it; no confirm will come for anything in flight. Only the
    /// publications the error names fail with it: the others go back to the front of `unsent`
    /// and are sent again on the reopened channel, as after a lost connection (at-least-once).
    /// When the error names none of them, all fail, so that a culprit is never re-sent in a loop.
    private func publishChannelClosed(_ error: AMQPError) {
        let inFlight = unconfirmed.sorted { $0.key < $1.key }.map(\.value)
        unconfirmed.removeAll()
        lowestUnconfirmed = 1
        nextSequence = 1
        // AMQPError.broker keeps RabbitMQ's wording: "no exchange 'x' in vhost '/'", "access to exchange 'x' …".
        let named = { (pending: PendingPublish) in error.message.contains("exchange '\(pending.publication.exchange)'") }
        guard inFlight.contains(where: named) else {
            for pending in inFlight { pending.batch.fail(error) }
            return
        }
        var resend: [PendingPublish] = []
        for pending in inFlight {
            if named(pending) { pending.batch.fail(error) } else if !pending.batch.isSettled { resend.append(pending) }
        }
        unsent = resend + unsent
    }

    private func connectionLost(_ error: AMQPError) {
        guard let lost = session else { return }
        logger.error("AMQP connection lost", metadata: ["error": "\(error)"])
        lost.close()
        session = nil
        core.isConnected = false
        core.isBlocked = false
        blockedSince = nil
        // Unconfirmed publishes may or may not have reached a queue: send them again after the
        // reconnect (at-least-once; consumers deduplicate by message id).
        let resend = unconfirmed.sorted { $0.key < $1.key }.map(\.value)
        unconfirmed.removeAll()
        unsent = resend + unsent
        nextSequence = 1
        lowestUnconfirmed = 1
        nextReconnect = .now
    }

    private func reconnectIfDue() {
        guard ContinuousClock.now >= nextReconnect else { return }
        do {
            let fresh = try Session.open(configuration)
            session = fresh
            incarnationCounter += 1
            incarnations[Session.controlChannel] = incarnationCounter
            try declare(topology, on: fresh)
            for consumer in consumers.values.sorted(by: { $0.channel < $1.channel }) where consumer.active {
                do throws(Session.Failure) {
                    try startConsumer(consumer, on: fresh)
                } catch {
                    if case .connection = error { throw error }
                    consumers[consumer.channel] = nil
                    consumer.finish(throwing: error.error)
                }
            }
            reconnectDelay = configuration.reconnectInitialDelay
            core.isConnected = true
            core.reconnectCount += 1
            logger.info("AMQP reconnected", metadata: ["amqp.url": "\(configuration)", "amqp.resending": "\(unsent.count)"])
            // The run loop sends `unsent` next (unless the broker blocks the new connection).
        } catch {
            if session != nil { session?.close(); session = nil }
            logger.warning("AMQP reconnect failed", metadata: ["error": "\(error)", "retry.in": "\(reconnectDelay)"])
            nextReconnect = .now + reconnectDelay
            reconnectDelay = min(reconnectDelay * 2, configuration.reconnectMaxDelay)
        }
    }

    // MARK: - Sleeping

    /// Sleeps in `poll` until the broker sends something, a command arrives, or a timer is due
    /// (heartbeats, deadlines, reconnecting).
    private func sleepUntilWork() {
        if let session, session.hasBufferedInput { return }
        guard core.prepareToSleep() else { return }
        var timeoutMs: Int32 = 1_000
        if configuration.heartbeatSeconds > 0 { timeoutMs = min(timeoutMs, Int32(configuration.heartbeatSeconds * 250)) }
        if !unconfirmed.isEmpty || !unsent.isEmpty { timeoutMs = min(timeoutMs, 100) }
        if session == nil {
            let untilReconnect = ContinuousClock.now.duration(to: nextReconnect)
            timeoutMs = min(
                timeoutMs,
                max(
                    0,
                    Int32(
                        untilReconnect.components.seconds * 1000
                            + untilReconnect.components.attoseconds / 1_000_000_000_000_000)))
        }
        var fds = [pollfd(fd: core.wakeFD, events: Int16(POLLIN), revents: 0)]
        if let session { fds.append(pollfd(fd: session.socketFD, events: Int16(POLLIN), revents: 0)) }
        _ = poll(&fds, nfds_t(fds.count), timeoutMs)
        core.didWake()
    }

    private func shutDown() {
        let closed = AMQPError(.closed, "the AMQP connection '\(configuration.connectionName)' was closed")
        for command in core.markClosed() { command.fail(closed) }
        for pending in unsent { pending.batch.fail(closed) }
        for (_, pending) in unconfirmed { pending.batch.fail(closed) }
        unsent.removeAll()
        unconfirmed.removeAll()
        for consumer in consumers.values { consumer.finish() }
        consumers.removeAll()
        if let session {
            session.close(wait: 15)
            self.session = nil
        }
        core.isConnected = false
        logger.info("AMQP connection closed", metadata: ["amqp.connection": "\(configuration.connectionName)"])
        for continuation in closeContinuations { continuation.resume() }
    }
}
