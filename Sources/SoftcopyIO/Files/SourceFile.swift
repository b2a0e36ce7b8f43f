import Glibc
import SoftcopyCore

/// One version of a source file, held through one descriptor: opened once, its version
/// taken with fstat on that descriptor, and every byte read from it. A writer that
/// renames a new version over the name cannot mix two versions into one copy.
public struct SourceFile: ~Copyable {
    public let descriptor: FileDescriptor
    public let status: FileStatus
    public let path: String
    /// The file that was opened: `path`, or where the link at `path` leads.
    public let openedPath: String

    /// O_NOATIME (a GNU flag Swift does not import): reading must not touch the source.
    static let noAccessTime: Int32 = 0o1000000

    /// Files above this size are read in several calls and get POSIX_FADV_SEQUENTIAL.
    static let sequentialHintAbove: UInt64 = 4 << 20

    /// Opens `path` for reading without following a symlink, unless `links` says the
    /// link stands for a file to copy (then that file is opened). Nil if it is gone.
    public static func open(_ path: String, links: SourceLinks? = nil) throws(SystemError) -> SourceFile? {
        do {
            return try open(path, opening: path)
        } catch where error.errno == ELOOP {
            guard let links, case .file(_, let target) = links.resolve(path) else { throw error }
            return try open(path, opening: target)
        }
    }

    private static func open(_ path: String, opening target: String) throws(SystemError) -> SourceFile? {
        var fd: Int32 = -1
        while true {
            fd = PathBytes.withCString(target) { Glibc.open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | Self.noAccessTime) }
            if fd >= 0 { break }
            let code = errno
            if code == EINTR { continue }
            // O_NOATIME is only allowed to the file's owner.
            if code == EPERM {
                fd = PathBytes.withCString(target) { Glibc.open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
                if fd >= 0 { break }
            }
            let final = fd < 0 ? errno : code
            if final == ENOENT || final == ENOTDIR { return nil }
            if final == ELOOP { throw SystemError("open", path: path, errno: ELOOP) }
            throw SystemError("open", path: path, errno: final)
        }
        let descriptor = FileDescriptor(owning: fd)
        let status = try descriptor.status(path: path)
        guard status.kind == .regular else {
            throw SystemError("open", path: path, errno: EISDIR)
        }
        // A file that fits in one read needs no readahead hint.
        if status.version.size > Self.sequentialHintAbove {
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        }
        return SourceFile(descriptor: descriptor, status: status, path: path, openedPath: target)
    }

    /// Gives up the descriptor (to be sent with sendfile and closed by the sender).
    public consuming func releaseDescriptor() -> Int32 {
        descriptor.release()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemError) -> Int {
        try descriptor.read(into: buffer, at: offset, path: path)
    }

    /// True if the file changed since it was opened. Through the descriptor means an
    /// in-place write (atomic writers never touch an inode once it has its real name).
    /// With `checkPath`, a different file at the path counts too: for in-place writers,
    /// where only a file that stayed put through a quiet period is trusted.
    public func changedSinceOpen(checkPath: Bool) throws(SystemError) -> Bool {
        let now = try descriptor.status(path: path)
        // An atomic writer's rename of a newer version over the name unlinks this inode,
        // which sets its ctime and nothing else: its bytes are the version opened. (Taken
        // for an in-place write, it switched whole archives to in-place handling, with
        // its quiet period, whenever a read met a rewrite.)
        let replacedIntact = now.links == 0 && now.version.inode == status.version.inode && now.version.size == status.version.size
            && now.version.mtimeNanoseconds == status.version.mtimeNanoseconds
        guard now.version == status.version || replacedIntact else { return true }
        guard checkPath else { return false }
        guard let atPath = try FileStatus.of(openedPath) else { return true }
        return atPath.version.inode != status.version.inode
    }
}
