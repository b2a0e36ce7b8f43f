import Logging
import Synchronization
import SoftcopyCore
import SoftcopyIO

/// The coordinator's shared state: one tracker and one zarr hierarchy per archive,
/// behind one lock. Watcher threads feed it source events, copy workers block in it for
/// work and report outcomes, and the main thread drives each archive's end. The lock is
/// only ever held for in-memory work; all file I/O happens outside it.
final class Engine: @unchecked Sendable {
    struct TargetState {
        var tracker: ArchiveTracker
        var hierarchy = ZarrHierarchy()
        /// Metadata files that did not parse, with the reason (each version reported once).
        var malformedMetadata: [RelativePath: String] = [:]
        var started: MonotonicInstant
    }

    private let lock = ConditionLock()
    private var targets: [TargetState]
    private var shuttingDown = false
    /// Called (outside the lock) after anything that may have made work ready: the HTTP
    /// API uses it to answer waiting long-polls at once.
    var onChange: (@Sendable () -> Void)?
    private var roundRobin = 0
    private let logger: Logger
    private let sourceRoots: [String]
    /// Retries are logged at most once per interval, with a count of the rest: a full
    /// disk would otherwise log one line per file per attempt.
    private let retryLog = Mutex(RetryLog())
    private struct RetryLog {
        var last: MonotonicInstant?
        var suppressed = 0
    }
    static let retryLogInterval: Duration = .seconds(10)

    init(targets: [TargetState], sourceRoots: [String], logger: Logger) {
        self.targets = targets
        self.sourceRoots = sourceRoots
        self.logger = logger
    }

    /// Runs `body` on one archive's state under the lock, then wakes waiting workers.
    func withTarget<T>(_ index: Int, _ body: (inout TargetState) -> T) -> T {
        let (result, notices) = lock.withLock { () -> (T, [TrackerNotice]) in
            let result = body(&targets[index])
            let notices = targets[index].tracker.drainNotices()
            lock.broadcast()
            return (result, notices)
        }
        report(notices, target: index)
        onChange?()
        return result
    }

    /// Reads one archive's state under the lock without waking anyone.
    func peek<T>(_ index: Int, _ body: (TargetState) -> T) -> T {
        lock.withLock { body(targets[index]) }
    }

    var targetCount: Int { targets.count }

    var isShuttingDown: Bool { lock.withLock { shuttingDown } }

    // MARK: - Source events (watcher threads)

    func handle(_ index: Int, _ events: [SourceEvent]) {
        // Metadata is small: read and parse it before taking the lock.
        var parsed: [RelativePath: Result<ZarrNode, ZarrMetadataParser.Error>] = [:]
        for case .observed(let path, .file, _) in events where ZarrNaming.role(of: path) == .metadata {
            do {
                let bytes = try readSmallFile(sourceRoots[index] + "/" + path.string, limit: 64 << 20)
                parsed[path] = Result { () throws(ZarrMetadataParser.Error) in try ZarrMetadataParser.parse(name: path.name, bytes: bytes) }
            } catch {
                continue  // gone already; its removal event follows
            }
        }
        var warnings: [String] = []
        withTarget(index) { state in
            let now = Clock.now()
            for event in events {
                switch event {
                case .observed(let path, let observed, let cause):
                    state.tracker.observe(path, observed, cause: cause, at: now)
                    if case .failure(let error) = parsed[path] {
                        if state.malformedMetadata[path] != error.message {
                            state.malformedMetadata[path] = error.message
                            warnings.append("malformed zarr metadata \(sourceRoots[index])/\(path): \(error.message) (copied as it is)")
                        }
                    } else if case .success(let node) = parsed[path] {
                        state.malformedMetadata[path] = nil
                        state.hierarchy.update(metadataFile: path, node: node)
                    } else if observed == .absent, ZarrNaming.role(of: path) == .metadata {
                        state.hierarchy.remove(metadataFile: path)
                    }
                case .subtreeRemoved(let directory):
                    state.tracker.observeSubtreeRemoved(directory, cause: .removed, at: now)
                    state.hierarchy.removeSubtree(directory)
                case .fullScanStarted:
                    state.tracker.beginFullScan()
                case .fullScanFinished(let kind):
                    state.tracker.endFullScan(kind, at: now)
                    let tracker = state.tracker
                    state.hierarchy.prune { directory in
                        ZarrNaming.nodeMetadataNames.contains { tracker.sourceVersion(of: directory.appending(component: String($0))) != nil }
                    }
                case .rootVanished:
                    state.tracker.sourceRootVanished(at: now)
                    warnings.append("the source \(sourceRoots[index]) disappeared; nothing will be deleted at the destination while it is gone")
                case .rootRestored:
                    state.tracker.sourceRootRestored(at: now)
                    logger.info("the source \(sourceRoots[index]) is back; rescanning")
                case .warning(let message):
                    warnings.append(message)
                }
            }
        }
        for warning in warnings { logger.warning("\(warning)") }
    }

    // MARK: - Work (worker threads)

    /// Blocks until there is work, and returns a batch from one archive; nil once shutting down.
    func nextWork(maxItems: Int, maxBytes: UInt64) -> (target: Int, items: [WorkItem])? {
        var notices: [(Int, [TrackerNotice])] = []
        defer { for (i, n) in notices { report(n, target: i) } }
        return lock.withLock {
            while !shuttingDown {
                let now = Clock.now()
                var nextDeadline = now + .seconds(1)
                if let found = leaseLocked(consumer: 0, maxItems: maxItems, maxBytes: maxBytes, ttl: nil, now: now,
                                           nextDeadline: &nextDeadline, notices: &notices, accepts: { _ in true }) {
                    return found
                }
                lock.wait(until: nextDeadline)
            }
            return nil
        }
    }

    /// A batch for a remote consumer from one archive, without waiting; nil if nothing
    /// is ready now. Leases expire after `ttl` if the agent goes silent.
    func lease(consumer: UInt32, maxItems: Int, maxBytes: UInt64, ttl: Duration, accepts: (UInt32) -> Bool) -> (target: Int, items: [WorkItem])? {
        var notices: [(Int, [TrackerNotice])] = []
        defer { for (i, n) in notices { report(n, target: i) } }
        return lock.withLock {
            guard !shuttingDown else { return nil }
            let now = Clock.now()
            var unused = now
            return leaseLocked(consumer: consumer, maxItems: maxItems, maxBytes: maxBytes, ttl: ttl, now: now,
                               nextDeadline: &unused, notices: &notices, accepts: accepts)
        }
    }

    private func leaseLocked(
        consumer: UInt32, maxItems: Int, maxBytes: UInt64, ttl: Duration?, now: MonotonicInstant,
        nextDeadline: inout MonotonicInstant, notices: inout [(Int, [TrackerNotice])], accepts: (UInt32) -> Bool
    ) -> (target: Int, items: [WorkItem])? {
        for k in 0..<targets.count {
            let i = (roundRobin + k) % targets.count
            let items = targets[i].tracker.lease(maxItems: maxItems, maxBytes: maxBytes, consumer: consumer,
                                                 expiresAfter: ttl, now: now, accepts: accepts)
            notices.append((i, targets[i].tracker.drainNotices()))
            if !items.isEmpty {
                roundRobin = i + 1
                return (i, items)
            }
            if let d = targets[i].tracker.nextDeadline { nextDeadline = min(nextDeadline, d) }
        }
        return nil
    }

    /// Takes back every lease `consumer` holds (an agent that went away); returns how many.
    func releaseLeases(of consumer: UInt32) -> Int {
        var released = 0
        for i in targets.indices {
            released += withTarget(i) { $0.tracker.releaseLeases(of: consumer, now: Clock.now()) }
        }
        return released
    }

    /// Records what an agent's listing says it holds (files it wrote, with the source
    /// version and checksum), unless another agent is already known to hold the key.
    /// Returns how many files were recorded.
    func seed(_ index: Int, entries: [ListingEntry], holder: UInt32) -> Int {
        withTarget(index) { state in
            let now = Clock.now()
            var seeded = 0
            for entry in entries where !entry.isDirectory {
                guard let checksum = entry.checksum, let version = entry.sourceVersion, version.size == entry.size else { continue }
                if let known = state.tracker.destinationRecord(of: entry.path), known.holder != holder { continue }
                state.tracker.seedDestination(entry.path, .holds(DestinationRecord(version: version, checksum: checksum, inode: entry.inode ?? 0, holder: holder)), at: now)
                seeded += 1
            }
            return seeded
        }
    }

    /// Outcomes reported by an agent, by path and lease; returns how many were current.
    func completeRemote(_ index: Int, _ results: [(RelativePath, LeaseID, WorkOutcome)]) -> Int {
        withTarget(index) { state in
            let now = Clock.now()
            var current = 0
            for (path, lease, outcome) in results where state.tracker.complete(path, lease: lease, outcome: outcome, at: now) {
                current += 1
            }
            return current
        }
    }

    func complete(_ index: Int, _ results: [(WorkItem, WorkOutcome)]) {
        withTarget(index) { state in
            let now = Clock.now()
            for (item, outcome) in results {
                state.tracker.complete(item.path, lease: item.lease, outcome: outcome, at: now)
            }
        }
    }

    /// Wakes every worker and makes `nextWork` return nil.
    func shutdown() {
        lock.withLock {
            shuttingDown = true
            lock.broadcast()
        }
        onChange?()
    }

    private func report(_ notices: [TrackerNotice], target: Int) {
        let root = sourceRoots[target]
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
