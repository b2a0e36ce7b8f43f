import Glibc
import SoftcopyCore
import SoftcopyIO

/// Performs one work item on this machine: copies a source file into the destination
/// tree, or deletes a destination file. The checksum is computed once, as the source is
/// read, and checked where the bytes land: the temp file is read back after fsync and
/// must hash the same before the rename makes it visible.
struct LocalTransfer {
    let sourceRoot: String
    let destination: DestinationTree
    /// A reusable buffer per worker: reads and read-backs go through it.
    let buffer: UnsafeMutableRawBufferPointer
    /// Called after each read with the bytes read (the --max-rate bucket).
    let throttle: (UInt64) -> Void

    struct Result {
        var outcome: WorkOutcome
        var journal: JournalRecord?
        /// The folder whose entries changed, to fsync once per batch.
        var changedDirectory: RelativePath?
    }

    func perform(_ item: WorkItem) -> Result {
        switch item.operation {
        case .delete:
            do {
                try destination.remove(item.path, syncDirectory: false)
                return Result(outcome: .deleted, journal: .deleted(item.path), changedDirectory: item.path.parent)
            } catch {
                return Result(outcome: .failed(message: error.description, transient: error.isTransient))
            }
        case .copy:
            do {
                return try copy(item)
            } catch {
                return Result(outcome: .failed(message: error.description, transient: error.isTransient))
            }
        }
    }

    private func copy(_ item: WorkItem) throws(SystemError) -> Result {
        let sourcePath = sourceRoot + "/" + item.path.string
        guard let source = try SourceFile.open(sourcePath) else {
            return Result(outcome: .sourceVanished)
        }
        let version = source.status.version

        switch item.destination {
        case .holds(let record) where record.version == version:
            // The destination already has exactly this version (a resumed run).
            return Result(outcome: .unchanged(version: version, checksum: record.checksum, destinationInode: record.inode))
        case .foreign(let size) where size == version.size:
            if let adopted = try adopt(item.path, source: source) {
                return adopted
            }
        default:
            break
        }

        let pending = try destination.beginWrite(item.path)
        let hasher = XXH3Hasher()
        var offset: Int64 = 0
        while true {
            let n = try source.read(into: buffer, at: offset)
            if n == 0 { break }
            throttle(UInt64(n))
            let piece = UnsafeRawBufferPointer(rebasing: buffer[..<n])
            hasher.update(piece)
            try pending.write(piece)
            offset += Int64(n)
        }
        if try source.changedSinceOpen(checkPath: item.requireStableRead) {
            return Result(outcome: .changedWhileReading)  // the temp file is removed with `pending`
        }
        let checksum = hasher.digest()
        try pending.finish(mode: source.status.mode, modificationTime: version.mtimeNanoseconds)
        let (landed, length) = try pending.checksumOfWrittenBytes(buffer: buffer)
        guard landed == checksum, length == UInt64(offset) else {
            return Result(outcome: .failed(
                message: "\(pending.displayPath): checksum mismatch where it landed (read back \(length) bytes, \(landed.hex), expected \(offset) bytes, \(checksum.hex))",
                transient: true))
        }
        let status = try pending.commit(syncDirectory: false)
        let record = DestinationRecord(version: version, checksum: checksum, inode: status.version.inode)
        return Result(
            outcome: .copied(version: version, checksum: checksum, destinationInode: record.inode, bytesWritten: UInt64(offset)),
            journal: .copied(item.path, record), changedDirectory: item.path.parent)
    }

    /// A destination file softcopy did not write, of the right size: if its checksum
    /// matches the source, keep it instead of writing the same bytes again.
    private func adopt(_ path: RelativePath, source: borrowing SourceFile) throws(SystemError) -> Result? {
        guard let existing = try destination.openForReading(path) else { return nil }
        let sourceSum = try source.descriptor.checksum(buffer: buffer, path: source.path)
        let existingSum = try existing.checksum(buffer: buffer, path: destination.displayPath(path))
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
