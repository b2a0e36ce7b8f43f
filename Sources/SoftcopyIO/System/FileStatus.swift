import Glibc
public import SoftcopyCore

/// What stat(2) says about a file, reduced to what softcopy uses.
public struct FileStatus: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case regular, directory, symlink, other
    }

    public var kind: Kind
    public var version: FileVersion
    public var mode: UInt32
    public var device: UInt64
    /// Hard links to it: 0 for a file unlinked (or replaced by a rename) while open.
    public var links: UInt64

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        version = FileVersion(
            inode: UInt64(st.st_ino),
            size: UInt64(max(st.st_size, 0)),
            mtimeNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
            ctimeNanoseconds: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec))
        mode = UInt32(st.st_mode & 0o7777)
        device = UInt64(st.st_dev)
        links = UInt64(st.st_nlink)
    }

    /// lstat(2) of `path` (stat(2) with `followingLinks`: a source root may be a link to
    /// the archive): nil if nothing is there.
    public static func of(_ path: String, followingLinks: Bool = false) throws(SystemError) -> FileStatus? {
        var st = stat()
        while true {
            if PathBytes.withCString(path, { followingLinks ? stat($0, &st) : lstat($0, &st) }) == 0 { return FileStatus(st) }
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT || code == ENOTDIR { return nil }
            throw SystemError("lstat", path: path, errno: code)
        }
    }

    /// fstatat(2) of `name` in the open directory `directory`, not following symlinks.
    /// `displayPath` is made only for an error (listings stat a million files).
    public static func of(_ name: String, in directory: Int32, displayPath: @autoclosure () -> String) throws(SystemError) -> FileStatus? {
        let result = PathBytes.withCString(name) { name in Result { () throws(SystemError) in try of(name, in: directory, displayPath: displayPath()) } }
        return try result.get()
    }

    /// The same, for a name as readdir gives it.
    public static func of(_ name: UnsafePointer<CChar>, in directory: Int32, displayPath: @autoclosure () -> String) throws(SystemError) -> FileStatus? {
        var st = stat()
        while true {
            if fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return FileStatus(st) }
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT || code == ENOTDIR { return nil }
            throw SystemError("stat", path: displayPath(), errno: code)
        }
    }
}
