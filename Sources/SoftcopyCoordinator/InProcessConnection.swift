import Logging
import SoftcopyAgent
import SoftcopyCore
import SoftcopyIO

/// One local copy thread's side of the `InProcessChannel`: the batch it holds (the
/// engine's items, which say what the destination already has), what it adopted, and
/// whether a write found the disk full.
final class InProcessConnection: WorkConnection {
    let channel: InProcessChannel
    private var lane = LaneID(0)
    private var batch: [RelativePath: WorkItem] = [:]
    /// Files of the batch already at the destination that were kept instead of written:
    /// journaled like copies.
    private var adopted: Set<RelativePath> = []
    private var full: SystemError?
    /// For comparing a file found at the destination with the source (adoption).
    private lazy var compareBuffer = UnsafeMutableRawBufferPointerBox(size: Self.compareBufferSize)
    /// Large enough to compare a typical chunk in one read.
    static let compareBufferSize = 4 << 20

    init(channel: InProcessChannel) {
        self.channel = channel
    }

    /// Blocks until there is work: the engine wakes this thread as files become ready,
    /// and at shutdown (then the job ends).
    func lease(maxItems: Int, maxBytes: UInt64, isStopping: @escaping @Sendable () -> Bool) -> LeaseAnswer {
        guard let (lane, items) = channel.engine.nextWork(maxItems: maxItems, maxBytes: maxBytes) else { return .end("finished") }
        self.lane = lane
        batch = Dictionary(items.map { ($0.path, $0) }, uniquingKeysWith: { $1 })
        adopted = []
        return .items(items.map { LeaseGrant.Item(lane: lane, path: $0.path, operation: $0.operation, lease: $0.lease, size: $0.expectedSize) })
    }

    func open(_ item: LeaseGrant.Item) -> Opening {
        if let sleepTime = channel.sleepTime { Clock.sleep(sleepTime) }
        guard let work = batch[item.path] else { return .stale }
        let lane = channel.lanes[item.lane.rawValue]
        do throws(SystemError) {
            guard let source = try SourceFile.open(lane.sourceRoot + "/" + item.path.string, links: lane.links) else {
                return .done(.sourceVanished)
            }
            let version = source.status.version
            switch work.destination {
            case .holds(let record) where record.version == version:
                // The destination already has exactly this version (a resumed run).
                return .done(.unchanged(version: version, checksum: record.checksum, destinationInode: record.inode))
            case .foreign(let size) where size == version.size:
                if let kept = try adopt(item.path, source: source, destination: lane.destination) {
                    adopted.insert(item.path)
                    return .done(kept)
                }
            default:
                break
            }
            return .ready(SourceRead(source, requireStableRead: work.requireStableRead, rateLimiter: channel.rateLimiter,
                                     digests: channel.digests.map { ($0, lane.sourceRoot, item.path) }))
        } catch {
            return .done(.failed(message: error.description, transient: error.isTransient))
        }
    }

    /// A destination file softcopy did not write, of the right size: if its checksum
    /// matches the source, keep it instead of writing the same bytes again.
    private func adopt(_ path: RelativePath, source: borrowing SourceFile, destination: DestinationTree) throws(SystemError) -> WorkOutcome? {
        guard let existing = try destination.openForReading(path) else { return nil }
        let buffer = compareBuffer.buffer
        let sourceSum = try source.descriptor.checksum(buffer: buffer, path: source.path)
        let existingSum = try existing.checksum(buffer: buffer, path: destination.displayPath(path))
        guard sourceSum.0 == existingSum.0, sourceSum.1 == existingSum.1,
              !(try source.changedSinceOpen(checkPath: false)) else { return nil }
        let version = source.status.version
        try destination.setModificationTime(path, nanoseconds: version.mtimeNanoseconds)
        return .unchanged(version: version, checksum: sourceSum.0, destinationInode: try existing.status().version.inode)
    }

    /// The source side of the in-process channel never bundles: each file is read once,
    /// straight into the writer.
    func fetchBundle(_ items: [LeaseGrant.Item]) -> [BundledFile]? { nil }

    /// Journals what the batch made durable, then completes it in the engine: a restart
    /// trusts only what the journal says.
    func report(_ entries: [AckReport.Entry], freeBytes: UInt64?, isStopping: @escaping @Sendable () -> Bool) -> Bool {
        var journal: [JournalRecord] = []
        var results: [(WorkItem, WorkOutcome)] = []
        for entry in entries {
            guard let item = batch[entry.path] else { continue }
            switch entry.outcome {
            case .copied(let version, let checksum, let inode, _):
                journal.append(.copied(entry.path, DestinationRecord(version: version, checksum: checksum, inode: inode)))
            case .unchanged(let version, let checksum, let inode) where adopted.contains(entry.path):
                journal.append(.copied(entry.path, DestinationRecord(version: version, checksum: checksum, inode: inode)))
            case .deleted:
                journal.append(.deleted(entry.path))
            default:
                break
            }
            results.append((item, entry.outcome))
        }
        do {
            try channel.lanes[lane.rawValue].journal.append(journal)
        } catch {
            channel.logger.warning("cannot append to the journal (\(error)); a restart would check these files again")
        }
        if let error = full {
            full = nil
            if channel.destinationIsFull(lane: lane, error) {
                // The run ends: what failed for lack of room is not retried (its lease is
                // simply never completed), what landed is reported and journaled.
                results.removeAll { if case .failed = $0.1 { true } else { false } }
            }
        }
        channel.engine.complete(lane, results)
        batch = [:]
        return true
    }

    func noSpace(_ error: SystemError) {
        full = full ?? error
    }
}
