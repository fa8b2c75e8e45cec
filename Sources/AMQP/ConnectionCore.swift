import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The thread-safe front of one connection: a command queue that the owner thread drains,
/// and a pipe that wakes the thread when it sleeps in `poll`.
///
/// `@unchecked Sendable` is safe: every mutable field sits behind `state`'s mutex, and
/// `wakeFD` is written with `write(2)`, which is thread-safe.
final class ConnectionCore: @unchecked Sendable {
    let configuration: AMQPConfiguration
    let logger: Logger
    /// A non-blocking pipe: the owner thread polls `wakeFD`; submitters write to `wakeWriteFD`.
    let wakeFD: Int32
    private let wakeWriteFD: Int32

    private struct State {
        var commands: [Command] = []
        var sleeping = false
        var closed = false
        var blocked = false
        var connected = false
        var reconnects = 0
    }

    private let state = Mutex(State())

    init(configuration: AMQPConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var fds: [Int32] = [-1, -1]
        precondition(pipe(&fds) == 0, "could not create the AMQP wake pipe: errno \(errno)")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeFD = fds[0]
        wakeWriteFD = fds[1]
    }

    deinit {
        close(wakeFD)
        close(wakeWriteFD)
    }

    /// Queues a command for the owner thread; after `close`, fails it at once instead.
    func submit(_ command: Command) {
        let (accepted, wake) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, false) }
            state.commands.append(command)
            let wake = state.sleeping
            state.sleeping = false
            return (true, wake)
        }
        if !accepted {
            command.fail(AMQPError(.closed, "the AMQP connection '\(configuration.connectionName)' is closed"))
        } else if wake {
            var one: UInt8 = 1
            _ = write(wakeWriteFD, &one, 1)
        }
    }

    /// Takes every queued command (owner thread).
    func takeCommands() -> [Command] {
        state.withLock { state in
            let commands = state.commands
            state.commands.removeAll(keepingCapacity: true)
            return commands
        }
    }

    /// Marks the thread as about to sleep unless commands are waiting (owner thread).
    /// Returns false when it must not sleep.
    func prepareToSleep() -> Bool {
        state.withLock { state in
            guard state.commands.isEmpty else { return false }
            state.sleeping = true
            return true
        }
    }

    func didWake() {
        state.withLock { $0.sleeping = false }
        var drain = [UInt8](repeating: 0, count: 64)
        while read(wakeFD, &drain, drain.count) > 0 {}
    }

    /// Stops accepting commands; returns those still queued so they can be failed (owner thread).
    func markClosed() -> [Command] {
        state.withLock { state in
            state.closed = true
            let rest = state.commands
            state.commands.removeAll()
            return rest
        }
    }

    var isBlocked: Bool {
        get { state.withLock { $0.blocked } }
        set { state.withLock { $0.blocked = newValue } }
    }

    var isConnected: Bool {
        get { state.withLock { $0.connected } }
        set { state.withLock { $0.connected = newValue } }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// How many times the connection was re-established after a loss (owner thread writes).
    var reconnectCount: Int {
        get { state.withLock { $0.reconnects } }
        set { state.withLock { $0.reconnects = newValue } }
    }
}

/// A request for the owner thread. Continuations are resumed there.
enum Command: Sendable {
    case publish(PublishBatch)
    case settle(channel: UInt16, incarnation: UInt64, tag: UInt64, Settlement)
    case declare(AMQPTopology, CheckedContinuation<Void, Error>)
    case inspectQueue(String, CheckedContinuation<AMQPQueueStatus, Error>)
    case purgeQueue(String, CheckedContinuation<Int, Error>)
    case deleteQueue(String, CheckedContinuation<Void, Error>)
    case consume(ConsumerState, CheckedContinuation<Void, Error>)
    case cancelConsumer(ConsumerState)
    case get(String, CheckedContinuation<AMQPDelivery?, Error>)
    case close(CheckedContinuation<Void, Never>)

    /// Fails the command's caller with `error` (used when the connection is closed).
    func fail(_ error: AMQPError) {
        switch self {
        case .publish(let batch): batch.fail(error)
        case .settle, .cancelConsumer: break
        case .declare(_, let c): c.resume(throwing: error)
        case .inspectQueue(_, let c): c.resume(throwing: error)
        case .purgeQueue(_, let c): c.resume(throwing: error)
        case .deleteQueue(_, let c): c.resume(throwing: error)
        case .consume(let consumer, let c): consumer.finish(throwing: error); c.resume(throwing: error)
        case .get(_, let c): c.resume(throwing: error)
        case .close(let c): c.resume()
        }
    }
}

/// Publications submitted together, confirmed together: the caller resumes once every one is
/// confirmed, or with the first failure.
///
/// `@unchecked Sendable` is safe: after `submit` only the owner thread touches it.
final class PublishBatch: @unchecked Sendable {
    let publications: [AMQPPublication]
    let deadline: ContinuousClock.Instant
    private var remaining: Int
    private var continuation: CheckedContinuation<Void, Error>?

    init(
        publications: [AMQPPublication], deadline: ContinuousClock.Instant,
        continuation: CheckedContinuation<Void, Error>
    ) {
        self.publications = publications
        self.deadline = deadline
        self.remaining = publications.count
        self.continuation = continuation
        if publications.isEmpty { succeedOne() }
    }

    var isSettled: Bool { continuation == nil }

    func succeedOne() {
        remaining -= 1
        if remaining <= 0, let continuation {
            self.continuation = nil
            continuation.resume()
        }
    }

    func fail(_ error: AMQPError) {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume(throwing: error)
    }
}

/// One publication waiting to be sent or confirmed (owner thread only).
final class PendingPublish {
    let batch: PublishBatch
    let index: Int
    /// A `basic.return` arrived for it: the confirm that follows reports this instead of success.
    var returned: AMQPError?
    /// It was written to the socket at least once, so the broker may hold it: failing it then
    /// says `.unconfirmed`, never that nothing was accepted.
    var wasSent = false
    /// When it was queued, then when it was last written: a blocked connection fails it
    /// `blockedPublishTimeout` after this or after the block began, whichever is later.
    var since: ContinuousClock.Instant

    init(batch: PublishBatch, index: Int, since: ContinuousClock.Instant) {
        self.batch = batch
        self.index = index
        self.since = since
    }

    var publication: AMQPPublication { batch.publications[index] }
}

/// A consumer's registration: what to (re)subscribe to after every reconnect.
///
/// `@unchecked Sendable` is safe: `channel`, `incarnation` and `consumerTag` are written by the
/// owner thread only; the stream continuation is itself `Sendable`.
final class ConsumerState: @unchecked Sendable {
    let queue: String
    let prefetch: UInt16
    let exclusive: Bool
    let arguments: AMQPTable
    let continuation: AsyncThrowingStream<AMQPDelivery, Error>.Continuation
    var channel: UInt16 = 0
    var consumerTag = ""
    var active = true

    init(
        queue: String, prefetch: UInt16, exclusive: Bool, arguments: AMQPTable,
        continuation: AsyncThrowingStream<AMQPDelivery, Error>.Continuation
    ) {
        self.queue = queue
        self.prefetch = prefetch
        self.exclusive = exclusive
        self.arguments = arguments
        self.continuation = continuation
    }

    func finish(throwing error: AMQPError? = nil) {
        active = false
        continuation.finish(throwing: error)
    }
}
