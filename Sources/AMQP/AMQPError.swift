/// An error from the AMQP client that says what failed, in words an operator can act on.
///
/// ```
/// ACCESS_REFUSED for user 'herald' on vhost '/': Login was refused using authentication mechanism PLAIN
/// NOT_FOUND: no queue 'herald.deliver' in vhost '/' (while consuming from 'herald.deliver')
/// ```
public struct AMQPError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of failure this is; stable, short and suitable as a metric label.
    public enum Kind: String, Sendable, Equatable {
        /// The URL or an option is invalid.
        case invalidConfiguration
        /// TCP or TLS connection could not be established.
        case connectionFailed
        /// Wrong user name or password (reply 403 during login).
        case accessRefused
        /// The vhost does not exist or the user may not use it (reply 530).
        case notAllowed
        /// An exchange or queue does not exist (reply 404).
        case notFound
        /// A redeclaration with other arguments, an unknown delivery tag… (reply 406).
        case preconditionFailed
        /// An exclusive queue is in use by another connection (reply 405).
        case resourceLocked
        /// Any other channel or connection error the broker reported.
        case brokerError
        /// The connection to the broker was lost.
        case connectionLost
        /// A mandatory publish matched no queue (`basic.return`).
        case unroutable
        /// The broker refused a publish (`basic.nack`, e.g. a full queue that rejects publishes).
        case nacked
        /// The operation did not complete in time. For a publish: it was never sent (no broker),
        /// so nothing was accepted.
        case timeout
        /// The broker blocks publishing (a memory or disk alarm) and the message was not sent:
        /// nothing was accepted. Answered within `AMQPConfiguration.blockedPublishTimeout`.
        case blocked
        /// The message was sent but no confirm arrived in time (the broker may be blocked or slow):
        /// the broker may hold it and deliver it later. See `mayHaveBeenAccepted`.
        case unconfirmed
        /// The message cannot be encoded as an AMQP frame (a short string over 255 bytes, a table
        /// too large for a frame): only this publish fails; the connection is unaffected.
        case unencodable
        /// The broker cancelled a consumer (its queue was deleted, or a node failed over).
        case consumerCancelled
        /// The connection was closed by this program.
        case closed
        /// The broker sent something the client did not expect.
        case protocolError
    }

    public let kind: Kind
    /// The AMQP reply code where the broker sent one (403, 404, 406…).
    public let replyCode: Int?
    /// A full sentence describing the failure.
    public let message: String

    public init(_ kind: Kind, replyCode: Int? = nil, _ message: String) {
        self.kind = kind
        self.replyCode = replyCode
        self.message = message
    }

    public var description: String { message }

    /// A short, stable form for metric labels and logs (`not_found`, `timeout`).
    public var label: String {
        kind.rawValue.reduce(into: "") { out, ch in
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
    }

    /// True when trying again later may succeed (the broker was away or busy), false when
    /// the request itself is wrong and will fail again.
    public var isTransient: Bool {
        switch kind {
        case .connectionFailed, .connectionLost, .timeout, .nacked, .consumerCancelled, .blocked, .unconfirmed: true
        default: false
        }
    }

    /// True when a failed publish may still reach its queue (it was on the wire and no answer
    /// came): the caller must not claim that nothing was accepted, and a retry must be safe to
    /// deduplicate.
    public var mayHaveBeenAccepted: Bool { kind == .unconfirmed }
}

extension AMQPError {
    /// Maps a broker reply (code and text, e.g. `404 NOT_FOUND - no queue 'x' in vhost '/'`)
    /// to an error, adding what the client was doing.
    static func broker(code: Int, text: String, context: String?) -> AMQPError {
        let kind: Kind =
            switch code {
            case 403: .accessRefused
            case 404: .notFound
            case 405: .resourceLocked
            case 406: .preconditionFailed
            case 530: .notAllowed
            default: .brokerError
            }
        // RabbitMQ's text reads "NOT_FOUND - no queue 'x' in vhost '/'": keep the name, use a colon.
        var sentence = text
        if let dash = text.range(of: " - ") {
            sentence = text[..<dash.lowerBound] + ": " + text[dash.upperBound...]
        }
        if let context { sentence += " (\(context))" }
        return AMQPError(kind, replyCode: code, sentence)
    }
}
