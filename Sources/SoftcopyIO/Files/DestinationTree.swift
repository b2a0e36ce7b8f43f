import CSoftcopyShims
import Glibc
import Synchronization
public import SoftcopyCore

/// A destination root that nothing can be written outside of. Every path is opened
/// beneath the root's descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) (or
/// an O_NOFOLLOW walk on old kernels), so `..`, absolute keys and symlinks planted in
/// the tree cannot lead a write elsewhere. Files are written to a temporary name in
/// their final folder, made durable, checked, and only then renamed into place.
public final class DestinationTree: Sendable {
    public let rootPath: String
    private let rootDescriptor: Int32
    private let temporaryCounter = Atomic<UInt64>(0)
    /// The root's filesystem, if one syncfs makes a batch on it durable; nil where syncfs
    /// may do nothing (FUSE without FUSE_SYNCFS), so each file and folder is fsynced.
    let syncfsDevice: UInt64?

    /// Temp files start with this; anything so named at start-up is a crash's leftover.
    public static let temporaryPrefix = ".softcopy-tmp-"
    /// The prefix and this process's ID, so concurrent writers never pick the same name.
    private static let temporaryStem = temporaryPrefix + "\(getpid())-"
    /// softcopy's own folder at the destination root: journal and manifest.
    public static let stateDirectoryName = ZarrNaming.stateDirectoryName

    /// Opens (and with `create`, makes) the root folder.
    public init(root: String, create: Bool) throws(SystemError) {
        rootPath = root
        if create {
            try Self.makeDirectories(root)
        }
        rootDescriptor = try syscallRetrying("open", path: root) {
            PathBytes.withCString(root) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        }
        syncfsDevice = Self.syncfsDevice(of: rootDescriptor)
    }

    private init(rootPath: String, descriptor: Int32) {
        self.rootPath = rootPath
        self.rootDescriptor = descriptor
        syncfsDevice = Self.syncfsDevice(of: descriptor)
    }

    private static let fuseMagic = 0x6573_5546

    private static func syncfsDevice(of fd: Int32) -> UInt64? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let type = softcopy_filesystem_type(fd)
        guard type >= 0, type != fuseMagic else { return nil }
        return UInt64(st.st_dev)
    }

    /// A tree rooted at a folder beneath this one (made if missing), reached without
    /// following any symlink: an agent's job writes under its root and nowhere else.
    public func subtree(_ directory: RelativePath, create: Bool) throws(SystemError) -> DestinationTree {
        let fd = try openDirectory(directory, create: create)
        return DestinationTree(rootPath: displayPath(directory), descriptor: fd.release())
    }

    deinit {
        close(rootDescriptor)
    }

    /// Free and total bytes where this tree's files go (its root's filesystem).
    public func space() -> (free: UInt64, total: UInt64) {
        FileSystemSpace.of(descriptor: rootDescriptor)
    }

    /// The root's device and inode: what its path must still lead to.
    public var identity: (device: UInt64, inode: UInt64)? {
        var st = stat()
        return fstat(rootDescriptor, &st) == 0 ? (UInt64(st.st_dev), UInt64(st.st_ino)) : nil
    }

    /// Whether the root's path still leads to the folder held open (false when something
    /// was mounted on it since, or it was removed or made again).
    public var isWherePathLeads: Bool {
        guard let now = try? FileStatus.of(rootPath, followingLinks: true) else { return false }
        return isFolder(now)
    }

    /// Whether `status` (of a path, taken by the caller) is of the folder held open.
    public func isFolder(_ status: FileStatus) -> Bool {
        guard let held = identity else { return false }
        return held.device == status.device && held.inode == status.version.inode
    }

    /// Whether the root is the root of a mounted filesystem (nil if that cannot be told).
    public var isMountPoint: Bool? {
        let answer = softcopy_is_mount_root(rootDescriptor)
        return answer < 0 ? nil : answer == 1
    }

    /// The device of the root's filesystem (trees on one device share its free space).
    public var device: UInt64 {
        var st = stat()
        return fstat(rootDescriptor, &st) == 0 ? UInt64(st.st_dev) : 0
    }

    public func displayPath(_ path: RelativePath) -> String {
        path.isRoot ? rootPath : rootPath + "/" + path.string
    }

    /// mkdir -p for the root itself, or another trusted, configured path (a state folder).
    public static func makeDirectories(_ absolute: String) throws(SystemError) {
        var current = ""
        for component in absolute.split(separator: "/") {
            current += "/" + component
            if PathBytes.withCString(current, { mkdir($0, 0o755) }) != 0, errno != EEXIST {
                throw SystemError("mkdir", path: current)
            }
        }
    }

    /// Opens a directory beneath the root, creating it (and its parents) if asked.
    public func openDirectory(_ directory: RelativePath, create: Bool) throws(SystemError) -> FileDescriptor {
        let relative = directory.isRoot ? "." : directory.string
        let fd = PathBytes.withCString(relative) { softcopy_open_beneath(rootDescriptor, $0, O_RDONLY | O_DIRECTORY, 0) }
        if fd >= 0 { return FileDescriptor(owning: fd) }
        let code = errno
        guard code == ENOENT, create, let parentPath = directory.parent else {
            throw SystemError("open", path: displayPath(directory), errno: code)
        }
        // Make the missing folder beneath its checked parent, which is found (or made) the
        // same way: nested chunk keys usually lack only the last folder or two.
        let parent = try openDirectory(parentPath, create: true)
        let name = String(directory.name)
        if PathBytes.withCString(name, { mkdirat(parent.rawValue, $0, 0o755) }) != 0, errno != EEXIST {
            throw SystemError("mkdir", path: displayPath(directory))
        }
        return FileDescriptor(owning: try syscallRetrying("open", path: displayPath(directory)) {
            PathBytes.withCString(name) { openat(parent.rawValue, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        })
    }

    /// Starts writing `path`: a new temp file in its final folder. With `direct` it is
    /// opened with O_DIRECT where the filesystem allows it (`PendingFile.isDirect`), to be
    /// written through a `ChunkWriter`.
    public func beginWrite(_ path: RelativePath, direct: Bool = false) throws(SystemError) -> PendingFile {
        guard let parent = path.parent, !path.isRoot else {
            throw SystemError("write", path: rootPath, errno: EISDIR)
        }
        let directory = try openDirectory(parent, create: true)
        let finalName = String(path.name)
        let n = temporaryCounter.wrappingAdd(1, ordering: .relaxed).newValue
        // Keep the temp name within NAME_MAX however long the final name is.
        let temporaryName = Self.temporaryStem + "\(n)-" + String(decoding: finalName.utf8.prefix(180), as: UTF8.self)
        let flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        var isDirect = direct
        var fd = isDirect ? PathBytes.withCString(temporaryName) { openat(directory.rawValue, $0, flags | softcopy_direct_flag(), 0o600) } : -1
        if fd < 0 {
            let code = errno
            // EINVAL: this filesystem has no O_DIRECT (tmpfs before Linux 6.6, some FUSE).
            if isDirect, code != EINVAL, code != EINTR {
                throw SystemError("create", path: displayPath(path), errno: code)
            }
            isDirect = false
            fd = try syscallRetrying("create", path: displayPath(path)) {
                PathBytes.withCString(temporaryName) { openat(directory.rawValue, $0, flags, 0o600) }
            }
        }
        return PendingFile(
            directory: directory, file: FileDescriptor(owning: fd), isDirect: isDirect,
            temporaryName: temporaryName, finalName: finalName, displayPath: displayPath(path))
    }

    /// lstat of a path beneath the root; nil if nothing is there.
    public func status(of path: RelativePath) throws(SystemError) -> FileStatus? {
        guard let parent = path.parent else { return nil }
        let directory: FileDescriptor
        do {
            directory = try openDirectory(parent, create: false)
        } catch where error.isNotFound {
            return nil
        }
        return try FileStatus.of(String(path.name), in: directory.rawValue, displayPath: displayPath(path))
    }

    /// Removes a file beneath the root; true if it was there.
    @discardableResult
    public func remove(_ path: RelativePath, syncDirectory: Bool) throws(SystemError) -> Bool {
        guard let parent = path.parent else { return false }
        let directory: FileDescriptor
        do {
            directory = try openDirectory(parent, create: false)
        } catch where error.isNotFound {
            return false
        }
        let folder = directory.rawValue
        if PathBytes.withCString(String(path.name), { unlinkat(folder, $0, 0) }) != 0 {
            if errno == ENOENT { return false }
            throw SystemError("unlink", path: displayPath(path))
        }
        if syncDirectory { try directory.sync(path: displayPath(parent)) }
        return true
    }

    /// fsync of a directory beneath the root, making renames and unlinks in it durable.
    public func syncDirectory(_ directory: RelativePath) throws(SystemError) {
        do {
            let fd = try openDirectory(directory, create: false)
            try fd.sync(path: displayPath(directory))
        } catch where error.isNotFound {
            return
        }
    }

    /// Makes removals durable: each folder that lost files is fsynced once. The removals
    /// made durable, and those whose folder failed its sync (not to be reported done).
    public func syncRemovals(_ removed: [RelativePath]) -> (durable: [RelativePath], failed: [(RelativePath, SystemError)]) {
        var durable: [RelativePath] = []
        var failed: [(RelativePath, SystemError)] = []
        for (folder, paths) in Dictionary(grouping: removed, by: { $0.parent ?? .root }) {
            do {
                try syncDirectory(folder)
                durable += paths
            } catch {
                failed += paths.map { ($0, error) }
            }
        }
        return (durable, failed)
    }

    /// Sets a file's modification time (a foreign file adopted by checksum gets the
    /// source's mtime, as a copy would have).
    public func setModificationTime(_ path: RelativePath, nanoseconds mtime: Int64) throws(SystemError) {
        guard let parent = path.parent else { return }
        let directory = try openDirectory(parent, create: false)
        var times = [
            timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2),  // UTIME_OMIT
            timespec(tv_sec: Int(mtime / 1_000_000_000), tv_nsec: Int(mtime % 1_000_000_000)),
        ]
        let folder = directory.rawValue
        _ = try syscallRetrying("utimens", path: displayPath(path)) {
            PathBytes.withCString(String(path.name)) { utimensat(folder, $0, &times, AT_SYMLINK_NOFOLLOW) }
        }
    }

    /// Removes an empty folder beneath the root; false if it is not empty or not there.
    @discardableResult
    public func removeEmptyDirectory(_ path: RelativePath) throws(SystemError) -> Bool {
        guard let parent = path.parent else { return false }
        let directory: FileDescriptor
        do {
            directory = try openDirectory(parent, create: false)
        } catch where error.isNotFound {
            return false
        }
        let folder = directory.rawValue
        if PathBytes.withCString(String(path.name), { unlinkat(folder, $0, AT_REMOVEDIR) }) != 0 {
            if errno == ENOTEMPTY || errno == EEXIST || errno == ENOENT { return false }
            throw SystemError("rmdir", path: displayPath(path))
        }
        return true
    }

    /// Every folder below the root, except softcopy's state folder. Breadth first until
    /// there are folders enough to share out, then each subtree on its own core: a
    /// zarr archive has a folder for every few chunks, and the end of a run waits for this.
    public func directories() throws(SystemError) -> [RelativePath] {
        var result: [RelativePath] = []
        var level: [RelativePath] = [.root]
        while !level.isEmpty, level.count < Self.parallelFolders {
            var next: [RelativePath] = []
            for directory in level { try subdirectories(of: directory, into: &next) }
            result += next
            level = next
        }
        let subtrees = level
        let parts = Parallel.map(subtrees.count) { i throws(SystemError) in
            var found: [RelativePath] = []
            var stack = [subtrees[i]]
            while let directory = stack.popLast() {
                let start = found.count
                try subdirectories(of: directory, into: &found)
                stack += found[start...]
            }
            return found
        }
        for part in parts { result += try part.get() }
        return result
    }

    /// Folders a walk fans out over (several per core, as subtrees differ).
    static let parallelFolders = 16

    private func subdirectories(of directory: RelativePath, into found: inout [RelativePath]) throws(SystemError) {
        guard let entries = try entries(in: directory, statFiles: false) else { return }
        for entry in entries where entry.kind == .directory {
            if directory.isRoot, entry.name == Self.stateDirectoryName { continue }
            found.append(directory.appending(component: entry.name))
        }
    }

    /// Calls `body` for each entry of `folder`, listed through a descriptor opened beneath
    /// the root: listings, like writes and free space, are of this tree, whatever has been
    /// mounted on its path since. False if there is no such folder.
    public func forEachEntry(in folder: RelativePath, statFiles: Bool = true,
                             _ body: (DirectoryLister.OpenEntry) throws(SystemError) -> Void) throws(SystemError) -> Bool {
        let fd: FileDescriptor
        do {
            fd = try openDirectory(folder, create: false)
        } catch where error.isNotFound {
            return false
        }
        try DirectoryLister.forEach(directory: fd, displayPath: displayPath(folder), statFiles: statFiles, body)
        return true
    }

    /// The entries of `folder` (see `forEachEntry`); nil if there is no such folder.
    public func entries(in folder: RelativePath, statFiles: Bool = true) throws(SystemError) -> [DirectoryLister.Entry]? {
        var entries: [DirectoryLister.Entry] = []
        guard try forEachEntry(in: folder, statFiles: statFiles, { open throws(SystemError) in entries.append(open.entry) }) else { return nil }
        return entries
    }

    /// Every entry below the root, folders before their contents; `visit` says whether to
    /// go into a folder. Folders that vanish meanwhile are skipped.
    public func walk(_ visit: (RelativePath, DirectoryLister.Entry) throws(SystemError) -> Bool) throws(SystemError) {
        var stack: [RelativePath] = [.root]
        while let folder = stack.popLast() {
            for entry in try entries(in: folder) ?? [] {
                let path = folder.appending(component: entry.name)
                if try visit(path, entry), entry.kind == .directory { stack.append(path) }
            }
        }
    }

    /// Opens a file beneath the root for reading (verification, serving it back).
    public func openForReading(_ path: RelativePath) throws(SystemError) -> FileDescriptor? {
        // O_NONBLOCK: a FIFO planted in the tree must not block the open (regular files ignore it).
        let fd = PathBytes.withCString(path.string) { softcopy_open_beneath(rootDescriptor, $0, O_RDONLY | O_NONBLOCK, 0) }
        if fd >= 0 { return FileDescriptor(owning: fd) }
        if errno == ENOENT { return nil }
        throw SystemError("open", path: displayPath(path))
    }
}
