import Glibc
public import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
public import SoftcopyIO

/// A storage node: serves its HTTP API, and for each job a coordinator attaches, pulls
/// that job's work and writes it under the data root.
public final class Agent: Sendable {
    public let configuration: AgentConfiguration
    let logger: Logger
    /// The data root, and the check that its path still leads to it.
    let dataRoot: AgentRoot
    private let jobs = Mutex<[String: AgentJob]>([:])
    /// Serialises attaches: checking that a destination is free and taking it are one step.
    private let attaching = Mutex(())
    private let rootCheckRunning = Atomic(false)
    private let keyLocks = KeyLocks()
    /// One data root, one filesystem: every job's transfers share its free space.
    private let reservations = SpaceReservations()
    private let records: RecordCache
    private let server = Mutex<HTTPServer?>(nil)
    private let advertiser = Mutex<AgentAdvertiser?>(nil)
    /// Wall-clock time this agent started (temp files older than this are leftovers).
    private let startedWallNanoseconds: Int64 = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }()

    public init(configuration: AgentConfiguration, logger: Logger) throws(SystemError) {
        self.configuration = configuration
        self.logger = logger
        self.dataRoot = try AgentRoot(path: configuration.root, requireMount: configuration.requireMount)
        self.records = RecordCache(capacity: configuration.rememberedRecords)
    }

    /// Binds the API; returns the port (useful with port 0).
    public func start() throws -> Int {
        let tls = try configuration.tlsCertificate.map { certificate in
            try ServerTLS(certificateFile: certificate, keyFile: configuration.tlsKey ?? certificate)
        }
        let s = try HTTPServer(host: configuration.host, port: configuration.port, tls: tls, logger: logger) { pool, _ in
            AgentAPI(agent: self, pool: pool)
        }
        server.withLock { $0 = s }
        if configuration.advertise {
            do {
                let a = try AgentAdvertiser(configuration: configuration, port: s.port, logger: logger) { [weak self] in self?.space() ?? (0, 0) }
                advertiser.withLock { $0 = a }
            } catch {
                logger.warning("not advertised through Avahi (\(error)); coordinators must name this agent with --agent")
            }
        }
        return s.port
    }

    /// Stops every job (transfers under way finish) and the server.
    public func stop() {
        advertiser.withLock { a -> AgentAdvertiser? in
            defer { a = nil }
            return a
        }?.stop()
        let running = jobs.withLock { j -> [AgentJob] in
            defer { j.removeAll() }
            return Array(j.values)
        }
        for job in running { job.stop() }
        server.withLock { $0 }?.shutdown()
    }

    // MARK: - The data root

    /// Checks the data root still is the folder its path leads to; if it was replaced
    /// (a filesystem mounted on it, the folder made again), it is reopened and every job
    /// under the old one ends: its coordinator attaches it again, to the new one.
    func checkRoot() {
        let ended: [AgentJob]
        if case .reopened(let message) = dataRoot.check() {
            logger.warning("\(message); the jobs under the old one end, and are attached again by their coordinators")
            ended = jobs.withLock { j -> [AgentJob] in
                defer { j.removeAll() }
                return Array(j.values)
            }
        } else {
            // A filesystem mounted on a job's destination itself (below the root) hides
            // its folder the same way: that job ends, and is attached again.
            ended = jobs.withLock { j -> [AgentJob] in
                let moved = j.values.filter { job in job.trees.values.contains { !$0.isWherePathLeads } }
                for job in moved { j[job.attachment.job] = nil }
                return moved
            }
            for job in ended {
                logger.warning("a destination of job \(job.attachment.job) now leads to another folder (a filesystem mounted on it, or made again); the job ends, and its coordinator attaches it again")
            }
        }
        // Gone from health at once; their threads finish what they are doing meanwhile
        // (a long poll lasts up to 20 s), where nobody waits for them.
        guard !ended.isEmpty else { return }
        OSThread(name: "sc-jobs-end") { for job in ended { job.stop() } }.detach()
    }

    /// Free and total bytes where the files go (the root as held open, checked first).
    func space() -> (free: UInt64, total: UInt64) {
        checkRoot()
        return heldSpace()
    }

    /// A write failed: the root is checked on a thread of its own (ending jobs joins their
    /// transfer threads, one of which is asking), one check at a time.
    func checkRootSoon() {
        guard rootCheckRunning.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        OSThread(name: "sc-root-check") { [self] in
            checkRoot()
            rootCheckRunning.store(false, ordering: .releasing)
        }.detach()
    }

    /// The root to serve a request under, or the 503 that says why there is none now
    /// (storage that may come: a coordinator tries again within its deadline); logged as
    /// a refusal of `refusing`, if given.
    private func withRoot(refusing: String? = nil, _ body: (DestinationTree) -> HTTPResponse) -> HTTPResponse {
        switch dataRoot.current() {
        case .success(let tree):
            return body(tree)
        case .failure(let problem):
            if let refusing { logger.warning("refused \(refusing): \(problem)") }
            return .error(.serviceUnavailable, problem.message)
        }
    }

    /// The same without the check, for transfers (which must not end jobs from inside).
    func heldSpace() -> (free: UInt64, total: UInt64) {
        (try? dataRoot.current().get())?.space() ?? (0, 0)
    }

    // MARK: - Health

    func health() -> JSONValue {
        let (free, total) = space()
        let rootState = dataRoot.report
        let list: [JSONValue] = jobs.withLock { Array($0.values) }.map { job in
            let c = job.snapshot
            return .object([
                ("job", .string(job.attachment.job)), ("coordinator", .string(job.attachment.coordinator)),
                ("agent", .integer(job.attachment.agent)), ("state", .string(c.state)),
                ("files", .integer(c.files)), ("bytes", .integer(c.bytes)),
                ("deleted", .integer(c.deleted)), ("failures", .integer(c.failures)),
                ("batches_in_flight", .integer(c.batchesInFlight)),
            ])
        }
        return .object([
            ("softcopy", .string(SoftcopyVersion.string)), ("api", .integer(1)), ("role", .string("agent")),
            ("name", .string(configuration.name)), ("root", .string(configuration.root)),
            ("free_bytes", .integer(free)), ("total_bytes", .integer(total)), ("reserve_bytes", .integer(configuration.reserve)),
            ("root_problem", rootState.problem.map { .string($0) } ?? .null), ("root_reopened", .integer(rootState.reopened)),
            ("root_reopened_at", rootState.lastReopen.map { .string($0) } ?? .null), ("require_mount", .bool(configuration.requireMount)),
            ("token_required", .bool(configuration.token != nil)), ("transfers", .integer(configuration.transfers)),
            ("jobs", .array(list)),
        ])
    }

    // MARK: - Jobs

    func attach(_ request: HTTPRequest) -> HTTPResponse {
        let attachment: JobAttachment
        do {
            attachment = try JobAttachment(json: try ProtocolError.parseBody(request.bodyBytes, what: "the attach request"))
        } catch {
            logger.warning("refused a job from \(request.remote): \(error)")
            return .error(.badRequest, error.message)
        }
        if jobs.withLock({ $0[attachment.job] }) != nil {
            return .json(.object([("job", .string(attachment.job)), ("attached", .bool(true))]))
        }
        checkRoot()
        return withRoot(refusing: "job \(attachment.job) from \(request.remote)") { root in
            attaching.withLock { _ in attachOnce(attachment, root: root, from: request.remote) }
        }
    }

    /// The job that holds `destination` (or a folder above or below it), other than `job`.
    private func holder(of destination: RelativePath, except job: String) -> AgentJob? {
        jobs.withLock { Array($0.values) }.first { other in
            other.attachment.job != job && other.destinations.values.contains { $0.isInside(destination) || destination.isInside($0) }
        }
    }

    /// One destination, one writer: checks every target's destination is free (a job whose
    /// coordinator is gone gives it up) and holds no other source's copy, then starts the job.
    private func attachOnce(_ attachment: JobAttachment, root: DestinationTree, from remote: String) -> HTTPResponse {
        var trees: [Int: DestinationTree] = [:]
        var destinations: [Int: RelativePath] = [:]
        var admissions: [Int: CopyOrigin.Admission] = [:]
        for target in attachment.targets {
            let relative: RelativePath
            do {
                relative = try JobAttachment.resolve(destination: target.destination, root: configuration.root)
            } catch {
                logger.warning("refused job \(attachment.job) from \(remote): \(error)")
                return .error(.badRequest, error.message)
            }
            if let other = holder(of: relative, except: attachment.job) {
                guard other.isAbandoned() else {
                    let since = Quantity.formatDuration(Clock.now() - other.attachedAt)
                    let message = "the destination \(target.destination) under \(configuration.root) is in use by job \(other.attachment.job) of the coordinator at \(other.attachment.coordinator) (attached \(since) ago); one destination takes one writer"
                    logger.warning("refused job \(attachment.job) from \(remote): \(message)")
                    return .error(.conflict, message)
                }
                jobs.withLock { _ = $0.removeValue(forKey: other.attachment.job) }
                other.stop()
                logger.info("job \(other.attachment.job) of \(other.attachment.coordinator) was abandoned (its coordinator is gone or runs another job); job \(attachment.job) takes \(target.destination)")
            }
            let tree: DestinationTree
            do {
                tree = try root.subtree(relative, create: true)
            } catch {
                logger.warning("refused job \(attachment.job) from \(remote): cannot use \(target.destination): \(error)")
                return .error(.forbidden, "cannot use the destination \(target.destination) under \(configuration.root): \(error)")
            }
            if let origin = target.origin {
                let admission = CopyOrigin.admit(origin, over: try? tree.origin(), replace: target.replace)
                if case .refuse(let existing) = admission {
                    let message = CopyOrigin.refusal(destination: "\(target.destination) under \(configuration.root) on \(configuration.name)", holds: existing, incoming: origin)
                    logger.warning("refused job \(attachment.job) from \(remote): \(message)")
                    return .error(.conflict, message)
                }
                admissions[target.index] = admission
            }
            trees[target.index] = tree
            destinations[target.index] = relative
        }
        // The lock files, as a local run takes them: a coordinator copying into the same
        // folder locally (not through this agent) is refused, and refuses this job.
        var locks: [DestinationLock] = []
        var locked: Set<RelativePath> = []
        for target in attachment.targets where target.exclusive {
            // A target's copies (replicas) share one destination: one lock.
            guard let tree = trees[target.index], let relative = destinations[target.index], locked.insert(relative).inserted else { continue }
            do {
                locks.append(try DestinationLock.acquire(tree, holder: "softcopy-agent \(configuration.name) (pid \(getpid())), job \(attachment.job) of the coordinator at \(attachment.coordinator)"))
            } catch .held(let holder) {
                let message = "the destination \(target.destination) under \(configuration.root) is in use by \(holder); one destination takes one writer"
                logger.warning("refused job \(attachment.job) from \(remote): \(message)")
                return .error(.conflict, message)
            } catch {
                return .error(.forbidden, "cannot lock the destination \(target.destination) under \(configuration.root): \(error)")
            }
        }
        for target in attachment.targets {
            guard let tree = trees[target.index] else { continue }
            if let origin = target.origin {
                switch admissions[target.index] {
                case .fresh?, .replace?:
                    do {
                        try tree.recordOrigin(origin)
                    } catch {
                        return .error(error.isTransient ? .serviceUnavailable : .forbidden, "cannot record the origin under \(tree.rootPath): \(error)")
                    }
                default:
                    break
                }
            }
            removeLeftoverTemporaries(tree)
        }
        let name = attachment.job
        let job = AgentJob(attachment: attachment, trees: trees, destinations: destinations, locks: locks, token: configuration.token, caFile: configuration.tlsCA, transfers: configuration.transfers,
                           root: configuration.root, freeBytes: { [weak self] in self?.heldSpace().free ?? 0 }, reserve: configuration.reserve,
                           reservations: reservations, directIO: configuration.directIO, keyLocks: keyLocks, records: records, logger: logger,
                           onWriteFailure: { [weak self] in self?.checkRootSoon() }) { [weak self] state in
            self?.jobs.withLock { j -> Void in j[name] = nil }
            self?.logger.info("job \(name) ended (\(state))")
        }
        jobs.withLock { $0[name] = job }
        job.start()
        let described = attachment.targets.map { "target \($0.index) -> \(trees[$0.index]!.rootPath)" }.joined(separator: ", ")
        logger.info("job \(name) attached by \(attachment.coordinator): \(described)")
        return .json(.object([("job", .string(name)), ("attached", .bool(true))]))
    }

    func detach(_ name: String) -> HTTPResponse {
        guard let job = jobs.withLock({ $0.removeValue(forKey: name) }) else {
            return .error(.notFound, "no job \(name) here")
        }
        job.stop()
        logger.info("job \(name) detached by its coordinator")
        return .json(.object([("job", .string(name)), ("attached", .bool(false))]))
    }

    /// Temp files of a crashed agent (another process id) in a job's destination.
    /// Removes temp files a crashed writer left: those last changed before this agent
    /// started. Newer ones belong to a transfer under way, here or (on a shared
    /// filesystem) on another agent.
    private func removeLeftoverTemporaries(_ tree: DestinationTree) {
        let ours = DestinationTree.temporaryPrefix + "\(getpid())-"
        var removed = 0
        try? tree.walk { path, entry in
            if entry.name.hasPrefix(DestinationTree.temporaryPrefix), !entry.name.hasPrefix(ours),
               let status = entry.status, status.version.mtimeNanoseconds < startedWallNanoseconds,
               (try? tree.remove(path, syncDirectory: false)) == true {
                removed += 1
            }
            return true
        }
        if removed > 0 { logger.info("removed \(removed) temp files of an interrupted run under \(tree.rootPath)") }
    }

    func storeManifest(job name: String, target: String, body: [UInt8]) -> HTTPResponse {
        guard let job = jobs.withLock({ $0[name] }) else { return .error(.notFound, "no job \(name) here") }
        guard let index = Int(target), let tree = job.trees[index] else { return .error(.notFound, "job \(name) has no target \(target)") }
        guard (try? JSONParser.validate(bytes: body)) != nil else { return .error(.badRequest, "the manifest is not valid JSON") }
        do {
            let pending = try tree.beginWrite(Manifest.relativePath)
            try pending.write(body)
            try pending.finish(mode: 0o644, modificationTime: nil)
            _ = try pending.commit(syncDirectory: true)
        } catch {
            return .error(error.isTransient ? .serviceUnavailable : .forbidden, "cannot write the manifest under \(tree.rootPath): \(error)")
        }
        return .json(.object([("stored", .string(tree.displayPath(Manifest.relativePath)))]))
    }

    // MARK: - Superseded copies

    /// `POST /v1/remove`: removes copies of keys whose current copy is elsewhere. The job
    /// that holds the destination may remove whatever is at a key (its coordinator knows
    /// the record names another node); without a job (`verify --repair`), only while no
    /// job holds the destination, and only the very copy the request names.
    func remove(_ request: HTTPRequest) -> HTTPResponse {
        let removal: RemovalRequest
        let relative: RelativePath
        do {
            removal = try RemovalRequest(json: try ProtocolError.parseBody(request.bodyBytes, what: "the removal request"))
            relative = try JobAttachment.resolve(destination: removal.destination, root: configuration.root)
        } catch {
            return .error(.badRequest, error.message)
        }
        let holder = holder(of: relative, except: "")
        if let job = removal.job {
            guard let holder, holder.attachment.job == job else {
                return .error(.conflict, "job \(job) does not hold \(removal.destination) here\(holder.map { " (job \($0.attachment.job) does)" } ?? "")")
            }
        } else if let holder {
            return .error(.conflict, "\(removal.destination) is in use by job \(holder.attachment.job) of the coordinator at \(holder.attachment.coordinator); that run removes superseded copies itself")
        }
        let tree: DestinationTree
        do {
            tree = try dataRoot.current().get().subtree(relative, create: false)
        } catch let problem as AgentRoot.RootProblem {
            return .error(.serviceUnavailable, problem.message)
        } catch let error as SystemError where error.isNotFound {
            return .json(RemovalReport(absent: removal.items.map(\.path)).json)
        } catch {
            return .error(.forbidden, "cannot open \(removal.destination) under \(configuration.root): \(error)")
        }
        // Without a job: not while anyone writes there, here or (a local run) elsewhere.
        var lock: DestinationLock?
        if removal.job == nil {
            do {
                lock = try DestinationLock.acquire(tree, holder: "softcopy-agent \(configuration.name) (pid \(getpid())), removing superseded copies for verify --repair")
            } catch {
                return .error(.conflict, "\(removal.destination) is in use: \(error)")
            }
        }
        defer { withExtendedLifetime(lock) {} }
        var report = RemovalReport()
        var unlinked: [RelativePath] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        for item in removal.items {
            let key = tree.displayPath(item.path)
            keyLocks.acquire(key)
            defer { keyLocks.release(key) }
            do {
                guard let fd = try tree.openForReading(item.path) else {
                    report.absent.append(item.path)
                    continue
                }
                let status = try fd.status()
                guard status.kind == .regular else {
                    report.kept.append(.init(path: item.path, reason: "not a regular file"))
                    continue
                }
                if let size = item.size, let checksum = item.checksum {
                    let recorded = WrittenRecord.current(on: fd, status: status)?.checksum
                    let current = try recorded ?? fd.checksum(buffer: buffer, path: key).checksum
                    guard status.version.size == size, current == checksum else {
                        report.kept.append(.init(path: item.path, reason: "it changed since it was listed"))
                        continue
                    }
                }
                if try tree.remove(item.path, syncDirectory: false) {
                    unlinked.append(item.path)
                } else {
                    report.absent.append(item.path)
                }
            } catch {
                report.kept.append(.init(path: item.path, reason: "\(error)"))
            }
        }
        // Durable before it is reported: a removal lost to a power cut would be a
        // superseded copy that nobody lists any more.
        let (durable, failed) = tree.syncRemovals(unlinked)
        report.removed = durable
        report.kept += failed.map { .init(path: $0.0, reason: "removed, but not durably: \($0.1)") }
        if !report.removed.isEmpty {
            logger.info("removed \(report.removed.count) superseded copies under \(tree.rootPath)\(removal.job.map { " for job \($0)" } ?? " (verify --repair)")")
        }
        return .json(report.json)
    }

    // MARK: - Listings and files

    func listing(_ request: HTTPRequest) -> HTTPResponse {
        let base: RelativePath
        do {
            if let destination = request.query["destination"] {
                base = try JobAttachment.resolve(destination: destination, root: configuration.root)
            } else {
                base = try Self.path(Array(request.components.dropFirst(2)))
            }
        } catch {
            return .error(.badRequest, error.message)
        }
        checkRoot()
        return withRoot { root in
            let builder = AgentListingBuilder(tree: root, checksums: request.queryFlag("checksums") || request.queryFlag("verify"),
                                              verify: request.queryFlag("verify"), records: records)
            do throws(SystemError) {
                if !base.isRoot {
                    // Refuses a symlink anywhere on the way, like every other path here.
                    _ = try root.openDirectory(base, create: false)
                }
                guard let listing = try builder.listing(base, recursive: request.queryFlag("recursive")) else {
                    return .error(.notFound, "\(base) is not a folder under \(configuration.root)")
                }
                return .json(pieces: listing)
            } catch where error.isNotFound {
                return .error(.notFound, "\(base) is not a folder under \(configuration.root)")
            } catch {
                return .error(.forbidden, "cannot list \(base): \(error)")
            }
        }
    }

    func file(_ components: [String]) -> HTTPResponse {
        let path: RelativePath
        do {
            path = try Self.path(components)
        } catch {
            return .error(.badRequest, error.message)
        }
        return withRoot { root in
            do throws(SystemError) {
                guard let fd = try root.openForReading(path) else { return .error(.notFound, "no file \(path) under \(configuration.root)") }
                let status = try fd.status()
                guard status.kind == .regular else { return .error(.notFound, "\(path) is not a file") }
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "application/octet-stream")
                if let record = WrittenRecord.current(on: fd, status: status) {
                    headers.add(name: SoftcopyHeaders.checksum, value: record.checksum.hex)
                    headers.add(name: SoftcopyHeaders.version, value: record.version.token)
                }
                let raw = fd.release()
                return HTTPResponse(status: .ok, headers: headers,
                                    body: .file(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: raw), offset: 0, length: Int(status.version.size)))
            } catch where error.isNotFound {
                return .error(.notFound, "no file \(path) under \(configuration.root)")
            } catch {
                return .error(.forbidden, "cannot open \(path): \(error)")
            }
        }
    }

    static func path(_ components: [String]) throws(ProtocolError) -> RelativePath {
        let joined = components.joined(separator: "/")
        do {
            return try RelativePath(validating: joined)
        } catch {
            throw ProtocolError("bad path \(joined.debugDescription): \(error)")
        }
    }
}
