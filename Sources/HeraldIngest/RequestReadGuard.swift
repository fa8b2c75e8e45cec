import HTTPTypes
import HeraldCore
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Guards how requests are read, answering problems where Hummingbird would answer nothing or
/// an empty 400:
/// - a request head NIO's HTTP/1 parser refuses (a NUL or another control character in a
///   header, a malformed request line) gets a problem 400 naming the header;
/// - a request that stops arriving (half a head, a body that stops short) for `readTimeout`
///   gets a problem 408 and the connection is closed. A connection idle between requests is
///   left to Hummingbird's idle timeout, which closes it silently.
///
/// The parser reports only *that* it failed, so a `Recorder` in front of the decoder keeps the
/// raw bytes of the head being read (and when bytes last arrived); on a parse error the
/// offending line is found in them. Both handlers run on the channel's event loop and share one
/// `ReadState`.
final class RequestReadGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What the connection has read: the bytes of the request head being read (from the end of
    /// one request to the next head, so bodies are not copied; at most `limit`, above the
    /// decoder's 80 KiB), whether a request is partly read, and when bytes last arrived.
    final class ReadState {
        static let limit = 96 * 1024
        var head: [UInt8] = []
        var recordingHead = true
        var partlyRead = false
        var lastRead = NIODeadline.now()

        func received(_ buffer: ByteBuffer) {
            lastRead = .now()
            partlyRead = true
            guard recordingHead, head.count < Self.limit else { return }
            head += buffer.readableBytesView.prefix(Self.limit - head.count)
        }
    }

    /// Sits first in the pipeline and notes what arrives in `ReadState`.
    final class Recorder: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        let state: ReadState
        init(_ state: ReadState) { self.state = state }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            state.received(unwrapInboundIn(data))
            context.fireChannelRead(data)
        }
    }

    let state = ReadState()
    let readTimeout: TimeAmount
    /// Requests read whose response has not ended: while one is, a parse error is left to
    /// Hummingbird (a response of ours would interleave with it).
    var open = 0
    /// Whether the response to the request being read has begun (then no 408 can be sent).
    var responding = false
    var timer: Scheduled<Void>?

    init(readTimeout: TimeAmount) {
        self.readTimeout = readTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(Recorder(state), position: .first)
        scheduleCheck(context, in: readTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            open += 1
            responding = false
            state.head.removeAll(keepingCapacity: true)
            state.recordingHead = false
        case .end:
            state.recordingHead = true
            state.partlyRead = false
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: responding = true
        case .end: open = max(0, open - 1)
        case .body: break
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError, open == 0 else {
            context.fireErrorCaught(error)
            return
        }
        answer(context, Self.problem(forHead: state.head, error: parseError))
    }

    /// Checks every `readTimeout` (or sooner, when bytes arrived since) whether a partly read
    /// request has stalled.
    private func scheduleCheck(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            guard context.channel.isActive else { return }
            let stalledFor = NIODeadline.now() - state.lastRead
            if state.partlyRead, stalledFor >= readTimeout {
                if responding {
                    context.close(promise: nil)
                } else {
                    let seconds = Double(readTimeout.nanoseconds) / 1e9
                    answer(
                        context,
                        Problem(
                            .requestTimeout, "read-timeout", "Request timeout",
                            detail: "the request did not arrive in full; nothing came for \(seconds) s",
                            rule: "HERALD_INGEST_READ_TIMEOUT"))
                }
                return
            }
            scheduleCheck(context, in: state.partlyRead ? readTimeout - stalledFor : readTimeout)
        }
    }

    /// Writes a problem with `Connection: close`, then closes.
    private func answer(_ context: ChannelHandlerContext, _ problem: Problem) {
        timer?.cancel()
        timer = nil
        responding = true
        let body = JSONValue.object(problem.document).serialized()
        let response = HTTPResponse(
            status: problem.status,
            headerFields: [
                .contentType: "application/problem+json", .contentLength: String(body.count), .connection: "close",
            ])
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// The problem for a head the parser refused: names the first header line holding a control
    /// character when there is one.
    static func problem(forHead bytes: [UInt8], error: HTTPParserError) -> Problem {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }
        if !lines.isEmpty { lines.removeFirst() }  // the request line
        for line in lines {
            if line.isEmpty { break }  // end of the head
            guard line.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7f }) else { continue }
            let name = line.prefix { $0 != UInt8(ascii: ":") }
            let printable = String(
                decoding: name.prefix(64).map { $0 < 0x20 || $0 >= 0x7f ? UInt8(ascii: "?") : $0 },
                as: UTF8.self)
            return Problem(
                .badRequest, "invalid-header", "Invalid header",
                detail: "header '\(printable)' contains a control character", field: printable,
                rule: "visible ASCII, space and tab")
        }
        return Problem(
            .badRequest, "malformed-request", "Malformed request",
            detail: "the request is not valid HTTP/1.1 (\(error))", rule: "RFC 9112")
    }
}
