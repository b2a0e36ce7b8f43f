public import NIOCore

/// Answers requests. Runs on an event loop: anything that blocks (file reads, hashing,
/// waiting for work) must be handed to a thread pool or completed later through a promise.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse>

    /// A body limit other than the server's for this request (its head only, no body
    /// yet), or nil. Larger limits belong only to authenticated requests that need them.
    func bodyLimit(for request: HTTPRequest) -> Int?
}

extension HTTPResponder {
    public func bodyLimit(for request: HTTPRequest) -> Int? { nil }
}
