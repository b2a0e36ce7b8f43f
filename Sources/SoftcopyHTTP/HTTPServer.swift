public import Logging
public import NIOCore
import NIOHTTP1
public import NIOPosix
import NIOSSL

/// A plain SwiftNIO HTTP/1.1 server: keep-alive, pipelining handled by NIO, bodies of
/// control messages collected up to a limit, and responses that may be file regions
/// (sendfile). One small event-loop group; blocking work goes to `threadPool`. With TLS,
/// every connection is encrypted and file bodies are read into memory instead.
public final class HTTPServer: Sendable {
    public let port: Int
    public let host: String
    /// "https" with TLS, else "http".
    public let scheme: String
    public let threadPool: NIOThreadPool
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    /// A connection that sends nothing for this long, with no request of it being
    /// answered, is closed (longer than any client's pause between requests).
    public static let defaultIdleTimeout: TimeAmount = .seconds(60)

    /// Binds and starts serving. `port` 0 picks a free port (see `port`).
    public init(
        host: String, port: Int, eventLoops: Int = 2, blockingThreads: Int = 4, maxBodyBytes: Int = 16 << 20,
        idleTimeout: TimeAmount = HTTPServer.defaultIdleTimeout, tls: ServerTLS? = nil,
        logger: Logger, makeResponder: (NIOThreadPool, any EventLoop) -> any HTTPResponder
    ) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoops)
        let pool = NIOThreadPool(numberOfThreads: blockingThreads)
        pool.start()
        let plain = makeResponder(pool, group.next())
        let responder: any HTTPResponder = tls == nil ? plain : FileBodyReader(inner: plain, pool: pool)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
                    }
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPConnectionHandler(responder: responder, maxBodyBytes: maxBodyBytes, logger: logger))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            try? pool.syncShutdownGracefully()
            throw error
        }
        self.group = group
        self.threadPool = pool
        self.host = host
        self.scheme = tls == nil ? "http" : "https"
        self.port = channel.localAddress?.port ?? port
    }

    /// Stops accepting, closes connections, and stops the threads.
    public func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
        try? threadPool.syncShutdownGracefully()
    }
}
