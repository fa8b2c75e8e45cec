internal import CCurl
import Foundation
import Logging

/// The engine thread's body: owns the multi handle and every easy handle, starts queued
/// transfers, drives curl, and resumes callers when their transfer finishes.
///
/// Everything here runs on one thread; nothing is shared except through `EngineInbox`.
final class CurlMultiLoop {
    private let configuration: HTTPDeliveryClient.Configuration
    private let inbox: EngineInbox
    private let logger: Logger
    private let multi = CurlMulti()
    private var idleHandles: [CurlEasy] = []
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var activeByID: [UInt64: UnsafeMutableRawPointer] = [:]

    init(configuration: HTTPDeliveryClient.Configuration, inbox: EngineInbox, logger: Logger) {
        self.configuration = configuration
        self.inbox = inbox
        self.logger = logger
        multi.set(CURLMOPT_MAX_HOST_CONNECTIONS, configuration.maxConnectionsPerHost)
        multi.set(CURLMOPT_MAXCONNECTS, configuration.maxCachedConnections)
        multi.set(CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        inbox.attach(multi: multi.handle)
    }

    /// Runs until shutdown; returns who waits for the stop, to resume once the handles are freed.
    func run() -> [CheckedContinuation<Void, Never>] {
        while true {
            let (commands, phase) = inbox.drain()
            for command in commands {
                switch command {
                case .start(let submission): start(submission)
                case .cancel(let id): cancel(id, DeliveryError(.cancelled, "cancelled while in flight"))
                }
            }
            var pollTimeoutMs = 1000
            if case .draining(let deadline) = phase {
                if active.isEmpty { break }
                let left = deadline - .now
                if left <= .zero {
                    logger.info(
                        "delivery engine abandoning transfers at its shutdown deadline",
                        metadata: ["delivery.in_flight": "\(active.count)"])
                    for id in Array(activeByID.keys) {
                        cancel(id, DeliveryError(.cancelled, "abandoned at shutdown before it finished"))
                    }
                    break
                }
                pollTimeoutMs = min(pollTimeoutMs, max(1, left.wholeMilliseconds))
            }

            var running: Int32 = 0
            let rc = curl_multi_perform(multi.handle, &running)
            if rc != CURLM_OK {
                logger.error("curl_multi_perform failed", metadata: ["curl.code": "\(rc.rawValue)"])
            }
            collectFinished()
            // Sleeps until a socket is ready, curl's next timer, a wakeup, or pollTimeoutMs;
            // not at all if commands arrived since the drain.
            if inbox.prepareToSleep() {
                _ = curl_multi_poll(multi.handle, nil, 0, Int32(pollTimeoutMs), nil)
            }
        }

        let (leftovers, waiters) = inbox.markStopped()
        for case .start(let submission) in leftovers {
            submission.continuation.resume(returning: .failed(DeliveryError(.cancelled, "the delivery engine stopped")))
        }
        for (easy, _) in active { curl_multi_remove_handle(multi.handle, easy) }
        active = [:]
        idleHandles = []
        logger.debug("delivery engine stopped")
        return waiters
    }

    private func start(_ submission: EngineInbox.Submission) {
        let easy = idleHandles.popLast() ?? CurlEasy()
        let transfer = Transfer(
            id: submission.id, request: submission.request, easy: easy, configuration: configuration,
            continuation: submission.continuation)
        do {
            try transfer.configure(submission.request, configuration: configuration)
        } catch {
            recycle(easy)
            transfer.continuation.resume(returning: .failed(DeliveryError(.invalidRequest, error.message)))
            return
        }
        transfer.started = .now
        let rc = curl_multi_add_handle(multi.handle, easy.handle)
        guard rc == CURLM_OK else {
            recycle(easy)
            transfer.continuation.resume(
                returning: .failed(
                    DeliveryError(
                        .other, "curl_multi_add_handle failed: \(String(cString: curl_multi_strerror(rc)))")))
            return
        }
        active[easy.handle] = transfer
        activeByID[transfer.id] = easy.handle
    }

    private func cancel(_ id: UInt64, _ error: DeliveryError) {
        guard let handle = activeByID.removeValue(forKey: id), let transfer = active.removeValue(forKey: handle) else {
            return  // already finished
        }
        curl_multi_remove_handle(multi.handle, handle)
        recycle(transfer.easy)
        transfer.continuation.resume(returning: .failed(error, latency: .now - transfer.started))
    }

    private func collectFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi.handle, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                let transfer = active.removeValue(forKey: handle)
            else { continue }
            let code = message.pointee.data.result
            activeByID[transfer.id] = nil
            let response = makeResponse(transfer, code: code)
            curl_multi_remove_handle(multi.handle, handle)
            recycle(transfer.easy)
            transfer.continuation.resume(returning: response)
        }
    }

    private func recycle(_ easy: CurlEasy) {
        easy.reset()
        if idleHandles.count < configuration.idleHandlePoolSize { idleHandles.append(easy) }
    }

    private func makeResponse(_ transfer: Transfer, code: CURLcode) -> DeliveryResponse {
        let easy = transfer.easy
        let status = easy.getLong(CURLINFO_RESPONSE_CODE).flatMap { $0 > 0 ? $0 : nil }
        let version: String? =
            switch easy.getLong(CURLINFO_HTTP_VERSION).map(UInt32.init) {
            case UInt32(CURL_HTTP_VERSION_1_0): "1.0"
            case UInt32(CURL_HTTP_VERSION_1_1): "1.1"
            case UInt32(CURL_HTTP_VERSION_2_0): "2"
            case UInt32(CURL_HTTP_VERSION_3): "3"
            default: nil
            }
        var error: DeliveryError?
        if code != CURLE_OK && !(code == CURLE_WRITE_ERROR && transfer.stoppedReading) {
            error = deliveryError(code, transfer)
        }
        return DeliveryResponse(
            status: status, headers: status == nil ? [] : transfer.headers, bodyPrefix: transfer.bodyPrefix,
            latency: .now - transfer.started, error: error,
            newConnections: easy.getLong(CURLINFO_NUM_CONNECTS) ?? 0,
            httpVersion: status == nil ? nil : version)
    }

    /// The one place curl result codes become delivery errors.
    private func deliveryError(_ code: CURLcode, _ transfer: Transfer) -> DeliveryError {
        let detail = transfer.easy.errorText(code)
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            // curl's text says which limit fired: "Connection timed out after …" (connect) or
            // "Operation timed out after … with N bytes received" (total).
            return DeliveryError(.timeout, "timed out: \(detail)")
        case CURLE_COULDNT_CONNECT:
            if let refusal = transfer.refusal { return DeliveryError(.refusedDestination, refusal.reason) }
            return DeliveryError(.connectionRefused, "could not connect: \(detail)")
        case CURLE_COULDNT_RESOLVE_HOST:
            return DeliveryError(.dns, "could not resolve the host: \(detail)")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE:
            return DeliveryError(.tls, "TLS failed: \(detail)")
        case CURLE_UNSUPPORTED_PROTOCOL:
            return DeliveryError(.refusedDestination, "URL scheme refused: \(detail)")
        case CURLE_URL_MALFORMAT:
            return DeliveryError(.invalidRequest, "malformed URL: \(detail)")
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
            CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_WEIRD_SERVER_REPLY:
            return DeliveryError(.connectionFailed, "connection failed mid-request: \(detail)")
        default:
            return DeliveryError(.other, "curl error \(code.rawValue): \(detail)")
        }
    }
}
