import Logging
import Synchronization
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// One coordinator's job at this agent: `transfers` threads, each with its own keep-alive
/// connection, that lease a batch (long-polled), fetch it (small files several to a
/// request), make it durable together (a group commit: one syncfs once all its files
/// have arrived, the renames, one syncfs for the renames), and only then ack it.
final class AgentJob: Sendable {
    let attachment: JobAttachment
    /// Each target's tree under the agent's root, by target index.
    let trees: [Int: DestinationTree]
    /// Where each target's tree is under the root: the destinations this job holds.
    let destinations: [Int: RelativePath]
    let attachedAt = Clock.now()
    /// The data root (for messages), its free bytes as held open, and the free space
    /// chunks may not take it below.
    let root: String
    let freeBytes: @Sendable () -> UInt64
    let reserve: UInt64
    /// Called when a write failed: the agent checks its root is still where the path leads.
    let onWriteFailure: @Sendable () -> Void
    let reservations: SpaceReservations
    private let token: String?
    /// CAs an https coordinator's certificate must chain to; nil: the system's.
    private let caFile: String?
    private let transfers: Int
    private let directIO: Bool
    private let keyLocks: KeyLocks
    private let records: RecordCache
    private let logger: Logger
    private let stopping = Atomic(false)
    private let threads = Mutex<[OSThread]>([])
    /// The destinations' lock files, held while the job runs (see `JobAttachment.Target.exclusive`).
    private let locks: Mutex<[DestinationLock]>
    private let counters = Mutex(Counters())
    /// Called once when the job ends by itself (finished, gone, coordinator lost).
    private let onEnd: @Sendable (String) -> Void

    struct Counters: Sendable {
        var files: UInt64 = 0
        var bytes: UInt64 = 0
        var deleted: UInt64 = 0
        var failures: UInt64 = 0
        /// Leased batches being fetched or committed: a file may still land from these.
        var batchesInFlight = 0
        var state = "running"
        /// Since when the coordinator has not answered (nil while it answers).
        var unansweredSince: MonotonicInstant?
    }

    /// Small chunks come many to a batch: each batch costs a lease, a bundle request, an
    /// ack and a syncfs at both ends (128 rather than 32 took 10% off 20,000 files of
    /// 16 KiB through one agent). Large ones are held to `batchBytes`.
    static let batchItems = 128
    static let batchBytes: UInt64 = 64 << 20
    static let longPoll: Duration = .seconds(20)
    /// Each transfer thread's `ChunkWriter`: a typical chunk in one write.
    static let writeBufferSize = 4 << 20
    /// A coordinator unreachable this long has gone for good; its job is dropped.
    static let abandonAfter: Duration = .seconds(600)

    init(attachment: JobAttachment, trees: [Int: DestinationTree], destinations: [Int: RelativePath], locks: [DestinationLock], token: String?, caFile: String?, transfers: Int,
         root: String, freeBytes: @escaping @Sendable () -> UInt64, reserve: UInt64, reservations: SpaceReservations, directIO: Bool,
         keyLocks: KeyLocks, records: RecordCache, logger: Logger, onWriteFailure: @escaping @Sendable () -> Void,
         onEnd: @escaping @Sendable (String) -> Void) {
        self.freeBytes = freeBytes
        self.onWriteFailure = onWriteFailure
        self.attachment = attachment
        self.root = root
        self.reserve = reserve
        self.reservations = reservations
        self.directIO = directIO
        self.trees = trees
        self.destinations = destinations
        self.locks = Mutex(locks)
        self.token = token
        self.caFile = caFile
        self.transfers = max(1, transfers)
        self.keyLocks = keyLocks
        self.records = records
        self.logger = logger
        self.onEnd = onEnd
    }

    var snapshot: Counters { counters.withLock { $0 } }

    func start() {
        let started = (0..<transfers).map { n in OSThread(name: "sc-pull-\(n)") { [self] in pull() } }
        threads.withLock { $0 = started }
    }

    /// Stops pulling; transfers under way finish first.
    func stop() {
        stopping.store(true, ordering: .releasing)
        locks.withLock { $0.removeAll() }
        let running = threads.withLock { t -> [OSThread] in
            defer { t.removeAll() }
            return t
        }
        for thread in running where !thread.isCurrent { thread.join() }
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// Whether this job's coordinator is gone: the job has ended, its pulls get no
    /// answer, or the coordinator at its address runs another job now (it restarted). A
    /// new coordinator may take the destinations of such a job, and of no other.
    func isAbandoned() -> Bool {
        let c = snapshot
        if c.state != "running" || c.unansweredSince != nil { return true }
        let client = HTTPClient(token: token, caFile: caFile)
        guard let health = try? client.request(.health, at: attachment.coordinator, timeout: .seconds(3)) else { return true }
        guard health.status == 200, let doc = try? JSONParser.parse(bytes: health.body) else { return true }
        return doc["job"]?.stringValue != attachment.job
    }

    private func end(_ state: String) {
        let first = counters.withLock { c -> Bool in
            guard c.state == "running" else { return false }
            c.state = state
            return true
        }
        stopping.store(true, ordering: .releasing)
        locks.withLock { $0.removeAll() }
        if first { onEnd(state) }
    }

    private func pull() {
        let client = HTTPClient(token: token, caFile: caFile)
        let transfer = AgentTransfer(coordinator: attachment.coordinator, job: attachment.job, client: client, keyLocks: keyLocks,
                                     records: records, root: root, freeBytes: freeBytes, reserve: reserve, reservations: reservations,
                                     writer: ChunkWriter(capacity: Self.writeBufferSize), directIO: directIO, logger: logger)
        let request = LeaseRequest(agent: attachment.agent, maxItems: Self.batchItems, maxBytes: Self.batchBytes,
                                   waitMilliseconds: Int(Self.longPoll.secondsValue * 1000))
        var backoff = Backoff()
        while !isStopping {
            let response: HTTPClientResponse
            do {
                // A long poll holds nothing: `stop` need not wait up to 20 s for its answer.
                client.isCancelled = { [weak self] in self?.isStopping ?? true }
                defer { client.isCancelled = nil }
                response = try client.request(.lease(job: attachment.job), at: attachment.coordinator, json: request.json, timeout: Self.longPoll + .seconds(15))
                counters.withLock { $0.unansweredSince = nil }
            } catch {
                if isStopping { break }
                counters.withLock { $0.unansweredSince = $0.unansweredSince ?? Clock.now() }
                if backoff.failingFor > Self.abandonAfter {
                    logger.error("coordinator \(attachment.coordinator) unreachable for \(Int(Self.abandonAfter.secondsValue)) s; dropping job \(attachment.job)")
                    end("abandoned")
                    return
                }
                if backoff.attempts == 0 { logger.warning("cannot reach coordinator \(attachment.coordinator): \(error.message); retrying") }
                backoff.wait(unless: { isStopping })
                continue
            }
            switch response.status {
            case 200: break
            case 410:
                end("gone")
                return
            default:
                logger.error("coordinator \(attachment.coordinator) refused a lease (\(response.status)): \(response.bodyText)")
                if response.status == 401 || response.status == 403 {
                    end("refused")
                    return
                }
                backoff.wait(unless: { isStopping })
                continue
            }
            backoff.reset()
            let grant: LeaseGrant
            do {
                grant = try LeaseGrant(json: try ProtocolError.parseBody(response.body, what: "the lease grant"))
            } catch {
                logger.error("coordinator \(attachment.coordinator) sent a lease grant that does not parse: \(error)")
                backoff.wait(unless: { isStopping })
                continue
            }
            if grant.finished {
                end("finished")
                return
            }
            if !grant.items.isEmpty {
                if perform(grant.items, transfer: transfer, client: client) == .jobGone {
                    end("gone")
                    return
                }
            }
        }
    }

    private enum BatchResult { case acked, jobGone }

    /// Fetches the batch's small copies in bundles, one request for many files. A result
    /// per item, by position; nil for items to fetch alone.
    private func fetchBundles(_ items: [LeaseGrant.Item], transfer: AgentTransfer) -> [AgentTransfer.Result?] {
        var results: [AgentTransfer.Result?] = Array(repeating: nil, count: items.count)
        var bundle: [Int] = []
        var bytes: UInt64 = 0
        func send() {
            defer {
                bundle.removeAll()
                bytes = 0
            }
            guard bundle.count > 1 else { return }  // one file alone goes by sendfile
            for (index, result) in zip(bundle, transfer.performBundle(bundle.map { items[$0] }, trees: trees)) {
                results[index] = result
            }
        }
        for (index, item) in items.enumerated()
        where item.operation == .copy && item.size <= BundleRequest.fileLimit && trees[item.target] != nil {
            if bytes + item.size > BundleRequest.bundleLimit || bundle.count == BundleRequest.maximumItems { send() }
            bundle.append(index)
            bytes += item.size
        }
        send()
        return results
    }

    private func perform(_ items: [LeaseGrant.Item], transfer: AgentTransfer, client: HTTPClient) -> BatchResult {
        var entries: [AckReport.Entry] = []
        var changed: [Int: Set<RelativePath>] = [:]
        var staged: [Int: [(slot: Int, download: AgentTransfer.StagedDownload)]] = [:]
        counters.withLock { $0.batchesInFlight += 1 }
        let bundled = fetchBundles(items, transfer: transfer)
        for (item, fromBundle) in zip(items, bundled) {
            guard let tree = trees[item.target] else {
                entries.append(.init(target: item.target, path: item.path, lease: item.lease,
                                     outcome: .failed(message: "target \(item.target) is not part of this job at the agent", transient: false)))
                continue
            }
            switch fromBundle ?? transfer.perform(item, tree: tree) {
            case .done(let outcome, let directory):
                entries.append(.init(target: item.target, path: item.path, lease: item.lease, outcome: outcome))
                if let directory { changed[item.target, default: []].insert(directory) }
            case .staged(let download):
                staged[item.target, default: []].append((entries.count, download))
                entries.append(.init(target: item.target, path: item.path, lease: item.lease, outcome: .sourceVanished))
            case .stale: continue
            case .jobGone:
                counters.withLock { $0.batchesInFlight -= 1 }
                return .jobGone  // staged temp files are removed as they drop
            }
        }
        // Each tree's files are synced together (their writeback started as each arrived),
        // then renamed, then the renames are made durable, before the coordinator hears.
        for target in Set(staged.keys).union(changed.keys) {
            guard let tree = trees[target] else { continue }
            let files = staged[target] ?? []
            let (outcomes, failed) = transfer.commit(files.map(\.download), tree: tree, removals: changed[target] ?? [])
            for ((slot, _), outcome) in zip(files, outcomes) {
                entries[slot].outcome = outcome
            }
            for (directory, error) in failed {
                logger.warning("cannot make \(error) durable; those files will be sent again")
                for slot in entries.indices where entries[slot].target == target {
                    entries[slot].outcome = entries[slot].outcome.unsynced(directory, at: entries[slot].path, because: error.description)
                }
            }
        }
        // A write that failed for another reason than room may mean the root is gone or
        // was replaced under the agent: it looks.
        if entries.contains(where: { if case .failed(let message, _) = $0.outcome { !message.contains("(507)") } else { false } }) {
            onWriteFailure()
        }
        counters.withLock { c in
            c.batchesInFlight -= 1
            for e in entries {
                switch e.outcome {
                case .copied(_, _, _, let n):
                    c.files += 1
                    c.bytes &+= n
                case .deleted: c.deleted += 1
                case .failed: c.failures += 1
                default: break
                }
            }
        }
        guard !entries.isEmpty else { return .acked }
        let report = AckReport(agent: attachment.agent, entries: entries, freeBytes: freeBytes())
        var backoff = Backoff()
        for _ in 0..<8 {
            do {
                let response = try client.request(.ack(job: attachment.job), at: attachment.coordinator, json: report.json, timeout: .seconds(30))
                if response.status == 200 { return .acked }
                if response.status == 410 { return .jobGone }
                logger.warning("coordinator refused an ack (\(response.status)): \(response.bodyText)")
                if response.status < 500 { return .acked }
            } catch {
                logger.warning("cannot ack to \(attachment.coordinator): \(error.message)")
            }
            backoff.wait(unless: { isStopping })
            if isStopping { break }
        }
        // The files are durable and carry their record; a later listing tells the coordinator.
        return .acked
    }
}

/// Exponential backoff with jitter, for talking to a coordinator that is away.
struct Backoff {
    private(set) var attempts = 0
    private var firstFailure: MonotonicInstant?
    static let base: Duration = .milliseconds(250)
    static let cap: Duration = .seconds(5)

    var failingFor: Duration {
        firstFailure.map { Clock.now() - $0 } ?? .zero
    }

    mutating func reset() {
        attempts = 0
        firstFailure = nil
    }

    /// Sleeps the next delay in small steps, returning early once `stop()` says so.
    mutating func wait(unless stop: () -> Bool) {
        if firstFailure == nil { firstFailure = Clock.now() }
        let exponential = Self.base.secondsValue * Double(1 << min(attempts, 10))
        let delay = min(Self.cap.secondsValue, exponential) * Double.random(in: 0.5..<1.5)
        attempts += 1
        let deadline = Clock.now() + .secondsValue(delay)
        while Clock.now() < deadline, !stop() {
            Clock.sleep(.milliseconds(50))
        }
    }
}
