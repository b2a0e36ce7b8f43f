import Glibc
import Synchronization
public import SoftcopyCore

/// Watches a source archive and reports every change as `SourceEvent`s, on a thread of
/// its own. With inotify it follows the rules measured on real writers:
/// - a new directory gets its watch *before* it is listed, so nothing created in between
///   is lost (plain recursive watching missed ~11% of a zarr v3 run);
/// - each event is only a hint to look: the path is lstat'ed when the event is handled, so
///   a late or reordered event can never install an older state;
/// - a queue overflow means a full rescan;
/// - the root's parent is watched too, so a root deleted and recreated (zarr-python
///   `mode='w'`) is picked up again.
/// Polling mode rescans on an interval instead (network filesystems, where inotify sees
/// nothing written by other hosts), and is the fallback when the watch limit is reached.
public final class SourceWatcher: Sendable {
    public enum Mode: Sendable, Hashable {
        case inotify
        case polling(Duration)
    }

    public let root: String
    /// What symbolic links in the archive become.
    public let symlinks: SymlinkPolicy
    /// What the watcher thread and `stop` share.
    private let control = WatchControl()
    private let thread = Mutex<OSThread?>(nil)
    /// The watch's state: held by the watcher thread while it runs, then by `scanOnce`.
    private let session: Mutex<WatchSession>

    static let directoryMask = UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE
        | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
    static let parentMask = UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR)
    /// Events are handed over in batches of about this many.
    static let batchSize = 4096
    /// Interval of the fallback poller when inotify runs out of watches.
    public static let fallbackPollInterval: Duration = .seconds(2)

    public init(root: String, mode: Mode, symlinks: SymlinkPolicy = .inside, handler: @escaping @Sendable ([SourceEvent]) -> Void) {
        self.root = root
        self.symlinks = symlinks
        self.session = Mutex(WatchSession(root: root, mode: mode, symlinks: symlinks, control: control, handler: handler))
    }

    /// Starts watching: an initial full scan, then events until `stop`.
    public func start() {
        control.stopping.store(false, ordering: .sequentiallyConsistent)
        let started = OSThread(name: "sc-watch") { [self] in session.withLock { $0.run() } }
        thread.withLock { $0 = started }
    }

    /// Stops the thread and waits for it; events already read are delivered first.
    public func stop() {
        control.stopping.store(true, ordering: .sequentiallyConsistent)
        control.wakePipe?.wake()
        control.sleeper.withLock { control.sleeper.broadcast() }
        thread.withLock { t -> OSThread? in
            defer { t = nil }
            return t
        }?.join()
    }

    /// What a scan on the caller's thread found besides the files it reported.
    public struct ScanResult: Sendable {
        /// Writer temp files: after the end, a crashed writer's leftovers.
        public var temporaries: [RelativePath] = []
        /// Every folder below the root, to mirror the source's folder structure.
        public var directories: Set<RelativePath> = []
        /// Folders that could not be listed, with why: their files are unknown.
        public var unreadable: [RelativePath: String] = [:]
        /// Symbolic links left out as `symlinks: skip` asks.
        public var skipped: [RelativePath] = []
        /// What is not copied, and is a problem: links outside the archive or in a loop,
        /// special files; with why.
        public var uncopyable: [RelativePath: String] = [:]
        public var rootPresent = true
    }

    /// One full scan on the calling thread (after `stop`, or instead of `start` for a
    /// finished source).
    @discardableResult
    public func scanOnce(_ kind: ScanKind) -> ScanResult {
        session.withLock { $0.scanOnce(kind) }
    }
}

/// Reads a small file whole (proc files, metadata).
public func readSmallFile(_ path: String, limit: Int = 64 << 20, links: SourceLinks? = nil) throws(SystemError) -> [UInt8] {
    guard let source = try SourceFile.open(path, links: links) else { throw SystemError("open", path: path, errno: ENOENT) }
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    defer { chunk.deallocate() }
    var bytes: [UInt8] = []
    var offset: Int64 = 0
    while bytes.count < limit {
        let n = try source.read(into: chunk, at: offset)
        if n == 0 { break }
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<n]))
        offset += Int64(n)
    }
    return bytes
}
