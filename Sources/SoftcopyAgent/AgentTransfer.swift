import Glibc
import Logging
import SoftcopyCore
import SoftcopyHTTP
import SoftcopyIO

/// Performs one leased item at the agent. A copy streams the chunk's body from the
/// coordinator into a temp file in the final folder, hashing it on the way, and stages it
/// there if its size and XXH3-128 match the headers (small files come several to a
/// request: `performBundle`). `commit`, once the whole batch has arrived, makes the
/// staged files durable together and renames each over its real name, never over a
/// newer version of the same file. A deletion removes the file.
struct AgentTransfer {
    let coordinator: String
    let job: String
    let client: HTTPClient
    let keyLocks: KeyLocks
    let records: RecordCache
    let root: String
    /// Free bytes where the files go (the root as held open).
    let freeBytes: @Sendable () -> UInt64
    let reserve: UInt64
    /// Room promised to files other threads are receiving (shared by the whole agent).
    let reservations: SpaceReservations
    /// This thread's own; a chunk's bytes reach its temp file through it.
    let writer: ChunkWriter
    /// Write files of `ChunkWriter.directMinimum` bytes or more with O_DIRECT.
    let directIO: Bool
    let logger: Logger

    enum Result {
        /// Report this outcome; `changedDirectory` (a removal's) needs an fsync before the ack.
        case done(WorkOutcome, changedDirectory: RelativePath?)
        /// Received and verified under a temp name; `commit` finishes it.
        case staged(StagedDownload)
        /// The lease is no longer current: nothing to report.
        case stale
        /// The coordinator ended the job (or restarted): stop pulling.
        case jobGone
    }

    struct StagedDownload {
        let file: StagedFile
        let version: FileVersion
        let checksum: Checksum
        let bytes: UInt64
        /// The record is on the file (a filesystem without extended attributes refuses it).
        let recorded: Bool
    }

    static let stallTimeout: Duration = .seconds(30)
    /// A bundle is at most `BundleRequest.bundleLimit` bytes.
    static let bundleTimeout: Duration = .seconds(120)

    func perform(_ item: LeaseGrant.Item, tree: DestinationTree) -> Result {
        switch item.operation {
        case .delete:
            do {
                try tree.remove(item.path, syncDirectory: false)
                return .done(.deleted, changedDirectory: item.path.parent)
            } catch {
                return .done(.failed(message: error.description, transient: error.isTransient), changedDirectory: nil)
            }
        case .copy:
            return copy(item, tree: tree)
        }
    }

    /// Promises room above the reserve for each of `sizes`, counting what other threads
    /// are receiving: for each, the failure if it does not fit, or nil (then
    /// `reservations.release` it). Transient: the coordinator places it on another node.
    private func claimSpace(_ sizes: [UInt64]) -> [WorkOutcome?] {
        let (free, refused) = reservations.claim(sizes, reserve: reserve) { freeBytes() }
        return zip(sizes, refused).map { size, promised in
            guard let promised else { return nil }
            let receiving = promised > 0 ? ", \(Quantity.formatBytes(promised)) being received" : ""
            return .failed(message: "insufficient storage (507) on this agent: \(Quantity.formatBytes(free)) free under \(root), reserve \(Quantity.formatBytes(reserve))\(receiving), chunk \(Quantity.formatBytes(size))", transient: true)
        }
    }

    private func copy(_ item: LeaseGrant.Item, tree: DestinationTree) -> Result {
        if let refused = claimSpace([item.size])[0] { return .done(refused, changedDirectory: nil) }
        // Written (or dropped) by the time this returns: statfs counts it from then on.
        defer { reservations.release(item.size) }
        let pending: PendingFile
        do {
            pending = try tree.beginWrite(item.path, direct: ChunkWriter.wantsDirect(size: item.size, allowed: directIO))
        } catch {
            return .done(.failed(message: error.description, transient: error.isTransient), changedDirectory: nil)
        }
        writer.begin(pending)
        let url = Route.chunk(job: job, lane: String(item.target), path: item.path.string)
            .url(coordinator, query: [("lease", String(item.lease.rawValue))])
        let hasher = XXH3Hasher()
        var received: UInt64 = 0
        var writeError: SystemError?
        let response: HTTPClientResponse
        do {
            response = try client.download(url, stallTimeout: Self.stallTimeout) { [writer] bytes in
                do throws(SystemError) {
                    try writer.append(bytes)
                } catch {
                    writeError = error
                    return false
                }
                hasher.update(bytes)
                received &+= UInt64(bytes.count)
                return true
            }
        } catch {
            if let writeError {
                return Self.writeFailure(writeError)  // never renamed: dropping `pending` removes the temp file
            }
            return .done(.failed(message: "transfer of \(item.path) failed: \(error.message)", transient: true), changedDirectory: nil)
        }
        if let refused = Self.refusal(status: response.status, reason: response.header(SoftcopyHeaders.reason), detail: response.bodyText, path: item.path) {
            return refused
        }
        guard let version = response.header(SoftcopyHeaders.version).flatMap({ FileVersion(token: $0) }),
              let expected = response.header(SoftcopyHeaders.checksum).flatMap({ Checksum(hex: $0) }) else {
            return .done(.failed(message: "the coordinator sent \(item.path) without a valid \(SoftcopyHeaders.version) and \(SoftcopyHeaders.checksum)", transient: true), changedDirectory: nil)
        }
        let mode = response.header(SoftcopyHeaders.mode).flatMap { UInt32($0, radix: 8) } ?? 0o644
        do {
            try writer.finish()
        } catch {
            return Self.writeFailure(error)
        }
        return stage(pending, path: item.path, version: version, expected: expected, checksum: hasher.digest(), received: received, mode: mode)
    }

    /// Stages a received file if its size and checksum are the coordinator's: records the
    /// source version on it, sets its mode and mtime, and starts its writeback.
    private func stage(_ pending: consuming PendingFile, path: RelativePath, version: FileVersion, expected: Checksum,
                       checksum: Checksum, received: UInt64, mode: UInt32) -> Result {
        guard received == version.size, checksum == expected else {
            // Never renamed: dropping `pending` removes the temp file.
            logger.warning("\(path): received \(received) of \(version.size) bytes, checksum \(checksum.hex), expected \(expected.hex); discarded, it will be sent again")
            return .done(.failed(message: "checksum or size mismatch on arrival (\(received) of \(version.size) bytes)", transient: true), changedDirectory: nil)
        }
        var recorded = true
        do {
            try pending.setAttribute(WrittenRecord.attributeName, WrittenRecord(version: version, checksum: checksum).bytes)
        } catch {
            recorded = false
            logger.debug("cannot record the source version on \(path): \(error)")
        }
        do {
            try pending.settle(mode: mode, modificationTime: version.mtimeNanoseconds)
            return .staged(StagedDownload(file: try StagedFile(pending, path: path), version: version, checksum: checksum,
                                          bytes: received, recorded: recorded))
        } catch {
            return .done(.failed(message: error.description, transient: error.isTransient), changedDirectory: nil)
        }
    }

    /// What the coordinator's answer for one file means when it is not 200, the same for a
    /// single GET and a bundle frame; nil for 200.
    private static func refusal(status: Int, reason: String?, detail: String, path: RelativePath) -> Result? {
        switch (status, reason) {
        case (200, _): return nil
        case (404, "vanished"): return .done(.sourceVanished, changedDirectory: nil)
        case (409, "changed"): return .done(.changedWhileReading, changedDirectory: nil)
        case (409, _): return .stale
        case (410, _): return .jobGone
        default:
            let transient = status >= 500 || status == 429 || status == 408
            return .done(.failed(message: "the coordinator answered \(status) for \(path): \(detail)", transient: transient), changedDirectory: nil)
        }
    }

    /// The failure for a write error at the agent: a full disk is "insufficient storage",
    /// which sends the work to another agent.
    private static func writeFailure(_ error: SystemError) -> Result {
        if error.errno == ENOSPC || error.errno == EDQUOT {
            return .done(.failed(message: "insufficient storage (507) on this agent: \(error)", transient: true), changedDirectory: nil)
        }
        return .done(.failed(message: error.description, transient: error.isTransient), changedDirectory: nil)
    }

    /// Fetches several small files in one request (`BundleFrame`s) and stages each as
    /// `copy` does. One result per item, by position; nil for an item to fetch alone
    /// (too large for the bundle, or a coordinator without bundles: all nil).
    func performBundle(_ items: [LeaseGrant.Item], trees: [Int: DestinationTree]) -> [Result?] {
        // What fits above the reserve is asked for; the rest is refused as one by one would be.
        let refusals: [Result?] = claimSpace(items.map(\.size)).map { refused in refused.map { .done($0, changedDirectory: nil) } }
        let planned = zip(items, refusals).reduce(0) { $0 + ($1.1 == nil ? $1.0.size : 0) }
        // Written to temp files (or dropped) by the time fetchBundle returns.
        defer { reservations.release(planned) }
        let asked = zip(items, refusals).filter { $0.1 == nil }.map(\.0)
        guard !asked.isEmpty else { return refusals }
        let results = fetchBundle(asked, trees: trees)
        var next = results.makeIterator()
        return refusals.map { refusal in refusal ?? next.next()! }
    }

    /// `performBundle` for files that fit: one request, and a result per file.
    private func fetchBundle(_ items: [LeaseGrant.Item], trees: [Int: DestinationTree]) -> [Result?] {
        func all(_ result: Result?) -> [Result?] { Array(repeating: result, count: items.count) }
        let request = BundleRequest(items: items.map { BundleRequest.Item(target: $0.target, path: $0.path, lease: $0.lease) })
        let response: HTTPClientResponse
        do {
            response = try client.request(.bundle(job: job), at: coordinator, json: request.json, timeout: Self.bundleTimeout)
        } catch {
            return all(.done(.failed(message: "transfer of a bundle of \(items.count) files failed: \(error.message)", transient: true), changedDirectory: nil))
        }
        switch response.status {
        case 200: break
        case 404: return all(nil)  // a coordinator from before bundles
        case 410: return all(.jobGone)
        default:
            let transient = response.status >= 500 || response.status == 429 || response.status == 408
            return all(.done(.failed(message: "the coordinator answered \(response.status) for a bundle: \(response.bodyText)", transient: transient), changedDirectory: nil))
        }
        let frames: [(frame: BundleFrame, data: Range<Int>)]
        do {
            frames = try BundleFrame.split(response.body)
            guard frames.count == items.count, zip(frames, items).allSatisfy({ $0.frame.path == $1.path }) else {
                throw ProtocolError("bundle response: \(frames.count) frames for \(items.count) files, or not in the order asked")
            }
        } catch {
            logger.warning("the coordinator sent a bundle that does not parse: \(error)")
            return all(.done(.failed(message: "\(error)", transient: true), changedDirectory: nil))
        }
        return zip(frames, items).map { entry, item -> Result? in
            guard let tree = trees[item.target] else {
                return .done(.failed(message: "target \(item.target) is not part of this job at the agent", transient: false), changedDirectory: nil)
            }
            return receive(entry.frame, data: response.body[entry.data], item: item, tree: tree)
        }
    }

    /// One bundle frame's file, written to a temp file and staged; nil to fetch it alone.
    private func receive(_ frame: BundleFrame, data: ArraySlice<UInt8>, item: LeaseGrant.Item, tree: DestinationTree) -> Result? {
        if frame.status == 413 { return nil }
        if let refused = Self.refusal(status: frame.status, reason: frame.reason, detail: frame.message ?? "", path: item.path) {
            return refused
        }
        guard let version = frame.version, let expected = frame.checksum else { return nil }  // BundleFrame(json:) requires both for 200
        let pending: PendingFile
        do {
            pending = try tree.beginWrite(item.path, direct: ChunkWriter.wantsDirect(size: UInt64(data.count), allowed: directIO))
        } catch {
            return Self.writeFailure(error)
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
        if let failure { return Self.writeFailure(failure) }
        let hasher = XXH3Hasher()
        data.withUnsafeBytes { hasher.update($0) }
        return stage(pending, path: item.path, version: version, expected: expected, checksum: hasher.digest(),
                     received: UInt64(data.count), mode: frame.mode ?? 0o644)
    }

    /// Makes a batch's staged files in one tree durable and visible: all synced, then each
    /// renamed over its real name unless a newer version is already there, then the
    /// renames and the `removals`' folders synced. Each file's outcome, by position, and
    /// the folders whose sync failed (the caller fails what it reports in them).
    func commit(_ staged: [StagedDownload], tree: DestinationTree, removals: Set<RelativePath>) -> (outcomes: [WorkOutcome], failedDirectories: [RelativePath: SystemError]) {
        let (committed, failed) = tree.commit(staged.map(\.file), removals: removals) { index throws(SystemError) in
            let download = staged[index]
            let key = tree.displayPath(download.file.path)
            keyLocks.acquire(key)
            defer { keyLocks.release(key) }
            if let existing = Self.existingRecord(download.file), download.version.isOlder(than: existing.version) {
                return "a newer version of \(download.file.path) is already here"
            }
            try download.file.rename()
            return nil
        }
        let outcomes = zip(staged, committed).map { download, result -> WorkOutcome in
            switch result {
            case .renamed:
                // Remembered with the ctime the rename gave the file, so the listing at the
                // end of the run need not read the record back from every file.
                if download.recorded, let status = try? download.file.currentStatus() {
                    records.remember(WrittenRecord(version: download.version, checksum: download.checksum), for: status)
                }
                return .copied(version: download.version, checksum: download.checksum,
                               destinationInode: download.file.status.version.inode, bytesWritten: download.bytes)
            case .declined(let reason):
                return .failed(message: reason, transient: true)
            case .failed(let error):
                return .failed(message: error.description, transient: error.isTransient)
            }
        }
        return (outcomes, failed)
    }

    /// The record on the file that `file`'s rename would replace, if it has a valid one.
    static func existingRecord(_ file: StagedFile) -> WrittenRecord? {
        guard let fd = try? file.openExisting(), let status = try? fd.status() else { return nil }
        return WrittenRecord.current(on: fd, status: status)
    }
}
