import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// One job's part of the coordinator's HTTP API (docs/http-api.md): its agents lease
/// ready work (long-polled), GET each chunk's bytes, and ack what they made durable. The
/// service's `ServiceAPI` checks the token and hands each request under
/// `/v1/jobs/{job}/` to the job it names.
final class CoordinatorAPI: HTTPResponder {
    let job: String
    let engine: Engine
    let fleet: AgentFleet
    let leaseTimeout: Duration
    let pool: NIOThreadPool
    let reader: ChunkReader
    let logger: Logger
    private let waiters: LeaseWaiters

    init(job: String, engine: Engine, fleet: AgentFleet, leaseTimeout: Duration,
         pool: NIOThreadPool, reader: ChunkReader, eventLoop: any EventLoop, logger: Logger) {
        self.job = job
        self.engine = engine
        self.fleet = fleet
        self.leaseTimeout = leaseTimeout
        self.pool = pool
        self.reader = reader
        self.logger = logger
        let grant: @Sendable (LeaseRequest, MonotonicInstant?) -> HTTPResponse? = { [engine, fleet, leaseTimeout] request, attachment in
            Self.grant(request, attachment: attachment, engine: engine, fleet: fleet, leaseTimeout: leaseTimeout)
        }
        self.waiters = LeaseWaiters(eventLoop: eventLoop, grant: grant)
    }

    /// Called by the engine after every change.
    func workMayBeReady() {
        waiters.wake()
    }

    func respond(to request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        let route = Route(method: request.method.rawValue, components: request.components)
        switch route {
        case .lease?: return lease(request, on: eventLoop)
        case .ack?: return eventLoop.makeSucceededFuture(ack(request))
        case .chunk(_, let lane, let path)?: return chunk(request, lane: lane, path: path, on: eventLoop)
        case .bundle?: return bundle(request, on: eventLoop)
        case .view(_, let lane, let path)?:
            // Off the event loop: a lookup waits for the engine's lock, and a folder's scans
            // the trackers; the long polls on the loop must not wait for either.
            return pool.runIfActive(eventLoop: eventLoop) { self.view(lane: lane, path: path) }
        default: return eventLoop.makeSucceededFuture(notFound(request))
        }
    }

    private func notFound(_ request: HTTPRequest) -> HTTPResponse {
        .error(.notFound, "no such endpoint: \(request.method) \(request.uri)")
    }

    // MARK: - Lease (long-poll)

    private func lease(_ request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        let parsed: LeaseRequest
        do {
            parsed = try LeaseRequest(body: request.bodyBytes)
        } catch {
            return eventLoop.makeSucceededFuture(.error(.badRequest, error.message))
        }
        guard fleet.contains(parsed.agent) else {
            return eventLoop.makeSucceededFuture(.error(.forbidden, "agent \(parsed.agent) is not attached to job \(job)"))
        }
        fleet.touch(parsed.agent)
        let attachment = fleet.attachedSince(parsed.agent)
        if let response = Self.grant(parsed, attachment: attachment, engine: engine, fleet: fleet, leaseTimeout: leaseTimeout) {
            return eventLoop.makeSucceededFuture(response)
        }
        guard parsed.waitMilliseconds > 0 else {
            return eventLoop.makeSucceededFuture(.json(LeaseGrant(items: [], finished: false).json))
        }
        let promise = eventLoop.makePromise(of: HTTPResponse.self)
        waiters.add(parsed, attachment: attachment, promise: promise, deadline: Clock.now() + .milliseconds(parsed.waitMilliseconds))
        return promise.futureResult
    }

    /// A grant if there is work for this agent (or the job is over); nil to keep waiting.
    static func grant(_ request: LeaseRequest, attachment: MonotonicInstant?, engine: Engine, fleet: AgentFleet, leaseTimeout: Duration) -> HTTPResponse? {
        if engine.isShuttingDown { return .json(LeaseGrant(items: [], finished: true).json) }
        // Asked before the agent was attached again (it restarted while this request was
        // held): whoever sent it is gone, and work leased to it would wait for the lease
        // timeout. Nothing for it.
        guard fleet.attachedSince(request.agent) == attachment else { return .json(LeaseGrant(items: [], finished: false).json) }
        guard fleet.isAttached(request.agent), fleet.allContacted else { return nil }
        fleet.recordLease(request.agent)
        // The target's placement policy decides which keys this agent may take.
        guard let (lane, items) = engine.lease(
            consumer: request.agent, maxItems: request.maxItems, maxBytes: request.maxBytes, ttl: leaseTimeout)
        else { return nil }
        let grant = LeaseGrant(items: items.map { item in
            LeaseGrant.Item(lane: lane, path: item.path, operation: item.operation, lease: item.lease, size: item.expectedSize)
        }, finished: false)
        return .json(grant.json)
    }

    // MARK: - Ack

    private func ack(_ request: HTTPRequest) -> HTTPResponse {
        let report: AckReport
        do {
            report = try AckReport(body: request.bodyBytes)
        } catch {
            return .error(.badRequest, error.message)
        }
        guard fleet.contains(report.agent) else {
            return .error(.forbidden, "agent \(report.agent) is not attached to job \(job)")
        }
        fleet.touch(report.agent)
        if let bad = report.entries.first(where: { $0.lane.rawValue >= engine.laneCount }) {
            return .error(.badRequest, "ack: target \(bad.lane) does not exist (this job has \(engine.laneCount))")
        }
        var byTarget: [LaneID: [(RelativePath, LeaseID, WorkOutcome)]] = [:]
        var files: UInt64 = 0
        var bytes: UInt64 = 0
        for entry in report.entries {
            var outcome = entry.outcome
            if case .failed(let message, let transient) = outcome {
                // Said where it happened: with several agents, "Permission denied" alone is no lead.
                outcome = .failed(message: "on agent \(fleet.label(of: report.agent)): \(message)", transient: transient)
            }
            byTarget[entry.lane, default: []].append((entry.path, entry.lease, outcome))
            if case .copied(_, _, _, let n) = entry.outcome {
                files += 1
                bytes &+= n
            }
        }
        var current = 0
        for (lane, results) in byTarget {
            current += engine.completeRemote(lane, consumer: report.agent, results)
        }
        fleet.recordAcks(report.agent, files: files, bytes: bytes, freeBytes: report.freeBytes)
        return .json(AckAnswer(accepted: current, stale: report.entries.count - current).json)
    }

    // MARK: - Read view

    /// What the record says about a key of the read view, for an agent that serves it:
    /// answered from the trackers under their lock, never from the source.
    private func view(lane: String, path text: String) -> HTTPResponse {
        guard let number = Int(lane), number >= 0, number < engine.laneCount else {
            return .error(.notFound, "no target \(lane) in job \(job)")
        }
        let path: RelativePath
        do {
            path = text.isEmpty ? .root : try RelativePath(validating: text)
        } catch {
            return .error(.badRequest, "bad path \(text.debugDescription): \(error)")
        }
        let fleet = self.fleet
        return .json(engine.readView(lane: LaneID(number), path: path) { fleet.viewHolder($0) }.json)
    }

    // MARK: - Chunk bytes

    private func chunk(_ request: HTTPRequest, lane: String, path text: String, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        guard let number = Int(lane), number >= 0, number < engine.laneCount else {
            return eventLoop.makeSucceededFuture(.error(.notFound, "no target \(lane) in job \(job)"))
        }
        let path: RelativePath
        do {
            path = try RelativePath(validating: text)
        } catch {
            return eventLoop.makeSucceededFuture(.error(.badRequest, "bad file path \(text.debugDescription): \(error)"))
        }
        guard let leaseText = request.query["lease"], let leaseNumber = UInt64(leaseText) else {
            return eventLoop.makeSucceededFuture(.error(.badRequest, "a chunk is only served under its lease: add ?lease=N"))
        }
        let target = LaneID(number)
        let (lease, chunk) = engine.peek(target) { ($0.tracker.leaseIsCurrent(path, LeaseID(leaseNumber)), $0.hierarchy.chunkEncoding(of: path)) }
        let (current, stable) = (lease.current, lease.requireStableRead)
        guard current else {
            return eventLoop.makeSucceededFuture(.error(.conflict, "lease \(leaseNumber) of \(path) is not current (it expired or was completed)",
                                                        headers: HTTPHeaders([(SoftcopyHeaders.reason, "stale-lease")])))
        }
        let root = engine.sourceRoot(ofLane: target), links = engine.sourceLinks(ofLane: target)
        let reader = self.reader
        let wire = ChunkReader.WireContext(request: WireCompressionPolicy.Request(headers: request.headers), lane: target, chunk: chunk)
        return pool.runIfActive(eventLoop: eventLoop) {
            reader.serve(sourceRoot: root, links: links, path: path, requireStableRead: stable, wire: wire)
        }
    }

    /// Several small files in one response (BundleFrame): each item under its lease.
    private func bundle(_ request: HTTPRequest, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        let parsed: BundleRequest
        do {
            parsed = try BundleRequest(body: request.bodyBytes)
        } catch {
            return eventLoop.makeSucceededFuture(.error(.badRequest, error.message))
        }
        if let bad = parsed.items.first(where: { $0.lane.rawValue >= engine.laneCount }) {
            return eventLoop.makeSucceededFuture(.error(.notFound, "no target \(bad.lane) in job \(job)"))
        }
        let wire = WireCompressionPolicy.Request(headers: request.headers)
        let entries = parsed.items.map { item in
            let (lease, chunk) = engine.peek(item.lane) { ($0.tracker.leaseIsCurrent(item.path, item.lease), $0.hierarchy.chunkEncoding(of: item.path)) }
            let (current, stable) = (lease.current, lease.requireStableRead)
            return ChunkReader.BundleEntry(sourceRoot: engine.sourceRoot(ofLane: item.lane), links: engine.sourceLinks(ofLane: item.lane), path: item.path,
                                           leaseCurrent: current, requireStableRead: stable,
                                           wire: ChunkReader.WireContext(request: wire, lane: item.lane, chunk: chunk))
        }
        let reader = self.reader
        return pool.runIfActive(eventLoop: eventLoop) {
            reader.bundle(entries)
        }
    }
}
