import Logging
import Synchronization
import SoftcopyCore
import SoftcopyIO

/// Copy workers for the local (embedded) mode: OS threads that lease batches of ready
/// work from the engine, perform them with `LocalTransfer`, make each batch durable
/// together (a group commit: one syncfs once all its files are written, the renames,
/// one syncfs for the renames), journal them, and only then report them done.
final class LocalCopier: Sendable {
    struct Target {
        let sourceRoot: String
        let links: SourceLinks
        let destination: DestinationTree
        let journal: JournalFile
    }

    private let engine: Engine
    private let targets: [Target]
    private let workerCount: Int
    private let sleepTime: Duration?
    private let ioPriority: IOPriority
    private let directIO: Bool
    private let rateLimiter: RateLimiter?
    private let logger: Logger
    private let threads = Mutex<[OSThread]>([])
    /// Whether an agent could take what the local destination has no room for.
    private let othersCanTake: @Sendable () -> Bool
    /// The local destination that ran out of space with nobody else to take the work:
    /// the main loop ends the run with one message instead of thousands of retries.
    let destinationFull = Mutex<(target: Int, error: SystemError)?>(nil)

    /// Large enough to copy a typical chunk in one read and one write.
    static let bufferSize = 4 << 20
    static let batchItems = 64
    static let batchBytes: UInt64 = 64 << 20

    init(engine: Engine, targets: [Target], workers: Int, sleepTime: Duration?, maxRate: UInt64?, ioPriority: IOPriority, directIO: Bool,
         logger: Logger, othersCanTake: @escaping @Sendable () -> Bool) {
        self.othersCanTake = othersCanTake
        self.engine = engine
        self.directIO = directIO
        self.targets = targets
        self.workerCount = max(1, workers)
        self.sleepTime = sleepTime
        self.ioPriority = ioPriority
        self.rateLimiter = maxRate.map { RateLimiter(bytesPerSecond: $0) }
        self.logger = logger
    }

    func start() {
        let started = (0..<workerCount).map { n in OSThread(name: "sc-copy-\(n)") { [self] in work() } }
        threads.withLock { $0 += started }
    }

    /// Waits for the workers after `engine.shutdown()`; each finishes its current batch.
    func join() {
        let running = threads.withLock { t -> [OSThread] in
            defer { t.removeAll() }
            return t
        }
        for thread in running { thread.join() }
    }

    private func work() {
        if let error = ioPriority.applyToCurrentThread() {
            logger.debug("cannot set the IO priority of a copy thread: \(error)")
        }
        let writer = ChunkWriter(capacity: Self.bufferSize)
        nonisolated(unsafe) var noSpace: SystemError?
        let transfers = targets.map { t in
            LocalTransfer(sourceRoot: t.sourceRoot, links: t.links, destination: t.destination, writer: writer, directIO: directIO,
                          throttle: { [rateLimiter] in rateLimiter?.consume($0) }, noSpace: { noSpace = $0 })
        }
        while let (index, items) = engine.nextWork(maxItems: Self.batchItems, maxBytes: Self.batchBytes) {
            let target = targets[index]
            var results: [(WorkItem, WorkOutcome)] = []
            var journal: [JournalRecord] = []
            var changedDirectories: Set<RelativePath> = []
            var staged: [(slot: Int, copy: LocalTransfer.StagedCopy)] = []
            func record(_ result: LocalTransfer.Result, slot: Int) {
                results[slot].1 = result.outcome
                if let record = result.journal { journal.append(record) }
                if let directory = result.changedDirectory { changedDirectories.insert(directory) }
            }
            for item in items {
                results.append((item, .sourceVanished))
                switch transfers[index].perform(item) {
                case .done(let result): record(result, slot: results.count - 1)
                case .staged(let copy): staged.append((results.count - 1, copy))
                }
                if let sleepTime { Clock.sleep(sleepTime) }
            }
            let (committed, failedDirectories) = transfers[index].commit(staged.map(\.copy), removals: changedDirectories)
            for ((slot, _), result) in zip(staged, committed) {
                record(result, slot: slot)
            }
            // Nothing in a folder whose sync failed is reported done or journaled.
            for (directory, error) in failedDirectories {
                logger.warning("cannot make \(error) durable; its files will be copied again")
                results = results.map { item, outcome in
                    (item, outcome.unsynced(directory, at: item.path, because: error.description))
                }
                journal.removeAll { record in
                    switch record {
                    case .copied(let p, _), .deleted(let p): return p.parent == directory
                    }
                }
            }
            do {
                try target.journal.append(journal)
            } catch {
                logger.warning("cannot append to the journal (\(error)); a restart would check these files again")
            }
            if let full = noSpace {
                noSpace = nil
                if !othersCanTake() {
                    // The run ends: what failed for lack of room is not retried (its lease is
                    // simply never completed), what landed is reported and journaled.
                    destinationFull.withLock { $0 = $0 ?? (index, full) }
                    results.removeAll { if case .failed = $0.1 { true } else { false } }
                }
            }
            engine.complete(index, results)
        }
    }
}
