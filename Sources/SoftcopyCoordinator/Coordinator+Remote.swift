import Glibc
import Logging
import NIOCore
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

extension CoordinatorRun {
    struct RemoteSetupError: Error, CustomStringConvertible {
        var description: String
    }

    static let defaultLeaseTimeout: Duration = .seconds(30)

    /// Puts the job's agent API on the service's HTTP server, and starts the monitors that
    /// attach the job to each agent.
    func startRemote() throws(RemoteSetupError) {
        let settings = configuration.settings
        guard let http = controls.http else {
            throw RemoteSetupError(description: "the coordinator's HTTP server is not running (see the error above)")
        }
        let job = self.job
        let engine = self.engine!
        let leaseTimeout = settings.leaseTimeout ?? Self.defaultLeaseTimeout
        var context = AgentFleet.Context(job: job, targets: configuration.targets, token: http.token, advertiseURL: settings.advertiseURL,
                                         caFile: settings.tlsCA, scheme: http.server.scheme)
        context.origins = configuration.targets.map(origin(of:))
        context.replace = configuration.targets.map(configuration.replace)
        let fleet = AgentFleet(context: context, engine: engine, logger: logger)
        let reader = ChunkReader(ioPriority: configuration.ioPriority, rateLimiter: controls.rateLimiter, digests: digests,
                                 wireCompression: settings.wireCompression ?? .auto)
        let api = CoordinatorAPI(job: job, engine: engine, fleet: fleet, leaseTimeout: leaseTimeout, pool: http.api.pool,
                                 reader: reader, eventLoop: http.api.eventLoop, logger: logger)
        controls.surface.api.withLock { $0 = api }
        publishStatus(fleet: fleet, reader: reader)
        fleet.setPort(http.server.port)
        engine.onChange { [weak api] in api?.workMayBeReady() }
        // Several nodes: a key moved from one to another leaves a copy to remove.
        engine.tracksSuperseded = true
        if isRemote {
            engine.nodes = { fleet.placementNodes() }
        } else {
            // A local copy is one more node; agents that join share the work with it.
            updateLocalFreeBytes()
            engine.nodes = { [controls] in
                [PlacementNode(id: .local, name: "local", freeBytes: controls.localFreeBytes.load(ordering: .relaxed))] + fleet.placementNodes()
            }
        }
        remote = RemoteSide(job: job, fleet: fleet, api: api, token: http.token, caFile: settings.tlsCA)
        logger.info("agents pull job \(job) from \(http.server.scheme)://\(http.server.host):\(http.server.port)")
        for url in settings.agents ?? [] { fleet.add(url: url) }
        discovery?.feed(fleet)
        fleet.open()
    }

    /// What the service's server shows of this job: its status document and metrics,
    /// read on NIO's threads from what each archive shares (not from `remote`, which
    /// this thread sets after the API is reachable).
    func publishStatus(fleet: AgentFleet?, reader: ChunkReader? = nil) {
        let (job, engine, targets) = (self.job, self.engine!, runtimes.map(\.status))
        controls.surface.publish(
            status: { Self.statusDocument(job: job, targets: targets, engine: engine, fleet: fleet) },
            metrics: { Self.metrics(job: job, targets: targets, engine: engine, fleet: fleet, reader: reader) })
    }

    /// Free space at the first local destination, for placement (refreshed each second).
    func updateLocalFreeBytes() {
        guard let destination = runtimes.first?.destination else { return }
        controls.localFreeBytes.store(destination.space().free, ordering: .relaxed)
    }

    func stopRemote() {
        guard let remote else { return }
        discovery?.stopFeeding(remote.fleet)
        remote.fleet.stop()
    }

    /// The listing of the target's destination on every attached agent, by agent: the
    /// end check compares each file with the listing of the agent that holds it.
    func agentListings(_ runtime: TargetRuntime) -> [NodeID: [RelativePath: ListingEntry]] {
        guard let remote else { return [:] }
        let members = remote.fleet.snapshot.filter { $0.state == .attached }
        let (token, caFile, destination, verify) = (remote.token, remote.caFile, runtime.spec.agentDestination, configuration.verifyFull)
        // Each agent lists its own disks: side by side, the end waits for the slowest
        // listing rather than for all of them in turn.
        let fetched = Parallel.map(members.count) { i throws(AgentListingFetch.Failure) -> [RelativePath: ListingEntry] in
            let client = HTTPClient(token: token, caFile: caFile)
            let entries = try AgentListingFetch.fetch(client, agentURL: members[i].url, destination: destination,
                                                      verify: verify, timeout: .seconds(3600)) ?? []
            var byPath = [RelativePath: ListingEntry](minimumCapacity: entries.count)
            for entry in entries where !entry.isDirectory { byPath[entry.path] = entry }
            return byPath
        }
        var result: [NodeID: [RelativePath: ListingEntry]] = [:]
        for (member, listing) in zip(members, fetched) {
            switch listing {
            case .success(let byPath): result[member.id] = byPath
            case .failure(let error): logger.warning("cannot get the listing of \(destination) from agent \(member.url): \(error)")
            }
        }
        return result
    }

    /// Writes the manifest to every attached agent, under the target's destination, and
    /// beside it the checksum list of the files that agent holds; the names of the agents
    /// that stored the manifest.
    func sendManifestToAgents(_ runtime: TargetRuntime, _ manifest: Manifest) -> [(id: NodeID, name: String)] {
        guard let remote else { return [] }
        let client = HTTPClient(token: remote.token, caFile: remote.caFile)
        let entries = Self.manifestEntries(manifest)
        var written: [(id: NodeID, name: String)] = []
        let lane = runtime.lane.description
        // On a shared filesystem every agent writes the same folder: the whole list, once.
        let sharedLists = configuration.placement(for: runtime.spec).kind == .shared ? checksumLists(runtime, manifest.verdict, holder: nil) : nil
        for member in remote.fleet.snapshot where member.state == .attached {
            // What each agent stores names where the copy is there.
            var theirs = manifest
            theirs.destination = member.destinations[runtime.lane] ?? "\(runtime.spec.agentDestination) under the root of \(member.name ?? member.url)"
            let body = theirs.bytes(entries: entries)
            do {
                let response = try client.request(.manifest(job: remote.job, lane: lane), at: member.url, body: body, timeout: .seconds(60))
                guard response.status == 200 else {
                    logger.warning("agent \(member.url) did not store the manifest: \(response.status) \(response.bodyText)")
                    continue
                }
                written.append((member.id, member.name ?? member.url))
                for (algorithm, list) in sharedLists ?? checksumLists(runtime, manifest.verdict, holder: member.id) {
                    let stored = try client.request(.checksums(job: remote.job, lane: lane, algorithm: algorithm), at: member.url, body: list,
                                                    contentType: "text/plain", timeout: .seconds(60))
                    if stored.status != 200 {
                        logger.warning("agent \(member.url) did not store the \(algorithm.rawValue) checksum list: \(stored.status) \(stored.bodyText)")
                    }
                }
            } catch {
                logger.warning("cannot send the manifest to agent \(member.url): \(error)")
            }
        }
        if written.isEmpty { logger.error("no agent stored the manifest of \(runtime.spec.agentDestination)") }
        return written
    }

    /// A job's status document (in `GET /v1/status` and `GET /v1/jobs/{job}`): each
    /// archive's files and bytes, and the agents.
    static func statusDocument(job: String, targets: [TargetStatusSource], engine: Engine, fleet: AgentFleet?) -> JSONValue {
        let now = Clock.now()
        let targets: [JSONValue] = targets.map { target in
            let progress = engine.peek(target.lane) { $0.tracker.progress(now: now) }
            let c = progress.counters
            return .object([
                ("index", .integer(target.index.rawValue)), ("source", .string(target.source)),
                ("destination", .string(target.destination)),
                ("placement", .string(target.placement)),
                ("placement_problem", target.problem.withLock { $0 }.map { .string($0.message) } ?? .null),
                ("phase", .string(progress.phase == .live ? "live" : "final")),
                ("files_present", .integer(c.seenFiles)), ("files_done", .integer(c.doneFiles)),
                ("bytes_present", .integer(c.seenBytes)), ("bytes_done", .integer(c.doneBytes)),
                ("in_flight", .integer(c.inFlight)), ("failed", .integer(c.failedFiles)),
                ("retrying", .integer(c.retryingFiles)),
                // Present, not yet durable, not under way and not given up on.
                ("pending", .integer(max(0, c.seenFiles - c.doneFiles - c.inFlight - c.failedFiles))),
                ("copied_files", .integer(progress.statistics.copiedFiles)),
                ("copied_bytes", .integer(progress.statistics.copiedBytes)),
                // Of this target's first copy (as copied_bytes): 1 when every file went once.
                ("amplification", Amplification.ratio(copiedBytes: progress.statistics.copiedBytes, archiveBytes: c.seenBytes).map { .number(format3($0)) } ?? .null),
                ("expired_leases", .integer(progress.statistics.expiredLeases)),
                ("source_removal", target.removal.withLock { $0 }?.json() ?? .null),
                // Nodes that may hold copies of this archive's keys the record does not name.
                ("superseded", .array(engine.supersededCopies(target.index).map { node, paths in
                    .object([("node", .string(node.isLocal ? "local" : fleet?.label(of: node) ?? "agent \(node.rawValue)")), ("files", .integer(paths.count))])
                })),
            ])
        }
        let agents: [JSONValue] = (fleet?.snapshot ?? []).map { m in
            .object([
                ("id", .integer(m.id.rawValue)), ("url", .string(m.url)), ("name", m.name.map { .string($0) } ?? .null),
                ("state", .string(m.state.rawValue)),
                ("seconds_since_contact", m.lastContact.map { .number(String(format3((now - $0).secondsValue))) } ?? .null),
                ("free_bytes", m.freeBytes.map { .integer($0) } ?? .null),
                ("total_bytes", m.totalBytes.map { .integer($0) } ?? .null),
                ("files_acked", .integer(m.filesAcked)), ("bytes_acked", .integer(m.bytesAcked)),
                ("problem", m.problem.map { .string($0) } ?? .null),
            ])
        }
        return .object([
            ("softcopy", .string(SoftcopyVersion.string)), ("job", .string(job)),
            ("targets", .array(targets)), ("agents", .array(agents)),
        ])
    }
}

private func format3(_ x: Double) -> String {
    let milli = Int((x * 1000).rounded())
    let frac = String(milli % 1000)
    return "\(milli / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
}
