import Logging
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// The agents this coordinator works with: named in the targets file, or discovered
/// through Avahi at any time during the run. Each has a monitor thread that checks its
/// health every second, attaches the job when the agent does not have it (first contact,
/// or after the agent restarted) after seeding the trackers from the agent's listing, and
/// marks it down when it stops answering, so its leases go to the others at once.
final class AgentFleet: Sendable {
    enum State: String, Sendable {
        case connecting, attached, down, refused
    }

    struct Member: Sendable {
        let id: NodeID
        let url: String
        var name: String?
        var state: State = .connecting
        var lastContact: MonotonicInstant?
        var freeBytes: UInt64?
        var totalBytes: UInt64?
        /// The agent's own reserve: what it refuses to fill (from its health answer).
        var reserveBytes: UInt64 = 0
        var filesAcked: UInt64 = 0
        var bytesAcked: UInt64 = 0
        var problem: String?
        /// The first health check (and listing) is done, whatever its outcome.
        var contacted = false
        /// Known before work was first handed out: work waits until it was contacted.
        var gating = false
        /// Found through Avahi under this service name (nil: named in the configuration).
        var serviceName: String?
        /// Check at once (its advertisement was withdrawn).
        var checkNow = false
        var lastLease: MonotonicInstant?
        var attachedAt: MonotonicInstant?
        /// Where each lane's copy is on the agent, as its attach answer said.
        var destinations: [LaneID: String] = [:]
    }

    struct Context: Sendable {
        let job: String
        let targets: [TargetSpec]
        /// Each target's source as its destinations record it, and whether it may replace
        /// another source's copy there.
        var origins: [CopyOrigin] = []
        var replace: [Bool] = []
        let token: String?
        let advertiseURL: String?
        /// CAs that agents' certificates must chain to (https agents); nil: the system's.
        let caFile: String?
        /// "https" when the coordinator's API is served over TLS.
        var scheme = "http"
    }

    let members: Mutex<[NodeID: Member]>
    private let order = Mutex<[NodeID]>([])
    /// Set once work is handed out: later members do not hold it back.
    private let opened = Atomic(false)
    let context: Context
    let engine: Engine
    let logger: Logger
    private let stopLock = ConditionLock()
    private let stopping = Atomic(false)
    private let threads = Mutex<[OSThread]>([])
    /// The API's port, known once the server is bound.
    private let port = Atomic<Int>(0)

    static let healthInterval: Duration = .seconds(1)
    /// How often an attached agent is asked to remove superseded copies found since.
    static let removalInterval: Duration = .seconds(5)

    init(context: Context, engine: Engine, logger: Logger) {
        self.members = Mutex([:])
        self.context = context
        self.engine = engine
        self.logger = logger
    }

    func setPort(_ value: Int) {
        port.store(value, ordering: .releasing)
    }

    /// Adds an agent (or finds the one already known by this URL or service name) and
    /// starts watching it; returns its number.
    @discardableResult
    func add(url: String, serviceName: String? = nil) -> NodeID {
        let (id, isNew) = members.withLock { m -> (NodeID, Bool) in
            if let known = m.values.first(where: { $0.url == url || (serviceName != nil && $0.serviceName == serviceName) }) {
                if known.url != url || known.serviceName != serviceName {
                    m[known.id]?.checkNow = true
                    if known.serviceName == nil { m[known.id]?.serviceName = serviceName }
                }
                return (known.id, false)
            }
            let id = NodeID(UInt32(m.count + 1))
            var member = Member(id: id, url: url)
            member.gating = !opened.load(ordering: .acquiring)
            member.serviceName = serviceName
            m[id] = member
            return (id, true)
        }
        guard isNew, !stopping.load(ordering: .acquiring) else { return id }
        order.withLock { $0.append(id) }
        if serviceName != nil { logger.info("found agent \(serviceName!) at \(url) through Avahi") }
        let thread = OSThread(name: "sc-agent-\(id)") { [self] in monitor(id) }
        threads.withLock { $0.append(thread) }
        return id
    }

    /// An advertisement was withdrawn: check that agent now rather than in a second.
    func withdrawn(serviceName: String) {
        stopLock.withLock {
            members.withLock { m in
                for (id, member) in m where member.serviceName == serviceName { m[id]?.checkNow = true }
            }
            stopLock.broadcast()
        }
    }

    /// From now on, newly found agents join without holding back work.
    func open() {
        opened.store(true, ordering: .releasing)
    }

    func recordLease(_ id: NodeID) {
        members.withLock { $0[id]?.lastLease = Clock.now() }
    }

    /// An agent that asked for work this recently counts as pulling (a waiting long-poll
    /// asks again every 50 ms).
    static let pullingWindow: Duration = .seconds(2)

    /// Agents as placement sees them. Two agents with one name (a misconfiguration)
    /// are told apart by number, so rendezvous hashing still ranks them.
    func placementNodes() -> [PlacementNode] {
        let now = Clock.now()
        return members.withLock { m in
            let names = m.values.map { $0.name ?? $0.url }
            return m.values.sorted { $0.id < $1.id }.map { member in
                var name = member.name ?? member.url
                if names.filter({ $0 == name }).count > 1 { name += "#\(member.id)" }
                // What the agent will accept: its free space above its own reserve.
                let usable = member.freeBytes.map { $0 > member.reserveBytes ? $0 - member.reserveBytes : 0 }
                return PlacementNode(id: member.id, name: name, freeBytes: usable, attached: member.state == .attached,
                                     pulling: [member.lastLease, member.attachedAt].contains { $0.map { now - $0 < Self.pullingWindow } ?? false })
            }
        }
    }

    var count: Int { members.withLock { $0.count } }

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

    /// The agent's name (or URL), to say where a failure happened.
    func label(of id: NodeID) -> String {
        members.withLock { m in m[id].map { $0.name ?? $0.url } ?? "agent \(id)" }
    }

    /// When the agent was last attached (nil while it is not): each attachment is one
    /// process of the agent, so a request made under an earlier one is from a process
    /// that is gone.
    func attachedSince(_ id: NodeID) -> MonotonicInstant? {
        members.withLock { $0[id]?.state == .attached ? $0[id]?.attachedAt : nil }
    }

    func isAttached(_ id: NodeID) -> Bool {
        members.withLock { $0[id]?.state == .attached }
    }

    func contains(_ id: NodeID) -> Bool {
        members.withLock { $0[id] != nil }
    }

    /// Any request from an agent counts as a sign of life.
    func touch(_ id: NodeID) {
        members.withLock { $0[id]?.lastContact = Clock.now() }
    }

    func recordAcks(_ id: NodeID, files: UInt64, bytes: UInt64, freeBytes: UInt64?) {
        members.withLock { m in
            m[id]?.filesAcked &+= files
            m[id]?.bytesAcked &+= bytes
            if let freeBytes { m[id]?.freeBytes = freeBytes }
        }
    }

    var snapshot: [Member] {
        let ids = order.withLock { $0 }
        return members.withLock { m in ids.compactMap { m[$0] } }
    }

    /// Every agent known at the start was tried once: what each already holds is known
    /// before any work is handed out, so nothing one agent holds is sent to another.
    var allContacted: Bool {
        members.withLock { $0.values.allSatisfy { $0.contacted || !$0.gating } }
    }

    private func update(_ id: NodeID, _ body: (inout Member) -> Void) {
        members.withLock { m in
            if var member = m[id] {
                body(&member)
                m[id] = member
            }
        }
    }

    // MARK: - Monitor (one thread per agent)

    private func monitor(_ id: NodeID) {
        let url = members.withLock { $0[id]!.url }
        let client = HTTPClient(token: context.token, caFile: context.caFile)
        var lastProblem: String?
        // Superseded copies go at each attach, and then every `removalInterval`.
        var removalsFor: MonotonicInstant?
        var nextRemovals = MonotonicInstant.zero
        while !stopping.load(ordering: .acquiring) {
            let problem = check(id, url: url, client: client)
            update(id) { $0.contacted = true }
            let attachedAt = attachedSince(id)
            if problem == nil, let attachedAt {
                if attachedAt != removalsFor || Clock.now() >= nextRemovals {
                    removalsFor = attachedAt
                    removeSuperseded(from: id, url: url, client: client)
                    nextRemovals = Clock.now() + Self.removalInterval
                }
            }
            if let problem, problem != lastProblem {
                let state = members.withLock { $0[id]?.state }
                if state == .refused {
                    logger.error("agent \(url): \(problem)")
                } else {
                    logger.warning("agent \(url): \(problem)")
                }
            }
            lastProblem = problem
            // A down agent is looked at less often; a withdrawn one at once.
            let interval = problem == nil ? Self.healthInterval : Self.healthInterval * 3
            let deadline = Clock.now() + interval
            stopLock.withLock {
                while !stopping.load(ordering: .acquiring), Clock.now() < deadline,
                      !members.withLock({ m in m[id]?.checkNow ?? false }) {
                    stopLock.wait(until: deadline)
                }
            }
            members.withLock { $0[id]?.checkNow = false }
        }
        if isAttached(id) {
            _ = try? client.request(.detach(job: context.job), at: url, timeout: .seconds(3))
        }
    }

    /// One health check (and attach if needed); returns a problem to log, if any.
    private func check(_ id: NodeID, url: String, client: HTTPClient) -> String? {
        let health: HTTPClientResponse
        do {
            health = try client.request(.health, at: url, timeout: .seconds(3))
        } catch where error.isTLSProblem {
            return markDown(id, "not trusted: its TLS certificate does not verify (\(error.message)); give tls_ca (--tls-ca) the CA that signed it")
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
            m.reserveBytes = doc["reserve_bytes"]?.uint64Value ?? 0
            m.lastContact = Clock.now()
        }
        if jobs.contains(context.job), isAttached(id) { return nil }
        if isAttached(id) {
            // The agent no longer has the job: it restarted, or its data root changed. What
            // it holds now is in its listing.
            let released = engine.releaseLeases(of: id)
            logger.warning("agent \(url) no longer has the job (it restarted, or its data root changed); \(released) leased files go back to the queue")
            update(id) { $0.state = .connecting }
        }
        return attach(id, url: url, client: client)
    }

    /// The agent said no, and will say so again until someone changes it (a token, a
    /// destination in use or held by another source's copy): a permanent refusal.
    private func refuse(_ id: NodeID, _ problem: String) -> String {
        update(id) { m in
            m.state = .refused
            m.problem = problem
        }
        return problem
    }

    /// Why no agent can take work, naming each and its cause (for a run that ends on it).
    func whyNoAgent() -> String {
        let members = snapshot
        guard !members.isEmpty else { return "no agent is named or was found" }
        return members.map { m in
            let cause = m.problem ?? (m.contacted ? m.state.rawValue : "not contacted yet")
            return "\(m.name.map { "\($0) (\(m.url))" } ?? m.url): \(cause)"
        }.joined(separator: "; ")
    }

    /// Every agent was tried, and each refused the job: nobody will take the work
    /// unless an operator changes something (or another agent appears).
    var allRefused: Bool {
        let members = snapshot
        return !members.isEmpty && members.allSatisfy { $0.state == .refused }
    }

    private func markDown(_ id: NodeID, _ problem: String) -> String {
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

    /// Attaches the job, then seeds each target's tracker from what the agent already
    /// holds, and only then counts it attached: no work is leased to it before what it
    /// holds is known, and an agent that refuses the job (a destination in use, another
    /// source's copy there) is never taken for the holder of anything.
    private func attach(_ id: NodeID, url: String, client: HTTPClient) -> String? {
        let coordinatorURL = context.advertiseURL ?? client.localIP.map { ip in
            "\(context.scheme)://" + (ip.contains(":") ? "[\(ip)]" : ip) + ":\(port.load(ordering: .acquiring))"
        } ?? "\(context.scheme)://127.0.0.1:\(port.load(ordering: .acquiring))"
        let attachment = JobAttachment(
            job: context.job, coordinator: coordinatorURL, agent: id,
            targets: context.targets.indices.flatMap { n in
                engine.lanes(of: TargetIndex(n)).map { lane in
                    JobAttachment.Target(lane: lane, destination: context.targets[n].agentDestination,
                                         origin: context.origins.indices.contains(n) ? context.origins[n] : nil,
                                         replace: context.replace.indices.contains(n) && context.replace[n],
                                         exclusive: engine.placement(of: TargetIndex(n)).kind != .shared)
                }
            })
        let response: HTTPClientResponse
        do {
            response = try client.request(.attach, at: url, json: attachment.json, timeout: .seconds(10))
        } catch {
            return markDown(id, "not answering (\(error.message))")
        }
        switch response.status {
        case 200, 201:
            break
        case 401:
            return refuse(id, "refused our token (401); check that both use the same token file")
        case 500..., 429, 408:
            // Busy or not ready (a data root not mounted yet): it may answer later.
            return markDown(id, "cannot take the job now (\(response.status)): \(response.bodyText)")
        default:
            return refuse(id, "refused the job (\(response.status)): \(response.bodyText)")
        }
        var seeded = 0
        for (index, target) in context.targets.enumerated() {
            do {
                guard let entries = try AgentListingFetch.fetch(client, agentURL: url, destination: target.agentDestination,
                                                                verify: false, timeout: .seconds(600)) else { continue }  // nothing there yet
                seeded += engine.seed(TargetIndex(index), entries: entries, holder: id)
            } catch .unreachable(let message) {
                return markDown(id, "cannot list \(target.agentDestination) (\(message))")
            } catch .refused(401, _) {
                return refuse(id, "refused our token (401); check that both use the same token file")
            } catch .refused(let status, let message) {
                return refuse(id, "cannot list \(target.agentDestination): \(status) \(message)")
            } catch {
                return markDown(id, error.description)
            }
        }
        let places = (try? AttachAnswer(body: response.body))?.destinations ?? []
        update(id) { m in
            m.state = .attached
            m.problem = nil
            m.destinations = Dictionary(places.map { ($0.lane, $0.path) }, uniquingKeysWith: { a, _ in a })
            // Its transfers are about to ask: count it as pulling from now on.
            m.attachedAt = Clock.now()
        }
        let name = members.withLock { $0[id]?.name ?? url }
        logger.info("attached to agent \(name) at \(url) (it pulls from \(coordinatorURL))\(seeded > 0 ? "; it already holds \(seeded) files of this job" : "")")
        return nil
    }
}
