import NIOCore
import SoftcopyCore
import SoftcopyIO

/// A response body written by another thread as it arrives (the read view passing
/// through a chunk another node holds): never the whole body in memory. The producer
/// blocks while `window` bytes are not yet written to the socket, so a slow reader slows
/// the upstream transfer instead of filling memory; a reader that takes nothing for
/// `stallTimeout` loses its connection, and the producer learns it from `write`.
public final class ResponseStream: Sendable {
    public static let window = 4 << 20
    public static let stallTimeout: Duration = .seconds(60)

    /// The connection's side, set once the response head is written.
    struct Sink: Sendable {
        let deliver: @Sendable (ByteBuffer) -> Void
        let end: @Sendable (_ complete: Bool) -> Void
    }

    private struct State {
        /// Written before the connection took the stream.
        var pending: [ByteBuffer] = []
        /// Bytes given and not yet written to the socket.
        var unwritten = 0
        var sink: Sink?
        var closed = false
        var finished: Bool?
    }

    private let state = ConditionLock(State())

    public init() {}

    /// A stream with nothing to send (a HEAD's answer, an empty body).
    public static func empty() -> ResponseStream {
        let s = ResponseStream()
        s.finish(complete: true)
        return s
    }

    /// Hands `bytes` to the connection, waiting for room; false when the connection is
    /// gone (or stalled past `stallTimeout`): stop producing.
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let deadline = Clock.now() + Self.stallTimeout
        // Handed over under the lock, as `attach` hands over what came before: the event
        // loop receives every piece, and the end, in the order they were written.
        return state.waitFor { s in
            if s.closed { return .done(false) }
            if s.unwritten < Self.window || s.unwritten == 0 {
                s.unwritten += buffer.readableBytes
                if let sink = s.sink { sink.deliver(buffer) } else { s.pending.append(buffer) }
                return .done(true)
            }
            if Clock.now() >= deadline {
                s.closed = true
                return .done(false)
            }
            return .wait(until: deadline)
        }
    }

    /// The producer is done: `complete` when every byte the head announced was written,
    /// false to cut the connection (the reader sees a short body, never a wrong one).
    public func finish(complete: Bool) {
        state.withLock { s in
            if let sink = s.sink { sink.end(complete) } else { s.finished = complete }
        }
    }

    // MARK: - The connection's side (on its event loop)

    /// `sink` only queues work on the event loop, so it is called under the lock.
    func attach(_ sink: Sink) {
        state.withLock { s in
            s.sink = sink
            for buffer in s.pending { sink.deliver(buffer) }
            s.pending = []
            if let finished = s.finished { sink.end(finished) }
        }
    }

    func written(_ count: Int) {
        state.withLock { $0.unwritten -= count }
        state.broadcast()
    }

    func failed() {
        state.withLock { $0.closed = true }
        state.broadcast()
    }
}
