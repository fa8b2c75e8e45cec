internal import CRabbitMQ
import Foundation

/// One live rabbitmq-c connection: the C handle and the calls made on it.
///
/// Owned by the connection's thread and never shared: not `Sendable`. The handle is destroyed in
/// `deinit`. Every rabbitmq-c status or RPC reply is turned into a Swift error in `check` and
/// `checkStatus`, the one place where C return codes are interpreted.
final class Session {
    let handle: amqp_connection_state_t
    let configuration: AMQPConfiguration
    /// The channel for declarations and queue inspection.
    static let controlChannel: UInt16 = 1
    /// The confirm-mode channel every publish goes through.
    static let publishChannel: UInt16 = 2
    /// Consumers get channels from here up.
    static let firstConsumerChannel: UInt16 = 3

    /// The frame size Herald asks for at login; the broker may lower it (see `frameMax`).
    static let requestedFrameMax = 131_072

    /// Why an operation failed: the channel is gone (reopen it), the connection is (reconnect),
    /// or only the request itself was wrong (nothing to repair).
    enum Failure: Error {
        case channel(UInt16, AMQPError)
        case connection(AMQPError)
        case request(AMQPError)

        var error: AMQPError {
            switch self {
            case .channel(_, let e), .connection(let e), .request(let e): e
            }
        }
    }

    private init(handle: amqp_connection_state_t, configuration: AMQPConfiguration) {
        self.handle = handle
        self.configuration = configuration
    }

    deinit {
        amqp_destroy_connection(handle)
    }

    /// Opens the socket, logs in and opens the control and publish channels.
    static func open(_ configuration: AMQPConfiguration) throws(AMQPError) -> Session {
        guard let handle = amqp_new_connection() else {
            throw AMQPError(.connectionFailed, "could not allocate an AMQP connection")
        }
        let session = Session(handle: handle, configuration: configuration)
        let endpoint = "\(configuration.host):\(configuration.port)"
        let arena = CArena()

        let socket: OpaquePointer?
        if let tls = configuration.tls {
            socket = amqp_ssl_socket_new(handle)
            guard let socket else { throw AMQPError(.connectionFailed, "could not create a TLS socket for \(endpoint)") }
            amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, tls.verifyPeer ? 1 : 0)
            if let ca = tls.caCertificatePath, amqp_ssl_socket_set_cacert(socket, arena.cString(ca)) != 0 {
                throw AMQPError(.invalidConfiguration, "could not read the CA certificate '\(ca)'")
            }
            if let cert = tls.certificatePath, let key = tls.keyPath,
                amqp_ssl_socket_set_key(socket, arena.cString(cert), arena.cString(key)) != 0
            {
                throw AMQPError(.invalidConfiguration, "could not read the client certificate '\(cert)' or key '\(key)'")
            }
        } else {
            socket = amqp_tcp_socket_new(handle)
        }
        guard let socket else { throw AMQPError(.connectionFailed, "could not create a socket for \(endpoint)") }

        var timeout = timeval(configuration.connectTimeout)
        let status = amqp_socket_open_noblock(socket, arena.cString(configuration.host), Int32(configuration.port), &timeout)
        if status != AMQP_STATUS_OK.rawValue {
            throw AMQPError(.connectionFailed, "could not connect to the broker at \(endpoint): \(describe(status))")
        }
        amqp_set_handshake_timeout(handle, &timeout)

        // rabbitmq-c 0.11 advertises few capabilities by itself; without `connection.blocked` the
        // broker stalls a blocked connection silently instead of telling us about its alarm.
        var properties = arena.table([
            "connection_name": .string(configuration.connectionName),
            "product": "Herald",
            "platform": "Swift",
            "capabilities": .table([
                "connection.blocked": true,
                "consumer_cancel_notify": true,
                "publisher_confirms": true,
                "basic.nack": true,
                "authentication_failure_close": true,
            ]),
        ])
        let reply = CRabbitMQ_loginPlain(
            handle, arena.cString(configuration.vhost), 0, Int32(requestedFrameMax), Int32(configuration.heartbeatSeconds),
            &properties, arena.cString(configuration.user), arena.cString(configuration.password))
        do {
            try session.check(reply, channel: 0, context: nil)
        } catch {
            throw session.loginError(error.error, endpoint: endpoint)
        }
        // Synchronous calls (declares, channel opens) give up after this long instead of hanging on
        // a broker that stopped answering; rabbitmq-c then closes the connection and we reconnect.
        var rpcTimeout = timeval(tv_sec: 30, tv_usec: 0)
        amqp_set_rpc_timeout(handle, &rpcTimeout)

        do {
            try session.openChannel(controlChannel)
            try session.openChannel(publishChannel)
            amqp_confirm_select(handle, publishChannel)
            try session.check(amqp_get_rpc_reply(handle), channel: publishChannel, context: "enabling publisher confirms")
        } catch {
            throw error.error
        }
        return session
    }

    /// Rewrites a login failure in terms of the user and vhost, the two things an operator can fix.
    private func loginError(_ error: AMQPError, endpoint: String) -> AMQPError {
        let user = configuration.user, vhost = configuration.vhost
        switch error.kind {
        case .accessRefused:
            return AMQPError(
                .accessRefused, replyCode: 403,
                "ACCESS_REFUSED for user '\(user)' on vhost '\(vhost)' at \(endpoint): wrong user name or password")
        case .notAllowed:
            return AMQPError(
                .notAllowed, replyCode: 530,
                "NOT_ALLOWED: vhost '\(vhost)' does not exist at \(endpoint) or user '\(user)' may not use it")
        case .connectionLost:
            // Older brokers drop the socket on bad credentials instead of sending connection.close.
            return AMQPError(
                .accessRefused,
                "the broker at \(endpoint) closed the connection during login for user '\(user)' on vhost '\(vhost)': check the credentials and the vhost (\(error.message))"
            )
        default:
            return error
        }
    }

    func openChannel(_ channel: UInt16) throws(Failure) {
        amqp_channel_open(handle, channel)
        try check(amqp_get_rpc_reply(handle), channel: channel, context: "opening channel \(channel)")
    }

    /// Closes a channel politely; errors are irrelevant since the channel is being dropped.
    func closeChannel(_ channel: UInt16) {
        _ = amqp_channel_close(handle, channel, Int32(AMQP_REPLY_SUCCESS))
    }

    /// Closes the connection politely (the broker then requeues unacknowledged deliveries).
    ///
    /// - Parameter wait: how long to wait for the broker's close-ok. A connection being dropped
    ///   after a failure gets little (a broker that stopped reading would otherwise hold the owner
    ///   thread, and every caller, for the 30 s RPC timeout). A requested close waits longer:
    ///   close-ok means the broker has processed every ack sent before it, and dropping the socket
    ///   sooner can reset it with those acks unread (seen under load: 53 of 500 exported dead
    ///   letters stayed in the queue).
    func close(wait: Int = 2) {
        var timeout = timeval(tv_sec: wait, tv_usec: 0)
        amqp_set_rpc_timeout(handle, &timeout)
        _ = amqp_connection_close(handle, Int32(AMQP_REPLY_SUCCESS))
    }

    /// The negotiated frame size: a content header (properties and headers) must fit in one frame.
    var frameMax: Int { Int(amqp_get_frame_max(handle)) }

    var socketFD: Int32 { amqp_get_sockfd(handle) }

    /// True when rabbitmq-c already holds data or decoded frames, so `poll` would not see them.
    var hasBufferedInput: Bool {
        amqp_frames_enqueued(handle) != 0 || amqp_data_in_buffer(handle) != 0
    }

    // MARK: - The boundary: C results to Swift errors

    /// Throws if an RPC reply is not normal. Acknowledges a channel or connection close from the
    /// broker (so it is not left waiting), and says which of the two is gone.
    func check(_ reply: amqp_rpc_reply_t, channel: UInt16, context: String?) throws(Failure) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let status = reply.library_error
            let kind: AMQPError.Kind = status == AMQP_STATUS_TIMEOUT.rawValue ? .timeout : .connectionLost
            var message = "connection to \(configuration.host):\(configuration.port) failed: \(Self.describe(status))"
            if let context { message += " (\(context))" }
            throw .connection(AMQPError(kind, message))
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            switch reply.reply.id {
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                acknowledgeConnectionClose()
                throw .connection(AMQPError.broker(code: Int(close.reply_code), text: close.reply_text.string, context: context))
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                acknowledgeChannelClose(channel)
                throw .channel(
                    channel, AMQPError.broker(code: Int(close.reply_code), text: close.reply_text.string, context: context))
            default:
                throw .connection(AMQPError(.protocolError, "unexpected broker reply method \(reply.reply.id)"))
            }
        default:
            throw .connection(AMQPError(.protocolError, "no reply from the broker" + (context.map { " (\($0))" } ?? "")))
        }
    }

    /// Throws if a rabbitmq-c status code is an error: for calls that only write (publish, ack),
    /// an error means the socket is gone.
    func checkStatus(_ status: Int32, context: String) throws(Failure) {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        throw .connection(
            AMQPError(
                .connectionLost,
                "connection to \(configuration.host):\(configuration.port) failed while \(context): \(Self.describe(status))"))
    }

    /// Throws if a call that encodes the caller's message (a publish) failed. rabbitmq-c's
    /// encoding statuses (a short string over 255 bytes, a table too big for the frame) blame the
    /// message, not the socket: `.request`, so that this publish alone fails instead of the
    /// connection being dropped and the message sent again forever.
    func checkEncoded(_ status: Int32, context: String) throws(Failure) {
        if status == AMQP_STATUS_BAD_AMQP_DATA.rawValue || status == AMQP_STATUS_TABLE_TOO_BIG.rawValue {
            throw .request(AMQPError(.unencodable, "cannot encode the message while \(context): \(Self.describe(status))"))
        }
        try checkStatus(status, context: context)
    }

    func acknowledgeChannelClose(_ channel: UInt16) {
        var ok = amqp_channel_close_ok_t(dummy: 0)
        _ = amqp_send_method(handle, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
    }

    func acknowledgeConnectionClose() {
        var ok = amqp_connection_close_ok_t(dummy: 0)
        _ = amqp_send_method(handle, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
    }

    static func describe(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
