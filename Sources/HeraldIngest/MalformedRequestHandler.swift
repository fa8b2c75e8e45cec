import HeraldCore
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request NIO's HTTP/1 parser refuses (a NUL or another control character in a
/// header, a malformed request line) with a problem document naming what is wrong, instead of
/// Hummingbird's empty 400.
///
/// The parser reports only *that* it failed, so a second handler in front of the decoder keeps
/// the raw bytes of the request head being read; on a parse error the offending header line is
/// found in them. Both handlers live on the channel's event loop and share one `HeadBytes`.
final class MalformedRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The raw bytes of the request head being read: recorded from the end of one request to
    /// the next head, so bodies are not copied (at most `limit`, above the decoder's 80 KiB).
    final class HeadBytes {
        static let limit = 96 * 1024
        var bytes: [UInt8] = []
        var recording = true
        func append(_ buffer: ByteBuffer) {
            guard recording, bytes.count < Self.limit else { return }
            bytes += buffer.readableBytesView.prefix(Self.limit - bytes.count)
        }
    }

    /// Sits first in the pipeline and copies what arrives into `HeadBytes`.
    final class Recorder: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        let head: HeadBytes
        init(_ head: HeadBytes) { self.head = head }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            head.append(unwrapInboundIn(data))
            context.fireChannelRead(data)
        }
    }

    let head = HeadBytes()
    /// Requests read whose response has not been written yet: while one is, the error is left to
    /// Hummingbird (a response of ours would interleave with it).
    var open = 0

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(Recorder(head), position: .first)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            open += 1
            head.bytes.removeAll(keepingCapacity: true)
            head.recording = false
        case .end:
            head.recording = true
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { open = max(0, open - 1) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError, open == 0 else {
            context.fireErrorCaught(error)
            return
        }
        let problem = Self.problem(for: head.bytes, error: parseError)
        let body = JSONValue.object(problem.document).serialized()
        let response = HTTPResponse(status: problem.status, headerFields: [
            .contentType: "application/problem+json", .contentLength: String(body.count), .connection: "close",
        ])
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// The problem for a head the parser refused: names the first header line holding a control
    /// character when there is one.
    static func problem(for bytes: [UInt8], error: HTTPParserError) -> Problem {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }
        if !lines.isEmpty { lines.removeFirst() }  // the request line
        for line in lines {
            if line.isEmpty { break }  // end of the head
            guard line.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7f }) else { continue }
            let name = line.prefix { $0 != UInt8(ascii: ":") }
            let printable = String(decoding: name.prefix(64).map { $0 < 0x20 || $0 >= 0x7f ? UInt8(ascii: "?") : $0 },
                                   as: UTF8.self)
            return Problem(.badRequest, "invalid-header", "Invalid header",
                           detail: "header '\(printable)' contains a control character", field: printable,
                           rule: "visible ASCII, space and tab")
        }
        return Problem(.badRequest, "malformed-request", "Malformed request",
                       detail: "the request is not valid HTTP/1.1 (\(error))", rule: "RFC 9112")
    }
}
