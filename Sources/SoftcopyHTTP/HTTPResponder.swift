public import NIOCore

/// Answers requests. Runs on an event loop: anything that blocks (file reads, hashing,
/// waiting for work) must be handed to a thread pool or completed later through a promise.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse>
}
