package import Logging
import Synchronization
package import SoftcopyCore
package import SoftcopyIO

/// One job of copying, the same at an agent and in a coordinator without agents:
/// `transfers` threads, each with its own connection to the work (`WorkChannel`), that
/// lease a batch, fetch it (small files several to a request where the channel bundles),
/// make it durable together (a group commit: one syncfs once all its files have arrived,
/// the renames, one syncfs for the renames), and only then report it.
package final class CopyJob: Sendable {
    package let attachment: JobAttachment
    /// Each target's folder, by target (lane) index.
    package let stores: [LaneID: any Store]
    /// Where each target's tree is under the root: the destinations this job holds.
    let destinations: [LaneID: RelativePath]
    let attachedAt = Clock.now()
    let channel: any WorkChannel
    private let settings: Settings
    private let logger: Logger
    private let stopping = Atomic(false)
    private let threads = Mutex<[OSThread]>([])
    /// The destinations' lock files, held while the job runs (see `JobAttachment.Target.exclusive`).
    private let locks: Mutex<[DestinationLock]>
    private let counters = Mutex(Counters())
    /// Called once when the job ends by itself (finished, gone, coordinator lost).
    private let onEnd: @Sendable (String) -> Void

    package struct Settings: Sendable {
        var transfers: Int
        var batchItems: Int
        var batchBytes: UInt64
        /// Where the files go (for messages).
        var root: String
        /// The node a full disk is reported on.
        package var node = "this agent"
        /// Free bytes where the files go: the room a transfer may claim.
        var freeBytes: @Sendable () -> UInt64
        /// The room reported to the coordinator with each ack (nil: unbounded or unknown,
        /// a bucket without a quota); by default `freeBytes`.
        package var reportedFreeBytes: (@Sendable () -> UInt64?)?
        /// With a reserve, room is promised before each write (an agent's, which other
        /// nodes can take work from); nil: a write simply meets a full disk.
        var reserve: UInt64?
        package var reservations = SpaceReservations()
        /// Set on each transfer thread as it starts (the IO priority of a local copy).
        package var threadSetup: @Sendable () -> Void = {}
        /// Called when a write failed: an agent checks its root is still where the path leads.
        package var onWriteFailure: @Sendable () -> Void = {}
        /// Batches under way at once across the jobs of one coordinator (local copies).
        package var slots: TransferSlots?

        package init(transfers: Int, batchItems: Int, batchBytes: UInt64, root: String, freeBytes: @escaping @Sendable () -> UInt64, reserve: UInt64?) {
            self.transfers = max(1, transfers)
            self.batchItems = batchItems
            self.batchBytes = batchBytes
            self.root = root
            self.freeBytes = freeBytes
            self.reserve = reserve
        }
    }

    struct Counters: Sendable {
        var files: UInt64 = 0
        var bytes: UInt64 = 0
        var deleted: UInt64 = 0
        var failures: UInt64 = 0
        /// Leased batches being fetched or committed: a file may still land from these.
        var batchesInFlight = 0
        var state = "running"
    }

    /// Each transfer thread's `ChunkWriter`: a typical chunk in one write or read.
    static let writeBufferSize = 4 << 20

    package init(attachment: JobAttachment, stores: [LaneID: any Store], destinations: [LaneID: RelativePath], locks: [DestinationLock],
                 channel: any WorkChannel, settings: Settings, logger: Logger, onEnd: @escaping @Sendable (String) -> Void) {
        self.attachment = attachment
        self.stores = stores
        self.destinations = destinations
        self.locks = Mutex(locks)
        self.channel = channel
        self.settings = settings
        self.logger = logger
        self.onEnd = onEnd
    }

    var snapshot: Counters { counters.withLock { $0 } }

    package func start() {
        let started = (0..<settings.transfers).map { n in OSThread(name: "sc-copy-\(n)") { [self] in pull() } }
        threads.withLock { $0 = started }
    }

    /// Stops pulling; transfers under way finish first.
    package func stop() {
        stopping.store(true, ordering: .releasing)
        locks.withLock { $0.removeAll() }
        let running = threads.withLock { t -> [OSThread] in
            defer { t.removeAll() }
            return t
        }
        for thread in running where !thread.isCurrent { thread.join() }
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// Whether this job's coordinator is gone: the job has ended, or the channel says so.
    /// A new coordinator may take the destinations of such a job, and of no other.
    func isAbandoned() -> Bool {
        snapshot.state != "running" || channel.coordinatorIsGone()
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
        settings.threadSetup()
        let connection = channel.connect()
        let space = settings.reserve.map { ChunkTransfer.Space(free: settings.freeBytes, reserve: $0, reservations: settings.reservations) }
        let transfer = ChunkTransfer(connection: connection, root: settings.root, node: settings.node, space: space,
                                     writer: ChunkWriter(capacity: Self.writeBufferSize), logger: logger)
        let isStopping: @Sendable () -> Bool = { [weak self] in self?.isStopping ?? true }
        while !self.isStopping {
            switch connection.lease(maxItems: settings.batchItems, maxBytes: settings.batchBytes, isStopping: isStopping) {
            case .retry: continue
            case .end(let state):
                end(state)
                return
            case .items(let items):
                guard !items.isEmpty else { continue }
                settings.slots?.acquire()
                let performed = perform(items, transfer: transfer, connection: connection, isStopping: isStopping)
                settings.slots?.release()
                if !performed {
                    end("gone")
                    return
                }
            }
        }
    }

    /// Fetches the batch's small copies in bundles, one request for many files. A result
    /// per item, by position; nil for items to fetch alone.
    private func fetchBundles(_ items: [LeaseGrant.Item], transfer: ChunkTransfer) -> [ChunkTransfer.Result?] {
        var results: [ChunkTransfer.Result?] = Array(repeating: nil, count: items.count)
        var bundle: [Int] = []
        var bytes: UInt64 = 0
        func send() {
            defer {
                bundle.removeAll()
                bytes = 0
            }
            guard bundle.count > 1 else { return }  // one file alone goes by sendfile
            for (index, result) in zip(bundle, transfer.performBundle(bundle.map { items[$0] }, stores: stores)) {
                results[index] = result
            }
        }
        for (index, item) in items.enumerated()
        where item.operation == .copy && item.size <= BundleRequest.fileLimit && stores[item.lane] != nil {
            if bytes + item.size > BundleRequest.bundleLimit || bundle.count == BundleRequest.maximumItems { send() }
            bundle.append(index)
            bytes += item.size
        }
        send()
        return results
    }

    /// One batch: fetched, made durable, reported. False if the job is gone.
    private func perform(_ items: [LeaseGrant.Item], transfer: ChunkTransfer, connection: any WorkConnection,
                         isStopping: @escaping @Sendable () -> Bool) -> Bool {
        var entries: [AckReport.Entry] = []
        var changed: [LaneID: Set<RelativePath>] = [:]
        var staged: [LaneID: [(slot: Int, file: StagedWrite)]] = [:]
        counters.withLock { $0.batchesInFlight += 1 }
        let bundled = fetchBundles(items, transfer: transfer)
        for (item, fromBundle) in zip(items, bundled) {
            guard let store = stores[item.lane] else {
                entries.append(.init(lane: item.lane, path: item.path, lease: item.lease,
                                     outcome: .failed(message: "target \(item.lane) is not part of this job at the agent", transient: false)))
                continue
            }
            switch fromBundle ?? transfer.perform(item, store: store) {
            case .done(let outcome, let directory):
                entries.append(.init(lane: item.lane, path: item.path, lease: item.lease, outcome: outcome))
                if let directory { changed[item.lane, default: []].insert(directory) }
            case .staged(let file):
                staged[item.lane, default: []].append((entries.count, file))
                entries.append(.init(lane: item.lane, path: item.path, lease: item.lease, outcome: .sourceVanished))
            case .stale: continue
            case .jobGone:
                counters.withLock { $0.batchesInFlight -= 1 }
                return false  // staged temp files are removed as they drop
            }
        }
        // Each tree's files are synced together (their writeback started as each arrived),
        // then renamed, then the renames are made durable, before the coordinator hears.
        for target in Set(staged.keys).union(changed.keys) {
            guard let store = stores[target] else { continue }
            let files = staged[target] ?? []
            let (outcomes, failed, full) = store.commit(files.map(\.file), removals: changed[target] ?? [])
            if let full { connection.noSpace(full) }
            for ((slot, _), outcome) in zip(files, outcomes) {
                entries[slot].outcome = outcome
            }
            for (directory, error) in failed {
                logger.warning("cannot make \(error) durable; those files will be sent again")
                for slot in entries.indices where entries[slot].lane == target {
                    entries[slot].outcome = entries[slot].outcome.unsynced(directory, at: entries[slot].path, because: error.description)
                }
            }
        }
        // A write that failed for another reason than room may mean the root is gone or
        // was replaced under the agent: it looks.
        if entries.contains(where: { if case .failed(let message, _) = $0.outcome { !message.contains("(507)") } else { false } }) {
            settings.onWriteFailure()
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
        guard !entries.isEmpty else { return true }
        let free: UInt64? = if let reported = settings.reportedFreeBytes { reported() } else { settings.freeBytes() }
        return connection.report(entries, freeBytes: free, isStopping: isStopping)
    }
}
