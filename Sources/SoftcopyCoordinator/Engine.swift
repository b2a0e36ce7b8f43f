import Logging
import Synchronization
import SoftcopyCore
import SoftcopyIO

/// The coordinator's shared state: one tracker and one zarr hierarchy per archive and
/// copy ("lane": a target with `replicas: N` has N lanes, each tracking one copy of every
/// key, on distinct nodes), behind one lock. Lanes are numbered across all targets; the
/// HTTP API's target numbers are lane numbers. Watcher threads feed it source events, copy workers block in it for
/// work and report outcomes, and the main thread drives each archive's end. The lock is
/// only ever held for in-memory work; all file I/O happens outside it.
final class Engine: Sendable {
    struct TargetState {
        var tracker: ArchiveTracker
        var hierarchy = ZarrHierarchy()
        /// Metadata files that did not parse, with the reason (each version reported once).
        var malformedMetadata: [RelativePath: String] = [:]
        var started: MonotonicInstant
        /// When the running full scan began (for the log of how long it took).
        var scanStarted: MonotonicInstant?
    }

    /// The trackers and everything else that threads share, behind one lock.
    let state: ConditionLock<Shared>
    /// The target of each lane, and the lanes of each target (by raw value: a lane's
    /// number indexes `Shared.targets`, a target's the per-target arrays).
    let laneTarget: [TargetIndex]
    let targetLanes: [Range<Int>]
    let placements: [Placement]
    let logger: Logger
    let sourceRoots: [String]
    /// How each lane's source follows symbolic links.
    let sourceLinks: [SourceLinks]
    /// Retries are logged at most once per interval, with a count of the rest: a full
    /// disk would otherwise log one line per file per attempt.
    private let retryLog = Mutex(RetryLog())
    private struct RetryLog {
        var last: MonotonicInstant?
        var suppressed = 0
    }
    static let retryLogInterval: Duration = .seconds(10)

    /// `lanes[t]` holds target t's lanes (one per replica).
    init(lanes: [[TargetState]], placements: [Placement], sourceRoots: [String], sourceLinks: [SourceLinks], logger: Logger) {
        var flat: [TargetState] = []
        var laneTarget: [TargetIndex] = []
        var targetLanes: [Range<Int>] = []
        for (t, states) in lanes.enumerated() {
            targetLanes.append(flat.count..<(flat.count + states.count))
            flat += states
            laneTarget += Array(repeating: TargetIndex(t), count: states.count)
        }
        self.state = ConditionLock(Shared(
            targets: flat, seededFiles: Array(repeating: 0, count: lanes.count),
            superseded: Array(repeating: SupersededCopies(), count: lanes.count),
            laneTarget: laneTarget, targetLanes: targetLanes, placements: placements))
        self.laneCount = flat.count
        self.laneTarget = laneTarget
        self.targetLanes = targetLanes
        self.placements = placements
        self.sourceRoots = laneTarget.map { sourceRoots[$0.rawValue] }
        self.sourceLinks = laneTarget.map { sourceLinks[$0.rawValue] }
        self.logger = logger
    }

    func target(ofLane lane: LaneID) -> TargetIndex { laneTarget[lane.rawValue] }

    /// The lanes of `target`, one per copy; the first carries what all copies share.
    func lanes(of target: TargetIndex) -> [LaneID] { targetLanes[target.rawValue].map(LaneID.init) }

    func sourceRoot(ofLane lane: LaneID) -> String { sourceRoots[lane.rawValue] }

    func sourceLinks(ofLane lane: LaneID) -> SourceLinks { sourceLinks[lane.rawValue] }

    /// The nodes placement may give work to (see `Shared.nodes`).
    var nodes: @Sendable () -> [PlacementNode] {
        get { state.withLock { $0.nodes } }
        set { state.withLock { $0.nodes = newValue } }
    }

    /// Calls `handler` after every change from now on (see `Shared.changeHandlers`).
    func onChange(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.changeHandlers.append(handler) }
    }

    /// Whether copies a key's record stops naming are kept to remove (see `Shared.tracksSuperseded`).
    var tracksSuperseded: Bool {
        get { state.withLock { $0.tracksSuperseded } }
        set { state.withLock { $0.tracksSuperseded = newValue } }
    }

    /// Calls the change handlers, outside the lock.
    func changed() {
        for handler in state.withLock({ $0.changeHandlers }) { handler() }
    }

    /// Runs `body` on one lane's state under the lock, then wakes waiting workers.
    func withLaneState<T>(_ lane: LaneID, _ body: (inout TargetState) -> T) -> T {
        withLane(lane) { body(&$0.targets[lane.rawValue]) }
    }

    /// `withLaneState` for a change to `lane` that reaches beyond it (superseded copies).
    func withLane<T>(_ lane: LaneID, _ body: (inout Shared) -> T) -> T {
        let index = lane.rawValue
        let (result, notices) = state.withLock { s -> (T, [TrackerNotice]) in
            let result = body(&s)
            s.absorbDisplaced(index)
            return (result, s.targets[index].tracker.drainNotices())
        }
        state.broadcast()
        report(notices, lane: index)
        changed()
        return result
    }

    /// Reads one lane's state under the lock without waking anyone.
    func peek<T>(_ lane: LaneID, _ body: (TargetState) -> T) -> T {
        state.withLock { body($0.targets[lane.rawValue]) }
    }

    /// Fixed at start. Read without the lock: `targets.count` would retain the array while
    /// another thread mutates it in place under the lock, and that copy-on-write race
    /// crashed the coordinator (a bundle request's check against a lane mid-lease).
    let laneCount: Int

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    // MARK: - Work (worker threads)

    /// Blocks until there is work, and returns a batch from one archive; nil once shutting down.
    func nextWork(maxItems: Int, maxBytes: UInt64) -> (lane: LaneID, items: [WorkItem])? {
        var notices: [(Int, [TrackerNotice])] = []
        defer { for (i, n) in notices { report(n, lane: i) } }
        return state.waitFor { s in
            guard !s.shuttingDown else { return .done(nil) }
            let now = Clock.now()
            // Lease expiries and quiet periods end without a broadcast: look again by then.
            var nextDeadline = now + .seconds(1)
            if let found = s.lease(consumer: .local, maxItems: maxItems, maxBytes: maxBytes, ttl: nil, now: now,
                                   nextDeadline: &nextDeadline, notices: &notices) {
                return .done(found)
            }
            return .wait(until: nextDeadline)
        }
    }

    /// A batch for a remote consumer from one archive, without waiting; nil if nothing
    /// is ready now. Leases expire after `ttl` if the agent goes silent.
    func lease(consumer: NodeID, maxItems: Int, maxBytes: UInt64, ttl: Duration) -> (lane: LaneID, items: [WorkItem])? {
        var notices: [(Int, [TrackerNotice])] = []
        defer { for (i, n) in notices { report(n, lane: i) } }
        return state.withLock { s in
            guard !s.shuttingDown else { return nil }
            let now = Clock.now()
            var unused = now
            return s.lease(consumer: consumer, maxItems: maxItems, maxBytes: maxBytes, ttl: ttl, now: now,
                           nextDeadline: &unused, notices: &notices)
        }
    }

    /// Why target `target`'s placement cannot be met now, or nil.
    func placementProblem(_ target: TargetIndex) -> PlacementProblem? {
        let (view, typical) = state.withLock { s -> ([PlacementNode], UInt64) in
            let c = s.targets[targetLanes[target.rawValue].lowerBound].tracker.counters
            return (s.nodeView(), c.seenFiles > 0 ? c.seenBytes / UInt64(c.seenFiles) : 0)
        }
        return placements[target.rawValue].problem(nodes: view, typicalSize: typical)
    }

    /// Files of target `target` that agents already held when they attached.
    func seededCount(_ target: TargetIndex) -> Int { state.withLock { $0.seededFiles[target.rawValue] } }

    /// Files and bytes target `target` still has to copy, over all its copies.
    func remaining(_ target: TargetIndex) -> (files: Int, bytes: UInt64) {
        state.withLock { s in
            targetLanes[target.rawValue].reduce((0, 0)) { sum, lane in
                let c = s.targets[lane].tracker.counters
                return (sum.0 + max(c.seenFiles - c.doneFiles, 0), sum.1 &+ (c.seenBytes > c.doneBytes ? c.seenBytes - c.doneBytes : 0))
            }
        }
    }

    /// Bytes target `target` still has to place, over all its copies.
    func bytesToPlace(_ target: TargetIndex) -> UInt64 { remaining(target).bytes }

    func placement(of target: TargetIndex) -> Placement { placements[target.rawValue] }

    /// The nodes as placement sees them now.
    func placementNodes() -> [PlacementNode] { state.withLock { $0.nodeView() } }

    /// Takes back every lease `consumer` holds (an agent that went away); returns how many.
    func releaseLeases(of consumer: NodeID) -> Int {
        var released = 0
        for i in 0..<laneCount {
            released += withLaneState(LaneID(i)) { $0.tracker.releaseLeases(of: consumer, now: Clock.now()) }
        }
        return released
    }

    /// Records what an agent's listing says it holds (files it wrote, with the source
    /// version and checksum) in target `target`'s record (`SeedDecision`): in the lane that
    /// names this agent already, else in a lane that names nobody, else in place of an
    /// older copy (or one on a node that is away); a copy no lane takes is superseded.
    /// Returns how many files the record now names this agent for.
    func seed(_ target: TargetIndex, entries: [ListingEntry], holder: NodeID) -> Int {
        let lanes = targetLanes[target.rawValue]
        let (seeded, notices) = state.withLock { s -> (Int, [(Int, [TrackerNotice])]) in
            let now = Clock.now()
            let attached = Set(s.nodes().filter(\.attached).map(\.id))
            var seeded = 0
            for entry in entries where !entry.isDirectory {
                guard let checksum = entry.checksum, let version = entry.sourceVersion, version.size == entry.size else { continue }
                // A listing carries no inode: an agent's copy is checked by its listing, not by inode.
                let listed = DestinationRecord(version: version, checksum: checksum, inode: 0, holder: holder)
                let records = lanes.map { s.targets[$0].tracker.destinationRecord(of: entry.path) }
                switch SeedDecision.decide(node: holder, listed: version, lanes: records, attached: { attached.contains($0) }) {
                case .keep(let k), .take(let k), .adopt(let k, _):
                    s.targets[lanes.lowerBound + k].tracker.seedDestination(entry.path, .holds(listed), at: now)
                    seeded += 1
                case .superseded:
                    s.noteSuperseded(target, entry.path, on: holder, .init(version: version, checksum: checksum))
                }
            }
            for lane in lanes { s.absorbDisplaced(lane) }
            s.seededFiles[target.rawValue] += seeded
            return (seeded, lanes.map { ($0, s.targets[$0].tracker.drainNotices()) })
        }
        state.broadcast()
        for (lane, n) in notices { report(n, lane: lane) }
        changed()
        return seeded
    }

    /// Outcomes reported by agent `consumer`, by path and lease; returns how many were
    /// current. A file written for a lease that is no longer current (it expired, or was
    /// taken back) is on that agent anyway: a superseded copy unless the record names it.
    func completeRemote(_ lane: LaneID, consumer: NodeID, _ results: [(RelativePath, LeaseID, WorkOutcome)]) -> Int {
        let target = laneTarget[lane.rawValue]
        let index = lane.rawValue
        return withLane(lane) { s in
            let now = Clock.now()
            var current = 0
            for (path, lease, outcome) in results {
                if s.targets[index].tracker.complete(path, lease: lease, outcome: outcome, at: now) {
                    current += 1
                } else if case .copied(let version, let checksum, _, _) = outcome {
                    s.noteSuperseded(target, path, on: consumer, .init(version: version, checksum: checksum))
                }
            }
            return current
        }
    }

    func complete(_ lane: LaneID, _ results: [(WorkItem, WorkOutcome)]) {
        withLaneState(lane) { state in
            let now = Clock.now()
            for (item, outcome) in results {
                state.tracker.complete(item.path, lease: item.lease, outcome: outcome, at: now)
            }
        }
    }

    /// Wakes every worker and makes `nextWork` return nil.
    func shutdown() {
        state.withLock { $0.shuttingDown = true }
        state.broadcast()
        changed()
    }

    /// Logs what lane `lane`'s tracker noticed (by raw number: notices come from under the lock).
    private func report(_ notices: [TrackerNotice], lane: Int) {
        let root = sourceRoots[lane]
        for notice in notices {
            switch notice {
            case .inPlaceWritingDetected(let path):
                logger.notice("\(root) is being written in place (\(path) was created or modified under its real name, or changed while it was read); each file is now copied only after it has been quiet for the quiet period, and checked unchanged after the read")
            case .permanentFailure(let path, let message):
                logger.error("cannot copy \(root)/\(path): \(message)")
            case .retrying(let path, let message, let attempt):
                let now = Clock.now()
                let others: Int? = retryLog.withLock { log in
                    if let last = log.last, now - last < Self.retryLogInterval {
                        log.suppressed += 1
                        return nil
                    }
                    defer { log = RetryLog(last: now, suppressed: 0) }
                    return log.suppressed
                }
                if let others {
                    let rest = others > 0 ? " (and \(others) other retries since the last such message)" : ""
                    logger.warning("retrying \(root)/\(path) (attempt \(attempt + 1)): \(message)\(rest)")
                } else {
                    logger.debug("retrying \(root)/\(path) (attempt \(attempt + 1)): \(message)")
                }
            }
        }
    }
}
