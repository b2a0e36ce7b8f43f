import Glibc
package import SoftcopyCore
package import SoftcopyIO

/// A destination folder as a copy job writes it, the same for an agent's targets and for
/// the local copy of a coordinator without agents: files are staged under a temp name in
/// their final folder, checked, then renamed in a group commit (`commit`). What differs
/// between the two is an option here, not a second pipeline.
package struct FolderStore: Store {
    package let tree: DestinationTree
    /// Write files of `ChunkWriter.directMinimum` bytes or more with O_DIRECT.
    package let directIO: Bool
    /// Read each staged file back (from the disk for an O_DIRECT one) and compare its
    /// checksum before it is renamed: the local copy's check of where the bytes landed.
    package let readBack: Bool
    /// Keeps the source version and checksum on each file (an extended attribute, which
    /// an agent's listing reads back) and remembers them in this cache; nil where the run
    /// keeps its own record (the local copy's journal).
    package let records: RecordCache?
    /// One writer at a time per file across threads, and never a rename over a newer
    /// version: nil where the destination has one writer (a local run holds its lock).
    package let keyLocks: KeyLocks?

    package init(tree: DestinationTree, directIO: Bool, readBack: Bool, records: RecordCache?, keyLocks: KeyLocks?) {
        self.tree = tree
        self.directIO = directIO
        self.readBack = readBack
        self.records = records
        self.keyLocks = keyLocks
    }

    package func beginWrite(_ path: RelativePath, size: UInt64) throws(SystemError) -> PendingFile {
        try tree.beginWrite(path, direct: ChunkWriter.wantsDirect(size: size, allowed: directIO))
    }

    /// Stages a written temp file: records the source version on it, sets its mode and
    /// mtime, starts its writeback and, with `readBack`, checks what landed. The failure
    /// to report if the bytes on disk are not the `received` bytes hashing to `checksum`.
    package func stage(_ pending: consuming PendingFile, path: RelativePath, version: FileVersion, checksum: Checksum,
                       received: UInt64, mode: UInt32, buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Result<StagedWrite, StageMismatch> {
        // A filesystem without extended attributes refuses the record: the file is then
        // listed without one, and the coordinator re-checks it.
        let recorded = records != nil
            && (try? pending.setAttribute(WrittenRecord.attributeName, WrittenRecord(version: version, checksum: checksum).bytes)) != nil
        try pending.settle(mode: mode, modificationTime: version.mtimeNanoseconds, size: received)
        if readBack {
            let (landed, length) = try pending.checksumOfWrittenBytes(buffer: buffer, length: received)
            let staged = try StagedFile(pending, path: path)
            // The size from fstat stands for a last read that would have found the end.
            let size = staged.status.version.size
            guard landed == checksum, length == received, size == received else {
                return .failure(StageMismatch(message: "\(staged.displayPath): checksum mismatch where it landed (read back \(length) of \(size) bytes, \(landed.hex), expected \(received) bytes, \(checksum.hex))"))
            }
            return .success(StagedWrite(file: staged, version: version, checksum: checksum, bytes: received, recorded: recorded))
        }
        return .success(StagedWrite(file: try StagedFile(pending, path: path), version: version, checksum: checksum, bytes: received, recorded: recorded))
    }

    /// Removes a file; its folder is synced with the batch (`commit`'s `removals`).
    package func remove(_ path: RelativePath) throws(SystemError) {
        _ = try tree.remove(path, syncDirectory: false)
    }

    /// Makes a batch's staged files durable and visible: all synced, then each renamed
    /// over its real name (with `keyLocks`, unless a newer version is already there), then
    /// the renames and the `removals`' folders synced. Each file's outcome, by position,
    /// the folders whose sync failed (the caller fails what it reports in them), and an
    /// error that says the disk is full, if one did.
    package func commit(_ staged: [StagedWrite], removals: Set<RelativePath>)
        -> (outcomes: [WorkOutcome], failedDirectories: [RelativePath: SystemError], noSpace: SystemError?) {
        let (committed, failed) = tree.commit(staged.map(\.file), removals: removals) { index throws(SystemError) in
            let file = staged[index]
            if let keyLocks {
                let key = tree.displayPath(file.file.path)
                keyLocks.acquire(key)
                defer { keyLocks.release(key) }
                if let existing = Self.existingRecord(file.file), file.version.isOlder(than: existing.version) {
                    return "a newer version of \(file.file.path) is already here"
                }
            }
            try file.file.rename()
            return nil
        }
        var noSpace = failed.values.first(where: \.isNoSpace)
        let outcomes = zip(staged, committed).map { file, result -> WorkOutcome in
            switch result {
            case .renamed:
                // Remembered with the ctime the rename gave the file, so the listing at the
                // end of the run need not read the record back from every file.
                if file.recorded, let records, let status = try? file.file.currentStatus() {
                    records.remember(WrittenRecord(version: file.version, checksum: file.checksum), for: status)
                }
                return .copied(version: file.version, checksum: file.checksum,
                               destinationInode: file.file.status.version.inode, bytesWritten: file.bytes)
            case .declined(let reason):
                return .failed(message: reason, transient: true)
            case .failed(let error):
                if error.isNoSpace { noSpace = noSpace ?? error }
                return .failed(message: error.description, transient: error.isTransient)
            }
        }
        return (outcomes, failed, noSpace)
    }

    package func put(_ path: RelativePath, _ bytes: [UInt8]) throws(SystemError) {
        try tree.writeWhole(path, bytes)
    }

    package func displayPath(_ path: RelativePath) -> String { tree.displayPath(path) }

    package var isWherePathLeads: Bool { tree.isWherePathLeads }

    /// The record on the file that `file`'s rename would replace, if it has a valid one.
    static func existingRecord(_ file: StagedFile) -> WrittenRecord? {
        guard let fd = try? file.openExisting(), let status = try? fd.status() else { return nil }
        return WrittenRecord.current(on: fd, status: status)
    }
}
