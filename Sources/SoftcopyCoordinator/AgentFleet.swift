import Logging
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// The agents this coordinator works with. Each has a monitor thread that checks its
/// health every second, attaches the job when the agent does not have it (first contact,
/// or after the agent restarted) after seeding the trackers from the agent's listing, and
/// marks it down when it stops answering, so its leases go to the others at once.
final class AgentFleet: Sendable {
    enum State: String, Sendable {
        case connecting, attached, down, refused
    }

    struct Member: Sendable {
        let id: UInt32
        let url: String
        var name: String?
        var state: State = .connecting
        var lastContact: MonotonicInstant?
        var freeBytes: UInt64?
        var totalBytes: UInt64?
        var filesAcked: UInt64 = 0
        var bytesAcked: UInt64 = 0
        var problem: String?
        /// The first health check (and listing) is done, whatever its outcome.
        var contacted = false
    }

    struct Context: Sendable {
        let job: String
        let targets: [TargetSpec]
        let token: String?
        let advertiseURL: String?
    }

    private let members: Mutex<[UInt32: Member]>
    private let order: [UInt32]
    private let context: Context
    private let engine: Engine
    private let logger: Logger
    private let stopLock = ConditionLock()
    private let stopping = Atomic(false)
    private let threads = Mutex<[OSThread]>([])
    /// The API's port, known once the server is bound.
    private let port = Atomic<Int>(0)

    static let healthInterval: Duration = .seconds(1)

    init(urls: [String], context: Context, engine: Engine, logger: Logger) {
        var members: [UInt32: Member] = [:]
        var order: [UInt32] = []
        for (n, url) in urls.enumerated() {
            let id = UInt32(n + 1)
            members[id] = Member(id: id, url: url)
            order.append(id)
        }
        self.members = Mutex(members)
        self.order = order
        self.context = context
        self.engine = engine
        self.logger = logger
    }

    func setPort(_ value: Int) {
        port.store(value, ordering: .releasing)
    }

    func start() {
        let started = order.map { id in OSThread(name: "sc-agent-\(id)") { [self] in monitor(id) } }
        threads.withLock { $0 = started }
    }

    /// Detaches the job from every agent and stops the monitors.
    func stop() {
        stopLock.withLock {
            stopping.store(true, ordering: .releasing)
            stopLock.broadcast()
        }
        let running = threads.withLock { t -> [OSThread] in
            defer { t.removeAll() }
            return t
        }
        for thread in running { thread.join() }
    }

    func isAttached(_ id: UInt32) -> Bool {
        members.withLock { $0[id]?.state == .attached }
    }

    func contains(_ id: UInt32) -> Bool {
        members.withLock { $0[id] != nil }
    }

    /// Any request from an agent counts as a sign of life.
    func touch(_ id: UInt32) {
        members.withLock { $0[id]?.lastContact = Clock.now() }
    }

    func recordAcks(_ id: UInt32, files: UInt64, bytes: UInt64) {
        members.withLock { m in
            m[id]?.filesAcked &+= files
            m[id]?.bytesAcked &+= bytes
        }
    }

    var snapshot: [Member] {
        members.withLock { m in order.compactMap { m[$0] } }
    }

    /// Every agent was tried once: what each already holds is known before any work is
    /// handed out, so nothing one agent holds is sent to another.
    var allContacted: Bool {
        members.withLock { $0.values.allSatisfy(\.contacted) }
    }

    private func update(_ id: UInt32, _ body: (inout Member) -> Void) {
        members.withLock { m in
            if var member = m[id] {
                body(&member)
                m[id] = member
            }
        }
    }

    // MARK: - Monitor (one thread per agent)

    private func monitor(_ id: UInt32) {
        let url = members.withLock { $0[id]!.url }
        let client = HTTPClient(token: context.token)
        var lastProblem: String?
        while !stopping.load(ordering: .acquiring) {
            let problem = check(id, url: url, client: client)
            update(id) { $0.contacted = true }
            if let problem, problem != lastProblem {
                let state = members.withLock { $0[id]?.state }
                if state == .refused {
                    logger.error("agent \(url): \(problem)")
                } else {
                    logger.warning("agent \(url): \(problem)")
                }
            }
            lastProblem = problem
            stopLock.withLock {
                if !stopping.load(ordering: .acquiring) { stopLock.wait(until: Clock.now() + Self.healthInterval) }
            }
        }
        if isAttached(id) {
            _ = try? client.request("DELETE", url + "/v1/jobs/" + context.job, timeout: .seconds(3))
        }
    }

    /// One health check (and attach if needed); returns a problem to log, if any.
    private func check(_ id: UInt32, url: String, client: HTTPClient) -> String? {
        let health: HTTPClientResponse
        do {
            health = try client.request("GET", url + "/v1/health", timeout: .seconds(3))
        } catch {
            return markDown(id, "not answering (\(error.message))")
        }
        guard health.status == 200, let doc = try? JSONParser.parse(bytes: health.body) else {
            return markDown(id, "health check answered \(health.status): \(health.bodyText)")
        }
        let jobs = doc["jobs"]?.arrayValue?.compactMap { $0["job"]?.stringValue } ?? []
        update(id) { m in
            m.name = doc["name"]?.stringValue
            m.freeBytes = doc["free_bytes"]?.uint64Value
            m.totalBytes = doc["total_bytes"]?.uint64Value
            m.lastContact = Clock.now()
        }
        if jobs.contains(context.job), isAttached(id) { return nil }
        if isAttached(id) {
            // The agent no longer has the job: it restarted. What it held is in its listing.
            let released = engine.releaseLeases(of: id)
            logger.warning("agent \(url) restarted; \(released) leased files go back to the queue")
            update(id) { $0.state = .connecting }
        }
        return attach(id, url: url, client: client)
    }

    private func markDown(_ id: UInt32, _ problem: String) -> String {
        let wasAttached = isAttached(id)
        update(id) { m in
            if m.state != .refused { m.state = .down }
            m.problem = problem
        }
        if wasAttached {
            let released = engine.releaseLeases(of: id)
            let url = members.withLock { $0[id]?.url ?? "?" }
            logger.warning("agent \(url) is \(problem); its \(released) leased files go to the other agents")
        }
        return problem
    }

    /// Seeds each target's tracker from what the agent already holds, then attaches.
    private func attach(_ id: UInt32, url: String, client: HTTPClient) -> String? {
        var seeded = 0
        for (index, target) in context.targets.enumerated() {
            do {
                guard let entries = try AgentListingFetch.fetch(client, agentURL: url, destination: target.agentDestination,
                                                                verify: false, timeout: .seconds(600)) else { continue }  // nothing there yet
                seeded += engine.seed(index, entries: entries, holder: id)
            } catch .unreachable(let message) {
                return markDown(id, "cannot list \(target.agentDestination) (\(message))")
            } catch .refused(401, _) {
                update(id) { $0.state = .refused }
                return "refused our token (401); check that both use the same token file"
            } catch .refused(let status, let message) {
                update(id) { $0.state = .refused }
                return "cannot list \(target.agentDestination): \(status) \(message)"
            } catch {
                return markDown(id, error.description)
            }
        }
        let coordinatorURL = context.advertiseURL ?? client.localIP.map { ip in
            "http://" + (ip.contains(":") ? "[\(ip)]" : ip) + ":\(port.load(ordering: .acquiring))"
        } ?? "http://127.0.0.1:\(port.load(ordering: .acquiring))"
        let attachment = JobAttachment(
            job: context.job, coordinator: coordinatorURL, agent: id,
            targets: context.targets.enumerated().map { .init(index: $0.offset, destination: $0.element.agentDestination) })
        let response: HTTPClientResponse
        do {
            response = try client.request("POST", url + "/v1/jobs", json: attachment.json, timeout: .seconds(10))
        } catch {
            return markDown(id, "not answering (\(error.message))")
        }
        switch response.status {
        case 200, 201:
            update(id) { m in
                m.state = .attached
                m.problem = nil
            }
            let name = members.withLock { $0[id]?.name ?? url }
            logger.info("attached to agent \(name) at \(url) (it pulls from \(coordinatorURL))\(seeded > 0 ? "; it already holds \(seeded) files of this job" : "")")
            return nil
        case 401:
            update(id) { $0.state = .refused }
            return "refused our token (401); check that both use the same token file"
        default:
            update(id) { m in
                m.state = .refused
                m.problem = response.bodyText
            }
            return "refused the job (\(response.status)): \(response.bodyText)"
        }
    }
}
