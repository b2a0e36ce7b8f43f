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

    /// `PUT /v1/jobs/{job}/targets/{n}/manifest` or `.../checksums` (about 70 bytes a file).
    private static func isManifestUpload(_ request: HTTPRequest) -> Bool {
        switch Route(method: request.method.rawValue, components: request.components) {
        case .manifest?, .checksums?: true
        default: false
        }
    }

    func bodyLimit(for request: HTTPRequest) -> Int? {
        guard Self.isManifestUpload(request) else { return nil }
        if let token = agent.configuration.token, !TokenFile.matches(request.bearerToken, token) { return nil }
        return Self.manifestBodyLimit
    }

    func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        let c = request.components
        let route = Route(method: request.method.rawValue, components: c)
        if route == .health {
            return eventLoop.makeSucceededFuture(.json(agent.health()))
        }
        if c.first == "zarr" {
            // The read view: its own token rule (the read token too) and its own threads.
            return agent.viewResponse(request, on: eventLoop)
        }
        guard (c.first == "v1" && c.count >= 2) || route == .metrics else { return eventLoop.makeSucceededFuture(notFound(request)) }
        if let refusal = TokenFile.refusal(of: request, token: agent.configuration.token, server: "this agent", logger: logger) {
            return eventLoop.makeSucceededFuture(refusal)
        }
        let agent = self.agent
        switch route {
        case .metrics?:
            return eventLoop.makeSucceededFuture(.metrics(agent.metrics()))
        case .attach?:
            return pool.runIfActive(eventLoop: eventLoop) { agent.attach(request) }
        case .detach(let job)?:
            return pool.runIfActive(eventLoop: eventLoop) { agent.detach(job) }
        case .manifest(let job, let lane)?:
            return pool.runIfActive(eventLoop: eventLoop) { agent.store(.manifest, job: job, target: lane, body: request.bodyBytes) }
        case .checksums(let job, let lane, let algorithm)?:
            return pool.runIfActive(eventLoop: eventLoop) { agent.store(.checksums(algorithm), job: job, target: lane, body: request.bodyBytes) }
        case .remove?:
            return pool.runIfActive(eventLoop: eventLoop) { agent.remove(request) }
        case .list(let path)?:
            return pool.runIfActive(eventLoop: eventLoop) { agent.listing(request, path: path) }
        case .file(let path)? where agent.configuration.objectStore != nil:
            return agent.objectFileResponse(request, path: path, on: eventLoop)
        case .file(let path)?:
            return pool.runIfActive(eventLoop: eventLoop) { agent.file(request, path: path) }
        default:
            return eventLoop.makeSucceededFuture(notFound(request))
        }
    }

    private func notFound(_ request: HTTPRequest) -> HTTPResponse {
        .error(.notFound, "no such endpoint: \(request.method) \(request.uri)")
    }
}
