import CSoftcopyShims
import Glibc
public import SoftcopyCore

/// Removing a source file once its copy is verified. The source root is opened as a
/// `DestinationTree` for this: the same beneath-the-root, no-symlink resolution keeps a
/// removal inside the archive.
extension DestinationTree {
    public enum RemovalOutcome: Sendable, Hashable {
        case removed
        /// Nothing at that name (removed before, by softcopy or someone else).
        case alreadyGone
        /// The file there is not the version that was verified (rewritten, touched,
        /// replaced, not a regular file): it stays.
        case changed(FileVersion?)
        /// A symbolic link (copied as what it points to): the link stays.
        case symbolicLink
        case failed(SystemError)
    }

    /// The name a file is moved to inside its folder while it is being removed: a temp
    /// name (`ZarrNaming.isTemporary`), so the watcher ignores it, unique per inode.
    static func removalName(_ inode: UInt64) -> String {
        temporaryPrefix + "rm-\(inode)"
    }

    /// Removes `path` only if it is still `expected`, the version whose copy was verified.
    ///
    /// The check and the unlink must be about the same inode, yet a writer may rename a
    /// new version over the name at any moment (tensorstore and zarr-python write a temp
    /// file and rename it). So the name is first checked (inode, size, mtime and ctime),
    /// then moved aside within its folder (an atomic rename takes whatever inode is there
    /// at that instant), and the file under the aside name is checked again (inode, size
    /// and mtime: the rename itself changes ctime) before it is unlinked. A file that
    /// fails the second check goes back under its name, unless the writer has put a newer
    /// one there meanwhile, in which case it stays under the aside name and is reported.
    /// A crash after the move leaves the aside name, which a later call for the same
    /// path and version finds and finishes. `linkRemoved`: another name of this inode was
    /// removed a moment ago, which changed its ctime (the link count is in the inode), so
    /// the first check leaves ctime out; inode, size and mtime still must match.
    public func removeIfUnchanged(_ path: RelativePath, expected: FileVersion, linkRemoved: Bool = false) -> RemovalOutcome {
        guard let parentPath = path.parent, !path.isRoot else { return .failed(SystemError("unlink", path: rootPath, errno: EISDIR)) }
        let folder: FileDescriptor
        do {
            folder = try openDirectory(parentPath, create: false)
        } catch where error.isNotFound {
            return .alreadyGone
        } catch {
            return .failed(error)
        }
        let dir = folder.rawValue
        let name = String(path.name)
        let aside = Self.removalName(expected.inode)
        let display = displayPath(path)
        switch Self.statusAt(dir, name) {
        case .failure(let code) where code == ENOENT:
            // An earlier attempt may have moved it aside and stopped there.
            guard case .success(let status) = Self.statusAt(dir, aside) else { return .alreadyGone }
            return Self.unlinkAside(dir, aside, name: name, status: status, expected: expected, display: display)
        case .failure(let code):
            return .failed(SystemError("stat", path: display, errno: code))
        case .success(let status):
            if status.kind == .symlink { return .symbolicLink }
            var seen = status.version
            if linkRemoved { seen.ctimeNanoseconds = expected.ctimeNanoseconds }
            guard status.kind == .regular, seen == expected else { return .changed(status.version) }
        }
        if PathBytes.withCString(name, { from in PathBytes.withCString(aside) { renameat(dir, from, dir, $0) } }) != 0 {
            let code = errno
            return code == ENOENT ? .alreadyGone : .failed(SystemError("rename", path: display, errno: code))
        }
        switch Self.statusAt(dir, aside) {
        case .success(let status):
            return Self.unlinkAside(dir, aside, name: name, status: status, expected: expected, display: display)
        case .failure(let code):
            return .failed(SystemError("stat", path: display, errno: code))
        }
    }

    private static func unlinkAside(_ dir: Int32, _ aside: String, name: String, status: FileStatus, expected: FileVersion, display: String) -> RemovalOutcome {
        let same = status.kind == .regular && status.version.inode == expected.inode
            && status.version.size == expected.size && status.version.mtimeNanoseconds == expected.mtimeNanoseconds
        guard same else {
            // Back under its name; never over a newer file the writer put there since.
            _ = PathBytes.withCString(aside) { from in PathBytes.withCString(name) { softcopy_rename_noreplace(dir, from, dir, $0) } }
            return .changed(status.version)
        }
        if PathBytes.withCString(aside, { unlinkat(dir, $0, 0) }) != 0 {
            let code = errno
            return code == ENOENT ? .alreadyGone : .failed(SystemError("unlink", path: display, errno: code))
        }
        return .removed
    }

    private enum StatusResult {
        case success(FileStatus)
        case failure(Int32)
    }

    private static func statusAt(_ dir: Int32, _ name: String) -> StatusResult {
        var st = stat()
        while true {
            if PathBytes.withCString(name, { fstatat(dir, $0, &st, AT_SYMLINK_NOFOLLOW) }) == 0 { return .success(FileStatus(st)) }
            if errno != EINTR { return .failure(errno) }
        }
    }
}
