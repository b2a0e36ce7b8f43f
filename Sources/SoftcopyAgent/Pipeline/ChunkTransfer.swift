import Glibc
import Logging
import SoftcopyCore
import SoftcopyIO

/// Performs one leased item, the same at an agent and in a local copy. A copy streams the
/// chunk's bytes from the channel into a temp file in the final folder, hashing them on
/// the way, and stages it there if its size and XXH3-128 match what the source side
/// holds them to be (small files come several to a request: `performBundle`). The job's
/// commit, once the whole batch has arrived, makes the staged files durable together and
/// renames each over its real name. A deletion removes the file.
struct ChunkTransfer {
    let connection: any WorkConnection
    /// Where the files go (for messages): the agent's root, or the local destination.
    let root: String
    /// The node a full disk is reported on: "this agent", or the local destination.
    let node: String
    /// Free bytes where the files go, the free space chunks may not take it below, and
    /// the room promised to files other threads are receiving; nil: no promise is made
    /// before a write (the local copy, whose full disk ends the run).
    let space: Space?
    /// This thread's own; a chunk's bytes reach its temp file through it.
    let writer: ChunkWriter
    let logger: Logger

    struct Space {
        let free: @Sendable () -> UInt64
        let reserve: UInt64
        let reservations: SpaceReservations
    }

    enum Result {
        /// Report this outcome; `changedDirectory` (a removal's) needs an fsync before the ack.
        case done(WorkOutcome, changedDirectory: RelativePath?)
        /// Received and verified under a temp name; the commit finishes it.
        case staged(StagedWrite)
        /// The lease is no longer current: nothing to report.
        case stale
        /// The coordinator ended the job (or restarted): stop pulling.
        case jobGone
    }

    func perform(_ item: LeaseGrant.Item, store: any Store) -> Result {
        switch item.operation {
        case .delete:
            do {
                try store.remove(item.path)
                return .done(.deleted, changedDirectory: item.path.parent)
            } catch {
                return .done(.failed(message: error.description, transient: error.isTransient), changedDirectory: nil)
            }
        case .copy:
            return copy(item, store: store)
        }
    }

    /// Promises room above the reserve for each of `sizes`, counting what other threads
    /// are receiving: for each, the failure if it does not fit, or nil (then
    /// `release` it). Transient: the coordinator places it on another node.
    private func claimSpace(_ sizes: [UInt64]) -> [WorkOutcome?] {
        guard let space else { return sizes.map { _ in nil } }
        let (free, refused) = space.reservations.claim(sizes, reserve: space.reserve) { space.free() }
        return zip(sizes, refused).map { size, promised in
            guard let promised else { return nil }
            let receiving = promised > 0 ? ", \(Quantity.formatBytes(promised)) being received" : ""
            return .failed(message: "insufficient storage (507) on this agent: \(Quantity.formatBytes(free)) free under \(root), reserve \(Quantity.formatBytes(space.reserve))\(receiving), chunk \(Quantity.formatBytes(size))", transient: true)
        }
    }

    private func release(_ bytes: UInt64) {
        space?.reservations.release(bytes)
    }

    private func copy(_ item: LeaseGrant.Item, store: any Store) -> Result {
        if let refused = claimSpace([item.size])[0] { return .done(refused, changedDirectory: nil) }
        // Written (or dropped) by the time this returns: statfs counts it from then on.
        defer { release(item.size) }
        let reader: any ItemReader
        switch connection.open(item) {
        case .ready(let opened): reader = opened
        case .done(let outcome): return .done(outcome, changedDirectory: nil)
        case .stale: return .stale
        case .jobGone: return .jobGone
        }
        let pending: PendingFile
        do {
            pending = try store.beginWrite(item.path, size: item.size)
        } catch {
            return writeFailure(error)
        }
        writer.begin(pending)
        let hasher = XXH3Hasher()
        switch reader.read(into: writer, hasher: hasher) {
        case .bytes(let version, let expected, let mode, let received):
            do {
                try writer.finish()
            } catch {
                return writeFailure(error)
            }
            return stage(pending, store: store, path: item.path, version: version, expected: expected,
                         checksum: hasher.digest(), received: received, mode: mode)
        // Never renamed: dropping `pending` removes the temp file.
        case .done(let outcome): return .done(outcome, changedDirectory: nil)
        case .stale: return .stale
        case .jobGone: return .jobGone
        case .writeFailed(let error): return writeFailure(error)
        }
    }

    /// Stages a received file if its size and checksum are the source side's.
    private func stage(_ pending: consuming PendingFile, store: any Store, path: RelativePath, version: FileVersion, expected: Checksum,
                       checksum: Checksum, received: UInt64, mode: UInt32) -> Result {
        guard received == version.size, checksum == expected else {
            // Never renamed: dropping `pending` removes the temp file.
            logger.warning("\(path): received \(received) of \(version.size) bytes, checksum \(checksum.hex), expected \(expected.hex); discarded, it will be sent again")
            return .done(.failed(message: "checksum or size mismatch on arrival (\(received) of \(version.size) bytes)", transient: true), changedDirectory: nil)
        }
        do {
            switch try store.stage(pending, path: path, version: version, checksum: checksum, received: received, mode: mode, buffer: writer.buffer) {
            case .success(let staged): return .staged(staged)
            case .failure(let mismatch): return .done(.failed(message: mismatch.message, transient: true), changedDirectory: nil)
            }
        } catch {
            return writeFailure(error)
        }
    }

    /// The failure for a write error: a full disk is "insufficient storage", which sends
    /// the work to another node (and tells the channel, which may end a local run).
    func writeFailure(_ error: SystemError) -> Result {
        if error.isNoSpace {
            connection.noSpace(error)
            return .done(.failed(message: "insufficient storage (507) on \(node): \(error)", transient: true), changedDirectory: nil)
        }
        return .done(.failed(message: error.description, transient: error.isTransient), changedDirectory: nil)
    }

    /// Fetches several small files in one request and stages each as `copy` does. One
    /// result per item, by position; nil for an item to fetch alone (too large for the
    /// bundle, or a channel without bundles: all nil).
    func performBundle(_ items: [LeaseGrant.Item], stores: [LaneID: any Store]) -> [Result?] {
        // What fits above the reserve is asked for; the rest is refused as one by one would be.
        let refusals: [Result?] = claimSpace(items.map(\.size)).map { refused in refused.map { .done($0, changedDirectory: nil) } }
        let planned = zip(items, refusals).reduce(0) { $0 + ($1.1 == nil ? $1.0.size : 0) }
        // Written to temp files (or dropped) by the time the bundle is received.
        defer { release(planned) }
        let asked = zip(items, refusals).filter { $0.1 == nil }.map(\.0)
        guard !asked.isEmpty else { return refusals }
        guard let files = connection.fetchBundle(asked) else { return items.map { _ in nil } }
        var next = zip(asked, files).map { item, file -> Result? in
            guard let store = stores[item.lane] else {
                return .done(.failed(message: "target \(item.lane) is not part of this job at the agent", transient: false), changedDirectory: nil)
            }
            return receive(file, item: item, store: store)
        }.makeIterator()
        return refusals.map { refusal in refusal ?? next.next()! }
    }

    /// One bundled file, written to a temp file and staged; nil to fetch it alone.
    private func receive(_ file: BundledFile, item: LeaseGrant.Item, store: any Store) -> Result? {
        switch file {
        case .alone: return nil
        case .done(let outcome): return .done(outcome, changedDirectory: nil)
        case .stale: return .stale
        case .jobGone: return .jobGone
        case .bytes(let version, let expected, let mode, let data):
            let pending: PendingFile
            do {
                pending = try store.beginWrite(item.path, size: UInt64(data.count))
            } catch {
                return writeFailure(error)
            }
            writer.begin(pending)
            let failure = data.withUnsafeBytes { [writer] bytes -> SystemError? in
                do throws(SystemError) {
                    try writer.append(bytes)
                    try writer.finish()
                    return nil
                } catch {
                    return error
                }
            }
            if let failure { return writeFailure(failure) }
            let hasher = XXH3Hasher()
            data.withUnsafeBytes { hasher.update($0) }
            return stage(pending, store: store, path: item.path, version: version, expected: expected, checksum: hasher.digest(),
                         received: UInt64(data.count), mode: mode)
        }
    }
}
