import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// The coordinator's HTTP server, one per process (docs/http-api.md, docs/operations.md):
/// the dashboard at `/` (files inside the binary), `GET /v1/status` (every job, the
/// agents, the history), `GET /v1/jobs/{job}` (one job with its event log), `/metrics`,
/// and each job's agent API under `/v1/jobs/{job}/`, handed to that job. Health and the
/// dashboard's files are open (they hold no data); everything else needs the shared token
/// when one is configured, whether it comes from an agent, a script or the page.
final class ServiceAPI: HTTPResponder {
    let token: String?
    let pool: NIOThreadPool
    let eventLoop: any EventLoop
    let logger: Logger
    let view: ServiceView

    init(token: String?, pool: NIOThreadPool, eventLoop: any EventLoop, logger: Logger, view: ServiceView) {
        self.token = token
        self.pool = pool
        self.eventLoop = eventLoop
        self.logger = logger
        self.view = view
    }

    func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        if request.method == .GET || request.method == .HEAD, let asset = DashboardAssets.asset(for: request.components) {
            return eventLoop.makeSucceededFuture(.asset(asset.text, contentType: asset.contentType))
        }
        let route = Route(method: request.method.rawValue, components: request.components)
        if route == .health {
            return eventLoop.makeSucceededFuture(.json(view.health(tokenRequired: token != nil)))
        }
        guard request.components.first == "v1" || route == .metrics else {
            return eventLoop.makeSucceededFuture(.error(.notFound, "no such endpoint: \(request.method) \(request.uri)"))
        }
        if let refusal = TokenFile.refusal(of: request, token: token, server: "this coordinator", logger: logger) {
            return eventLoop.makeSucceededFuture(refusal)
        }
        switch route {
        case .status?:
            // Reading every job's trackers takes their locks: off the event loop.
            return pool.runIfActive(eventLoop: eventLoop) { [view] in .json(view.status()) }
        case .maxRate?:
            return eventLoop.makeSucceededFuture(.json(view.maxRate()))
        case .setMaxRate?:
            let text = String(decoding: request.bodyBytes.prefix(4096), as: UTF8.self).trimmingWhitespace()
            do throws(ConfigMessage) {
                let schedule = try RateSchedule(parsing: text)
                view.service.setMaxRate(schedule)
                return eventLoop.makeSucceededFuture(.json(view.maxRate()))
            } catch {
                return eventLoop.makeSucceededFuture(.error(.badRequest, "max_rate: \(error.text)"))
            }
        case .metrics?:
            return pool.runIfActive(eventLoop: eventLoop) { [view] in .metrics(view.metrics()) }
        case .job(let id)?:
            return pool.runIfActive(eventLoop: eventLoop) { [view] in
                guard let detail = view.detail(job: id) else { return .error(.notFound, "no job \(id) in this coordinator (see GET /v1/status)") }
                return .json(detail)
            }
        case let route? where route.job != nil:
            guard let id = route.job, let api = view.api(job: id) else {
                return eventLoop.makeSucceededFuture(.error(.gone, "job \(route.job ?? "") is not running in this coordinator; it has ended or the coordinator restarted"))
            }
            return api.respond(to: request, on: eventLoop)
        default:
            return eventLoop.makeSucceededFuture(.error(.notFound, "no such endpoint: \(request.method) \(request.uri)"))
        }
    }
}
