import Glibc
import SoftcopyCore
import SoftcopyIO

/// Performs one work item on this machine: copies a source file into the destination
/// tree, or deletes a destination file. The checksum is computed once, as the source is
/// read, and checked where the bytes land: the temp file is read back and must hash the
/// same before the rename makes it visible (a file written with O_DIRECT is read back
/// from the disk, not from the page cache). A copy is staged (written, checked, writeback
/// started), and `commit` finishes the whole batch together: durable, then renamed.
struct LocalTransfer {
    let sourceRoot: String
    /// How the source follows symbolic links.
    let links: SourceLinks
    let destination: DestinationTree
    /// A worker's own: reads, writes and read-backs go through its buffer.
    let writer: ChunkWriter
    /// Write files of `ChunkWriter.directMinimum` bytes or more with O_DIRECT, and read
    /// them back from the disk, not the cache.
    let directIO: Bool
    /// Called after each read with the bytes read (the --max-rate bucket).
    let throttle: (UInt64) -> Void
    /// Called when a write finds the destination full (ENOSPC, EDQUOT): retrying cannot
    /// help until space is freed, and the caller decides whether the run goes on.
    let noSpace: (SystemError) -> Void

    struct Result {
        var outcome: WorkOutcome
        var journal: JournalRecord?
        /// The folder a removal changed, to fsync once per batch.
        var changedDirectory: RelativePath?
    }

    enum Step {
        case done(Result)
        /// Written and checked under its temp name; `commit` finishes it.
        case staged(StagedCopy)
    }

    struct StagedCopy {
        let file: StagedFile
        let version: FileVersion
        let checksum: Checksum
        let bytes: UInt64
    }

    func perform(_ item: WorkItem) -> Step {
        switch item.operation {
        case .delete:
            do {
                try destination.remove(item.path, syncDirectory: false)
                return .done(Result(outcome: .deleted, journal: .deleted(item.path), changedDirectory: item.path.parent))
            } catch {
                return .done(Result(outcome: .failed(message: error.description, transient: error.isTransient)))
            }
        case .copy:
            do {
                return try copy(item)
            } catch {
                if error.isNoSpace { noSpace(error) }
                return .done(Result(outcome: .failed(message: error.description, transient: error.isTransient)))
            }
        }
    }

    /// Makes a batch's staged copies durable and visible: all synced, then renamed, then
    /// the renames and the `removals`' folders synced. Each copy's result, by position, and
    /// the folders whose sync failed (the caller fails what it reported in them).
    func commit(_ staged: [StagedCopy], removals: Set<RelativePath>) -> (results: [Result], failedDirectories: [RelativePath: SystemError]) {
        let (committed, failed) = destination.commit(staged.map(\.file), removals: removals) { index throws(SystemError) in
            try staged[index].file.rename()
            return nil
        }
        let results = zip(staged, committed).map { copy, result -> Result in
            switch result {
            case .renamed:
                let record = DestinationRecord(version: copy.version, checksum: copy.checksum, inode: copy.file.status.version.inode)
                return Result(
                    outcome: .copied(version: copy.version, checksum: copy.checksum, destinationInode: record.inode, bytesWritten: copy.bytes),
                    journal: .copied(copy.file.path, record))
            case .declined(let reason):
                return Result(outcome: .failed(message: reason, transient: true))
            case .failed(let error):
                if error.isNoSpace { noSpace(error) }
                return Result(outcome: .failed(message: error.description, transient: error.isTransient))
            }
        }
        for error in failed.values where error.isNoSpace { noSpace(error) }
        return (results, failed)
    }

    private func copy(_ item: WorkItem) throws(SystemError) -> Step {
        let sourcePath = sourceRoot + "/" + item.path.string
        guard let source = try SourceFile.open(sourcePath, links: links) else {
            return .done(Result(outcome: .sourceVanished))
        }
        let version = source.status.version

        switch item.destination {
        case .holds(let record) where record.version == version:
            // The destination already has exactly this version (a resumed run).
            return .done(Result(outcome: .unchanged(version: version, checksum: record.checksum, destinationInode: record.inode)))
        case .foreign(let size) where size == version.size:
            if let adopted = try adopt(item.path, source: source) {
                return .done(adopted)
            }
        default:
            break
        }

        let pending = try destination.beginWrite(item.path, direct: ChunkWriter.wantsDirect(size: version.size, allowed: directIO))
        writer.begin(pending)
        let hasher = XXH3Hasher()
        var offset: Int64 = 0
        while true {
            let n = try writer.fill { free throws(SystemError) in
                let n = try source.read(into: free, at: offset)
                hasher.update(UnsafeRawBufferPointer(rebasing: free[..<n]))
                return n
            }
            if n == 0 { break }
            throttle(UInt64(n))
            offset += Int64(n)
            // The whole opened version is read: no read to find the end. A file that grew
            // meanwhile fails the check below.
            if offset >= Int64(version.size) { break }
        }
        try writer.finish()
        if try source.changedSinceOpen(checkPath: item.requireStableRead) {
            return .done(Result(outcome: .changedWhileReading))  // the temp file is removed with `pending`
        }
        let checksum = hasher.digest()
        try pending.settle(mode: source.status.mode, modificationTime: version.mtimeNanoseconds)
        let (landed, length) = try pending.checksumOfWrittenBytes(buffer: writer.buffer, length: UInt64(offset))
        let staged = try StagedFile(pending, path: item.path)
        // The size from fstat stands for a last read that would have found the end.
        let size = staged.status.version.size
        guard landed == checksum, length == UInt64(offset), size == UInt64(offset) else {
            return .done(Result(outcome: .failed(
                message: "\(staged.displayPath): checksum mismatch where it landed (read back \(length) of \(size) bytes, \(landed.hex), expected \(offset) bytes, \(checksum.hex))",
                transient: true)))
        }
        return .staged(StagedCopy(file: staged, version: version, checksum: checksum, bytes: UInt64(offset)))
    }

    /// A destination file softcopy did not write, of the right size: if its checksum
    /// matches the source, keep it instead of writing the same bytes again.
    private func adopt(_ path: RelativePath, source: borrowing SourceFile) throws(SystemError) -> Result? {
        guard let existing = try destination.openForReading(path) else { return nil }
        let sourceSum = try source.descriptor.checksum(buffer: writer.buffer, path: source.path)
        let existingSum = try existing.checksum(buffer: writer.buffer, path: destination.displayPath(path))
        guard sourceSum.0 == existingSum.0, sourceSum.1 == existingSum.1,
              !(try source.changedSinceOpen(checkPath: false)) else { return nil }
        let version = source.status.version
        try destination.setModificationTime(path, nanoseconds: version.mtimeNanoseconds)
        let inode = try existing.status().version.inode
        let record = DestinationRecord(version: version, checksum: sourceSum.0, inode: inode)
        return Result(outcome: .unchanged(version: version, checksum: sourceSum.0, destinationInode: inode),
                      journal: .copied(path, record), changedDirectory: nil)
    }
}
