import Logging
import SoftcopyCore
import SoftcopyIO

/// Copy workers for the local (embedded) mode: OS threads that lease batches of ready
/// work from the engine, perform them with `LocalTransfer`, make each batch's renames
/// durable with one fsync per folder, journal them, and only then report them done.
final class LocalCopier: @unchecked Sendable {
    struct Target {
        let sourceRoot: String
        let destination: DestinationTree
        let journal: JournalFile
    }

    private let engine: Engine
    private let targets: [Target]
    private let workerCount: Int
    private let sleepTime: Duration?
    private let ioPriority: IOPriority
    private let rateLimiter: RateLimiter?
    private let logger: Logger
    private var threads: [OSThread] = []

    /// Large enough to copy a typical chunk in one read and one write.
    static let bufferSize = 4 << 20
    static let batchItems = 16
    static let batchBytes: UInt64 = 64 << 20

    init(engine: Engine, targets: [Target], workers: Int, sleepTime: Duration?, maxRate: UInt64?, ioPriority: IOPriority, logger: Logger) {
        self.engine = engine
        self.targets = targets
        self.workerCount = max(1, workers)
        self.sleepTime = sleepTime
        self.ioPriority = ioPriority
        self.rateLimiter = maxRate.map { RateLimiter(bytesPerSecond: $0) }
        self.logger = logger
    }

    func start() {
        for n in 0..<workerCount {
            threads.append(OSThread(name: "sc-copy-\(n)") { [self] in work() })
        }
    }

    /// Waits for the workers after `engine.shutdown()`; each finishes its current batch.
    func join() {
        for thread in threads { thread.join() }
        threads.removeAll()
    }

    private func work() {
        if let error = ioPriority.applyToCurrentThread() {
            logger.debug("cannot set the IO priority of a copy thread: \(error)")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 4096)
        defer { buffer.deallocate() }
        let transfers = targets.map { t in
            LocalTransfer(sourceRoot: t.sourceRoot, destination: t.destination, buffer: buffer, throttle: { [rateLimiter] in rateLimiter?.consume($0) })
        }
        while let (index, items) = engine.nextWork(maxItems: Self.batchItems, maxBytes: Self.batchBytes) {
            let target = targets[index]
            var results: [(WorkItem, WorkOutcome)] = []
            var journal: [JournalRecord] = []
            var changedDirectories: Set<RelativePath> = []
            for item in items {
                let result = transfers[index].perform(item)
                results.append((item, result.outcome))
                if let record = result.journal { journal.append(record) }
                if let directory = result.changedDirectory { changedDirectories.insert(directory) }
                if let sleepTime { Clock.sleep(sleepTime) }
            }
            // One fsync per folder makes the batch's renames durable before anyone is told.
            for directory in changedDirectories {
                do {
                    try target.destination.syncDirectory(directory)
                } catch {
                    logger.warning("cannot make \(error) durable; its files will be copied again")
                    results = results.map { item, outcome in
                        item.path.parent == directory
                            ? (item, .failed(message: error.description, transient: true)) : (item, outcome)
                    }
                    journal.removeAll { record in
                        if case .copied(let p, _) = record { return p.parent == directory }
                        return false
                    }
                }
            }
            do {
                try target.journal.append(journal)
            } catch {
                logger.warning("cannot append to the journal (\(error)); a restart would check these files again")
            }
            engine.complete(index, results)
        }
    }
}
