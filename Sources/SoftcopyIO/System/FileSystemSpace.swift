import Glibc
import SoftcopyCore

/// Free and total bytes of the filesystem holding a path (statvfs), as an unprivileged
/// user may use them.
public enum FileSystemSpace {
    /// (0, 0) if the path cannot be looked at.
    public static func of(_ path: String) -> (free: UInt64, total: UInt64) {
        var fs = statvfs()
        guard PathBytes.withCString(path, { statvfs($0, &fs) }) == 0 else { return (0, 0) }
        return (UInt64(fs.f_bavail) * UInt64(fs.f_frsize), UInt64(fs.f_blocks) * UInt64(fs.f_frsize))
    }

    /// The same for the filesystem holding an open descriptor (a destination root: the
    /// space measured is where the writes go, whatever is mounted on its path since).
    public static func of(descriptor: Int32) -> (free: UInt64, total: UInt64) {
        var fs = statvfs()
        guard fstatvfs(descriptor, &fs) == 0 else { return (0, 0) }
        return (UInt64(fs.f_bavail) * UInt64(fs.f_frsize), UInt64(fs.f_blocks) * UInt64(fs.f_frsize))
    }
}
