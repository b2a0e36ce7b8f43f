import CSoftcopyShims
import Glibc
public import SoftcopyCore

/// A file being written under a temporary name in its final folder. `commit` makes it
/// durable and visible under its real name; dropping it without committing removes it,
/// so a failure never leaves a partial file under a real name.
public struct PendingFile: ~Copyable {
    let directory: FileDescriptor
    let file: FileDescriptor
    let temporaryName: String
    let finalName: String
    public let displayPath: String
    /// Opened with O_DIRECT: its bytes go through a `ChunkWriter`, in aligned pieces.
    public let isDirect: Bool
    private var committed = false

    init(directory: consuming FileDescriptor, file: consuming FileDescriptor, isDirect: Bool = false,
         temporaryName: String, finalName: String, displayPath: String) {
        self.directory = directory
        self.file = file
        self.isDirect = isDirect
        self.temporaryName = temporaryName
        self.finalName = finalName
        self.displayPath = displayPath
    }

    deinit {
        if !committed {
            _ = PathBytes.withCString(temporaryName) { unlinkat(directory.rawValue, $0, 0) }
        }
    }

    /// The temp file's descriptor, still owned by this PendingFile.
    public var rawDescriptor: Int32 { file.rawValue }

    /// For a file opened without O_DIRECT (a direct one takes only aligned pieces: `ChunkWriter`).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        assert(!isDirect, "a direct file is written through a ChunkWriter")
        try file.writeAll(bytes, path: displayPath)
    }

    public func write(_ bytes: [UInt8]) throws(SystemError) {
        assert(!isDirect, "a direct file is written through a ChunkWriter")
        try FileDescriptor.writeAll(file.rawValue, contentsOf: bytes, path: displayPath)
    }

    /// `size` bytes of the temp file from `offset` (fewer where it ends).
    func read(size: Int, at offset: UInt64) throws(SystemError) -> [UInt8] {
        try file.readAll(upTo: size, at: Int64(offset), path: displayPath)
    }

    public func setAttribute(_ name: String, _ value: [UInt8]) throws(SystemError) {
        try file.setAttribute(name, value, path: displayPath)
    }

    /// Re-reads the first `length` bytes written and returns their checksum and how many
    /// were there: the check "where it lands" before the rename makes it visible.
    public func checksumOfWrittenBytes(buffer: UnsafeMutableRawBufferPointer, length: UInt64 = .max) throws(SystemError) -> (Checksum, UInt64) {
        try file.checksum(buffer: buffer, path: displayPath, upTo: length)
    }

    /// Sets permissions and modification time, then fsyncs the data (which writes it back
    /// at once: no writeback is started before, whatever the size).
    public func finish(mode: UInt32, modificationTime: Int64?) throws(SystemError) {
        try settle(mode: mode, modificationTime: modificationTime, size: 0)
        try sync()
    }

    /// Files smaller than this are not written back one by one as they are settled: a
    /// batch's `syncfs` writes them all back at once. Starting each small file's writeback
    /// by itself (an allocation, a bio and a journal handle per file) cost about a tenth
    /// of the files per second (bench/small_files.py: 100,000 files of 16 KiB, 4913 ->
    /// 5451 files/s locally, 4069 -> 4472 through an agent).
    public static let writebackMinimum = ChunkWriter.directMinimum

    /// Sets permissions and modification time and, for a file of `writebackMinimum` bytes
    /// or more, starts writing its data back without waiting. A batch settles each of its
    /// files and then makes them durable together (`DestinationTree.commit`), where an
    /// fsync per file as it is written would commit the journal once per file.
    public func settle(mode: UInt32, modificationTime: Int64?, size: UInt64) throws(SystemError) {
        _ = try syscallRetrying("chmod", path: displayPath) { fchmod(file.rawValue, mode_t(mode & 0o777)) }
        if let mtime = modificationTime {
            var times = [
                // UTIME_OMIT ((1 << 30) - 2, not exported to Swift): leave atime alone.
                timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2),
                timespec(tv_sec: Int(mtime / 1_000_000_000), tv_nsec: Int(mtime % 1_000_000_000)),
            ]
            _ = try syscallRetrying("utimens", path: displayPath) { futimens(file.rawValue, &times) }
        }
        // Only a hint: a filesystem without it (some FUSE, old NFS) is synced by `sync` alone.
        if size >= Self.writebackMinimum { _ = softcopy_start_writeback(file.rawValue) }
    }

    /// Waits until the data and the file's metadata are on disk (fsync).
    public func sync() throws(SystemError) {
        try file.sync(path: displayPath)
    }

    /// Renames the temp file over the real name and returns the file's status there. With
    /// `syncDirectory` the rename itself is made durable too (otherwise the caller syncs
    /// the folder once for a batch).
    public consuming func commit(syncDirectory: Bool) throws(SystemError) -> FileStatus {
        let status = try status()
        try renameIntoPlace()
        if syncDirectory {
            try directory.sync(path: displayPath)
        }
        return status
    }

    /// The rename of `commit`, leaving both descriptors open for the batch's syncs.
    /// rename(2) itself refuses to put a file over a folder (EISDIR).
    mutating func renameIntoPlace() throws(SystemError) {
        _ = try syscallRetrying("rename", path: displayPath) {
            PathBytes.withCString(temporaryName) { from in PathBytes.withCString(finalName) { renameat(directory.rawValue, from, directory.rawValue, $0) } }
        }
        committed = true
    }

    /// Opens what has the real name now, for reading; nil if nothing does. One name in a
    /// folder already opened beneath the root, so no walk from the root again; no link is
    /// followed, and a FIFO planted there cannot block the open.
    func openFinal() throws(SystemError) -> FileDescriptor? {
        let fd = PathBytes.withCString(finalName) { openat(directory.rawValue, $0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        if fd >= 0 { return FileDescriptor(owning: fd) }
        if errno == ENOENT { return nil }
        throw SystemError("open", path: displayPath)
    }

    /// fstat of the temp file.
    func status() throws(SystemError) -> FileStatus {
        try file.status(path: displayPath)
    }

    /// syncfs of the filesystem the file is on: writes back and commits everything on it.
    func syncFileSystem() throws(SystemError) {
        _ = try syscallRetrying("syncfs", path: displayPath) { softcopy_syncfs(file.rawValue) }
    }

    /// fsync of the folder the file is in.
    func syncDirectory() throws(SystemError) {
        try directory.sync(path: displayPath)
    }
}
