import Glibc
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
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
    let jobs = Mutex<[String: CopyJob]>([:])
    /// Serialises attaches: checking that a destination is free and taking it are one step.
    private let attaching = Mutex(())
    private let rootCheckRunning = Atomic(false)
    /// Set by `stop`: no job is attached from then on (a coordinator that sees its job
    /// gone would attach it again while the server still answers).
    private let stopping = Atomic(false)
    let keyLocks = KeyLocks()
    /// One data root, one filesystem: every job's transfers share its free space.
    private let reservations = SpaceReservations()
    let records: RecordCache
    /// The read view's own threads: readers never hold up the copy's control requests.
    let viewPool = NIOThreadPool(numberOfThreads: 16)
    let viewClients: ClientPool<HTTPClient>
    let manifests = ManifestCache()
    /// With an object store: its clients, and what this process stored there.
    let objectClients: ClientPool<S3Client>?
    let objectRecords = ObjectRecords()
    /// With a bucket quota: what the prefix holds.
    let bucketUsage: BucketUsage?
    private let server = Mutex<HTTPServer?>(nil)
    private let advertiser = Mutex<AgentAdvertiser?>(nil)
    /// Wall-clock time this agent started (temp files older than this are leftovers).
    private let startedWall = Clock.wallTimestamp()
    private let startedWallNanoseconds: Int64 = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }()

    /// Small chunks come many to a batch: each batch costs a lease, a bundle request, an
    /// ack and a syncfs at both ends (128 rather than 32 took 10% off 20,000 files of
    /// 16 KiB through one agent). Large ones are held to `batchBytes`.
    static let batchItems = 128
    static let batchBytes: UInt64 = 64 << 20

    public init(configuration: AgentConfiguration, logger: Logger) throws(SystemError) {
        self.configuration = configuration
        self.logger = logger
        self.dataRoot = try AgentRoot(path: configuration.root, requireMount: configuration.requireMount)
        self.records = RecordCache(capacity: configuration.rememberedRecords)
        self.viewClients = ClientPool { [token = configuration.token, ca = configuration.tlsCA] in HTTPClient(token: token, caFile: ca) }
        self.bucketUsage = configuration.objectStore?.quota.map { BucketUsage(quota: $0) }
        self.objectClients = configuration.objectStore.map { store in
            ClientPool { [ca = configuration.tlsCA] in
                S3Client(endpoint: store.endpoint, bucket: store.location.bucket,
                         credentials: .init(region: store.region, accessKey: store.credentials.accessKey, secretKey: store.credentials.secretKey), caFile: ca)
            }
        }
    }

    /// Binds the API; returns the port (useful with port 0).
    public func start() throws -> Int {
        abortLeftoverUploads(startedAt: startedWall)
        countBucketSoon()
        let tls = try configuration.tlsCertificate.map { certificate in
            try ServerTLS(certificateFile: certificate, keyFile: configuration.tlsKey ?? certificate)
        }
        let s = try HTTPServer(host: configuration.host, port: configuration.port, tls: tls, logger: logger) { pool, _ in
            AgentAPI(agent: self, pool: pool)
        }
        viewPool.start()
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

    /// Stops every job (transfers under way finish) and the server. Once: a second call
    /// returns at once (the server's event loops cannot be shut down twice).
    public func stop() {
        // Under the attach lock: an attach under way ends first, and none starts after.
        guard attaching.withLock({ _ in !stopping.exchange(true, ordering: .acquiringAndReleasing) }) else { return }
        advertiser.withLock { a -> AgentAdvertiser? in
            defer { a = nil }
            return a
        }?.stop()
        let running = jobs.withLock { j -> [CopyJob] in
            defer { j.removeAll() }
            return Array(j.values)
        }
        for job in running { job.stop() }
        server.withLock { $0 }?.shutdown()
        try? viewPool.syncShutdownGracefully()
    }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }

    // MARK: - The data root

    /// Checks the data root still is the folder its path leads to; if it was replaced
    /// (a filesystem mounted on it, the folder made again), it is reopened and every job
    /// under the old one ends: its coordinator attaches it again, to the new one.
    func checkRoot() {
        let ended: [CopyJob]
        if case .reopened(let message) = dataRoot.check() {
            logger.warning("\(message); the jobs under the old one end, and are attached again by their coordinators")
            ended = jobs.withLock { j -> [CopyJob] in
                defer { j.removeAll() }
                return Array(j.values)
            }
        } else {
            // A filesystem mounted on a job's destination itself (below the root) hides
            // its folder the same way: that job ends, and is attached again.
            ended = jobs.withLock { j -> [CopyJob] in
                let moved = j.values.filter { job in job.stores.values.contains { !$0.isWherePathLeads } }
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
    func withRoot(refusing: String? = nil, _ body: (DestinationTree) -> HTTPResponse) -> HTTPResponse {
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

    /// Where this agent's files go, for messages.
    var storeDescription: String {
        guard let store = configuration.objectStore else { return configuration.root }
        let quota = store.quota.map { "quota \(Quantity.formatBytes($0)), " } ?? ""
        return "\(store.location) (\(quota)staging \(configuration.root))"
    }

    func health() -> JSONValue {
        let (staging, stagingTotal) = space()
        let (free, total) = storeSpace()
        let rootState = dataRoot.report
        let list: [JSONValue] = jobs.withLock { Array($0.values) }.map { job in
            let c = job.snapshot
            return .object([
                ("job", .string(job.attachment.job)), ("coordinator", .string(job.attachment.coordinator)),
                ("agent", .integer(job.attachment.agent.rawValue)), ("state", .string(c.state)),
                ("files", .integer(c.files)), ("bytes", .integer(c.bytes)),
                ("deleted", .integer(c.deleted)), ("failures", .integer(c.failures)),
                ("batches_in_flight", .integer(c.batchesInFlight)),
            ])
        }
        return .object([
            ("softcopy", .string(SoftcopyVersion.string)), ("api", .integer(1)), ("role", .string("agent")),
            ("name", .string(configuration.name)), ("root", .string(configuration.root)),
            ("free_bytes", free.map { .integer($0) } ?? .null), ("total_bytes", total.map { .integer($0) } ?? .null),
            ("reserve_bytes", .integer(configuration.reserve)),
            ("store", .string(configuration.objectStore.map { "\($0.location)" } ?? "folder")),
            ("staging_free_bytes", .integer(staging)), ("staging_total_bytes", .integer(stagingTotal)),
            ("stored_bytes", bucketUsage?.stored.map { .integer($0) } ?? .null),
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
            attachment = try JobAttachment(body: request.bodyBytes)
        } catch {
            logger.warning("refused a job from \(request.remote): \(error)")
            return .error(.badRequest, error.message)
        }
        if let job = jobs.withLock({ $0[attachment.job] }) {
            return .json(Self.answer(job).json)
        }
        checkRoot()
        return withRoot(refusing: "job \(attachment.job) from \(request.remote)") { root in
            attaching.withLock { _ in
                stopping.load(ordering: .acquiring) ? .error(.serviceUnavailable, "the agent is stopping")
                    : attachOnce(attachment, root: root, from: request.remote)
            }
        }
    }

    /// The job that holds `destination` (or a folder above or below it), other than `job`.
    func holder(of destination: RelativePath, except job: String) -> CopyJob? {
        jobs.withLock { Array($0.values) }.first { other in
            other.attachment.job != job && other.destinations.values.contains { $0.isInside(destination) || destination.isInside($0) }
        }
    }

    /// One destination, one writer: checks every target's destination is free (a job whose
    /// coordinator is gone gives it up) and holds no other source's copy, then starts the job.
    private func attachOnce(_ attachment: JobAttachment, root: DestinationTree, from remote: String) -> HTTPResponse {
        var trees: [LaneID: DestinationTree] = [:]
        var destinations: [LaneID: RelativePath] = [:]
        var admissions: [LaneID: CopyOrigin.Admission] = [:]
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
                admissions[target.lane] = admission
            }
            trees[target.lane] = tree
            destinations[target.lane] = relative
        }
        // The lock files, as a local run takes them: a coordinator copying into the same
        // folder locally (not through this agent) is refused, and refuses this job.
        var locks: [DestinationLock] = []
        var locked: Set<RelativePath> = []
        for target in attachment.targets where target.exclusive {
            // A target's copies (replicas) share one destination: one lock.
            guard let tree = trees[target.lane], let relative = destinations[target.lane], locked.insert(relative).inserted else { continue }
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
            guard let tree = trees[target.lane] else { continue }
            if let origin = target.origin {
                switch admissions[target.lane] {
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
            // From now on the coordinator is this destination's read-view record.
            let run = ReadViewRun(job: attachment.job, coordinator: attachment.coordinator, lane: target.lane)
            do {
                try tree.writeWhole(ReadViewRun.relativePath, run.bytes)
            } catch {
                return .error(error.isTransient ? .serviceUnavailable : .forbidden, "cannot record the run under \(tree.rootPath): \(error)")
            }
        }
        let name = attachment.job
        let channel = HTTPWorkChannel(attachment: attachment, token: configuration.token, caFile: configuration.tlsCA, logger: logger)
        var settings = CopyJob.Settings(transfers: configuration.transfers, batchItems: Self.batchItems, batchBytes: Self.batchBytes,
                                        root: storeDescription, freeBytes: { [weak self] in self?.writableSpace() ?? 0 }, reserve: configuration.reserve)
        settings.reportedFreeBytes = { [weak self] in self?.storeSpace().free }
        settings.reservations = reservations
        settings.onWriteFailure = { [weak self] in self?.checkRootSoon() }
        var stores: [LaneID: any Store] = [:]
        for (lane, tree) in trees {
            if let settings = configuration.objectStore, let clients = objectClients, let relative = destinations[lane] {
                stores[lane] = ObjectStore(tree: tree, location: settings.location, destination: relative, clients: clients,
                                           records: objectRecords, usage: bucketUsage, keyLocks: keyLocks, multipartThreshold: settings.multipartThreshold)
            } else {
                stores[lane] = FolderStore(tree: tree, directIO: configuration.directIO, readBack: false, records: records, keyLocks: keyLocks)
            }
        }
        let job = CopyJob(attachment: attachment, stores: stores, destinations: destinations, locks: locks, channel: channel,
                          settings: settings, logger: logger) { [weak self] state in
            self?.jobs.withLock { j -> Void in j[name] = nil }
            self?.logger.info("job \(name) ended (\(state))")
        }
        jobs.withLock { $0[name] = job }
        job.start()
        // A bucket's destination is named by its objects' prefix; a folder's by its path.
        let described = attachment.targets.map { target in
            let place = (stores[target.lane] as? ObjectStore)?.displayPath(.root) ?? trees[target.lane]!.rootPath
            return "target \(target.lane) -> \(place)"
        }.joined(separator: ", ")
        logger.info("job \(name) attached by \(attachment.coordinator): \(described)")
        return .json(Self.answer(job).json)
    }

    /// Attached, with where each target's copy is here.
    private static func answer(_ job: CopyJob) -> AttachAnswer {
        AttachAnswer(job: job.attachment.job, attached: true,
                     destinations: job.stores.sorted { $0.key < $1.key }.map { .init(lane: $0.key, path: $0.value.displayPath(.root)) })
    }

    func detach(_ name: String) -> HTTPResponse {
        guard let job = jobs.withLock({ $0.removeValue(forKey: name) }) else {
            return .error(.notFound, "no job \(name) here")
        }
        job.stop()
        logger.info("job \(name) detached by its coordinator")
        return .json(AttachAnswer(job: name, attached: false).json)
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

    /// The records a coordinator stores with the copy at the end, each beside the other
    /// under the destination's state folder: where each goes, and what a valid one is.
    enum Record {
        case manifest
        case checksums(ChecksumAlgorithm)

        var path: RelativePath {
            switch self {
            case .manifest: Manifest.relativePath
            case .checksums(let algorithm): algorithm.listPath
            }
        }

        var name: String {
            switch self {
            case .manifest: "manifest"
            case .checksums(let algorithm): "\(algorithm.rawValue) checksum list"
            }
        }

        func isValid(_ body: [UInt8]) -> Bool {
            switch self {
            case .manifest: (try? JSONParser.validate(bytes: body)) != nil
            case .checksums(let algorithm): ChecksumList.isValid(body, algorithm: algorithm)
            }
        }

        /// What a body refused with 400 is not.
        var expected: String {
            switch self {
            case .manifest: "valid JSON"
            case .checksums(let algorithm): "lines of \(algorithm.hexDigits) hex digits, two spaces and a relative path"
            }
        }
    }

    func store(_ record: Record, job name: String, target: String, body: [UInt8]) -> HTTPResponse {
        guard let job = jobs.withLock({ $0[name] }) else { return .error(.notFound, "no job \(name) here") }
        guard let index = Int(target), let store = job.stores[LaneID(index)] else { return .error(.notFound, "job \(name) has no target \(target)") }
        guard record.isValid(body) else { return .error(.badRequest, "the \(record.name) is not \(record.expected)") }
        do {
            try store.put(record.path, body)
            // The run's manifest is here: it is the read view's record from now on. The
            // run's note is this node's own state, under the root whatever the store.
            if case .manifest = record, let destination = job.destinations[LaneID(index)], case .success(let root) = dataRoot.current() {
                _ = try root.remove(destination.appending(ReadViewRun.relativePath), syncDirectory: false)
            }
        } catch {
            return .error(error.isTransient ? .serviceUnavailable : .forbidden, "cannot write the \(record.name) \(store.displayPath(record.path)): \(error)")
        }
        return .json(ManifestStored(stored: store.displayPath(record.path)).json)
    }
}
