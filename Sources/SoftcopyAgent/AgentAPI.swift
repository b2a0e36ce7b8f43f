import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// The agent's HTTP API under /v1 (docs/http-api.md). Health is open; everything else
/// needs the shared token when one is configured. Every path is resolved beneath the
/// data root without following symlinks.
final class AgentAPI: HTTPResponder {
    let agent: Agent
    let pool: NIOThreadPool

    init(agent: Agent, pool: NIOThreadPool) {
        self.agent = agent
        self.pool = pool
    }

    private var logger: Logger { agent.logger }

    /// A manifest names every file (about 100 bytes each): a million-file archive's is
    /// over 100 MB. Only an authenticated manifest upload may be that large.
    static let manifestBodyLimit = 1 << 30

    /// `PUT /v1/jobs/{job}/targets/{n}/manifest`.
    private static func isManifestUpload(_ request: HTTPRequest) -> Bool {
        let c = request.components
        return request.method == .PUT && c.count == 6 && c[0] == "v1" && c[1] == "jobs" && c[3] == "targets" && c[5] == "manifest"
    }

    func bodyLimit(for request: HTTPRequest) -> Int? {
        guard Self.isManifestUpload(request) else { return nil }
        if let token = agent.configuration.token, !TokenFile.matches(request.bearerToken, token) { return nil }
        return Self.manifestBodyLimit
    }

    func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        let c = request.components
        if request.method == .GET, c == ["v1", "health"] {
            return eventLoop.makeSucceededFuture(.json(agent.health()))
        }
        guard c.first == "v1", c.count >= 2 else { return eventLoop.makeSucceededFuture(notFound(request)) }
        if let token = agent.configuration.token, !TokenFile.matches(request.bearerToken, token) {
            logger.warning("refused \(request.method) \(request.uri) from \(request.remote): \(request.bearerToken == nil ? "no" : "a wrong") token (401)")
            return eventLoop.makeSucceededFuture(.error(.unauthorized, "this agent needs the shared token (Authorization: Bearer ...)"))
        }
        let agent = self.agent
        switch (request.method, c[1]) {
        case (.POST, "jobs") where c.count == 2:
            return pool.runIfActive(eventLoop: eventLoop) { agent.attach(request) }
        case (.DELETE, "jobs") where c.count == 3:
            return pool.runIfActive(eventLoop: eventLoop) { agent.detach(c[2]) }
        case (.PUT, "jobs") where Self.isManifestUpload(request):
            return pool.runIfActive(eventLoop: eventLoop) { agent.storeManifest(job: c[2], target: c[4], body: request.bodyBytes) }
        case (.POST, "remove") where c.count == 2:
            return pool.runIfActive(eventLoop: eventLoop) { agent.remove(request) }
        case (.GET, "list"):
            return pool.runIfActive(eventLoop: eventLoop) { agent.listing(request) }
        case (.GET, "files") where c.count > 2, (.HEAD, "files") where c.count > 2:
            return pool.runIfActive(eventLoop: eventLoop) { agent.file(Array(c[2...])) }
        default:
            return eventLoop.makeSucceededFuture(notFound(request))
        }
    }

    private func notFound(_ request: HTTPRequest) -> HTTPResponse {
        .error(.notFound, "no such endpoint: \(request.method) \(request.uri)")
    }
}
