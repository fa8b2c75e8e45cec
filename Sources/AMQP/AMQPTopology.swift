/// Exchanges, queues and bindings to declare: what a service needs to exist before it runs.
///
/// A connection re-declares its topology on every (re)connect, so a broker that lost its
/// definitions gets them back. Declaring is idempotent when the arguments are the same;
/// different arguments for an existing name are a `preconditionFailed` error.
public struct AMQPTopology: Sendable, Hashable {
    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public init(exchanges: [Exchange] = [], queues: [Queue] = [], bindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    public var isEmpty: Bool { exchanges.isEmpty && queues.isEmpty && bindings.isEmpty }

    /// This topology followed by `other`'s declarations.
    public func merging(_ other: AMQPTopology) -> AMQPTopology {
        AMQPTopology(
            exchanges: exchanges + other.exchanges, queues: queues + other.queues,
            bindings: bindings + other.bindings)
    }

    public struct Exchange: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable { case direct, topic, fanout, headers }
        public var name: String
        public var kind: Kind
        public var durable: Bool
        public var autoDelete: Bool
        /// Internal exchanges take no publishes from clients, only from exchange-to-exchange bindings.
        public var isInternal: Bool
        public var arguments: AMQPTable

        public init(
            name: String, kind: Kind, durable: Bool = true, autoDelete: Bool = false,
            isInternal: Bool = false, arguments: AMQPTable = [:]
        ) {
            self.name = name
            self.kind = kind
            self.durable = durable
            self.autoDelete = autoDelete
            self.isInternal = isInternal
            self.arguments = arguments
        }
    }

    public struct Queue: Sendable, Hashable {
        public var name: String
        public var durable: Bool
        public var exclusive: Bool
        public var autoDelete: Bool
        /// `x-` arguments: `x-queue-type`, `x-message-ttl`, `x-dead-letter-exchange`…
        public var arguments: AMQPTable

        public init(
            name: String, durable: Bool = true, exclusive: Bool = false,
            autoDelete: Bool = false, arguments: AMQPTable = [:]
        ) {
            self.name = name
            self.durable = durable
            self.exclusive = exclusive
            self.autoDelete = autoDelete
            self.arguments = arguments
        }

        /// A durable quorum queue with the given extra arguments.
        public static func quorum(_ name: String, arguments: AMQPTable = [:]) -> Queue {
            var all = arguments
            all["x-queue-type"] = "quorum"
            return Queue(name: name, arguments: all)
        }

        /// A durable classic queue.
        public static func classic(_ name: String, arguments: AMQPTable = [:]) -> Queue {
            Queue(name: name, arguments: arguments)
        }
    }

    public struct Binding: Sendable, Hashable {
        public var exchange: String
        public var queue: String
        public var routingKey: String
        public var arguments: AMQPTable

        public init(exchange: String, queue: String, routingKey: String, arguments: AMQPTable = [:]) {
            self.exchange = exchange
            self.queue = queue
            self.routingKey = routingKey
            self.arguments = arguments
        }
    }
}

/// What the broker reports about a queue (a passive declare).
public struct AMQPQueueStatus: Sendable, Hashable {
    public let name: String
    /// Messages ready for delivery (not counting unacknowledged ones).
    public let messageCount: Int
    public let consumerCount: Int
}
