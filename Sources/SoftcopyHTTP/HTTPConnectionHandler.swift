import Logging
import NIOCore
import NIOHTTP1

/// Collects one request at a time (head and a bounded body), hands it to the responder,
/// and writes the response, closing the connection when the client did not ask to keep it.
/// A connection that sends nothing for the idle timeout while no request of it is being
/// answered is closed: a slow or stalled client holds a socket, never a thread, and not
/// for long.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: any HTTPResponder
    private let maxBodyBytes: Int
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var request: HTTPRequest?
    private var body = ByteBuffer()
    private var oversized = false
    /// The body limit of the request being read.
    private var limit: Int
    /// Requests of this connection being answered (a long-poll, a file being sent).
    private var answering = 0

    init(responder: any HTTPResponder, maxBodyBytes: Int, logger: Logger) {
        self.responder = responder
        self.maxBodyBytes = maxBodyBytes
        self.limit = maxBodyBytes
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
            // Parsed once, at the head: the responder sets the body limit from it, and
            // answers it once the body is in.
            let parsed = HTTPRequest(method: h.method, uri: h.uri, headers: h.headers, body: ByteBuffer(),
                                     remote: context.remoteAddress?.description ?? "?")
            request = parsed
            limit = responder.bodyLimit(for: parsed) ?? maxBodyBytes
            let length = h.headers.first(name: "content-length").flatMap(Int.init)
            oversized = length.map { $0 > limit } ?? false
            // Room for the announced body at once (it is within the limit): a manifest of
            // 150 MB grown by doubling is copied and faulted in twice over.
            if !oversized, let length, length > body.capacity { body.reserveCapacity(length) }
        case .body(var chunk):
            guard !oversized else { return }
            if body.readableBytes + chunk.readableBytes > limit {
                oversized = true
                body.clear()
            } else {
                body.writeBuffer(&chunk)
            }
        case .end:
            guard let head, var request else { return }
            self.head = nil
            self.request = nil
            if oversized {
                write(context: context, head: head, response: .error(.payloadTooLarge, "the request body is larger than \(limit) bytes"), forceClose: true)
                return
            }
            let remote = request.remote
            request.body = body
            body = ByteBuffer()
            let logger = self.logger
            answering += 1
            responder.respond(to: request, on: context.eventLoop)
                .hop(to: context.eventLoop)
                .assumeIsolated()
                .whenComplete { result in
                    let response: HTTPResponse
                    switch result {
                    case .success(let r): response = r
                    case .failure(let error):
                        logger.error("\(head.method) \(head.uri) from \(remote): \(error)")
                        response = .error(.internalServerError, "\(error)")
                    }
                    self.write(context: context, head: head, response: response, forceClose: false)
                }
        }
    }

    private func write(context: ChannelHandlerContext, head: HTTPRequestHead, response: HTTPResponse, forceClose: Bool) {
        var headers = response.headers
        let keepAlive = head.isKeepAlive && !forceClose
        let length: Int
        switch response.body {
        case .empty: length = 0
        case .bytes(let b): length = b.readableBytes
        case .file(_, _, let n): length = n
        case .stream(_, let n): length = n
        }
        headers.replaceOrAdd(name: "content-length", value: String(length))
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            switch response.body {
            case .empty: break
            case .bytes(let b): context.write(wrapOutboundOut(.body(.byteBuffer(b))), promise: nil)
            case .file(let handle, let offset, let n):
                let region = FileRegion(fileHandle: handle, readerIndex: offset, endIndex: offset + n)
                context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
            case .stream(let stream, _):
                attach(stream, context: context, keepAlive: keepAlive)
                return
            }
        }
        if case .stream(let stream, _) = response.body {
            // HEAD: the body is not wanted; the producer stops at its first write.
            stream.failed()
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        done.futureResult.assumeIsolated().whenComplete { _ in
            if !forceClose { self.answering -= 1 }
            if case .file(let handle, _, _) = response.body { try? handle.close() }
            if !keepAlive { context.close(promise: nil) }
        }
    }

    /// Writes a stream's buffers as its producer hands them over (each write's completion
    /// makes room for the next), then the end; a producer that gives up closes the
    /// connection, so the reader sees a short body.
    private func attach(_ stream: ResponseStream, context: ChannelHandlerContext, keepAlive: Bool) {
        context.flush()
        let loop = context.eventLoop
        let bound = NIOLoopBound(context, eventLoop: loop)
        let handler = NIOLoopBound(self, eventLoop: loop)
        stream.attach(ResponseStream.Sink(
            deliver: { buffer in
                loop.execute {
                    let count = buffer.readableBytes
                    bound.value.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer)))).whenComplete { result in
                        if case .success = result { stream.written(count) } else { stream.failed() }
                    }
                }
            },
            end: { complete in
                loop.execute {
                    let context = bound.value
                    guard complete else {
                        handler.value.answering -= 1
                        context.close(promise: nil)
                        return
                    }
                    context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in
                        handler.value.answering -= 1
                        if !keepAlive { bound.value.close(promise: nil) }
                    }
                }
            }))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, answering == 0 {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
