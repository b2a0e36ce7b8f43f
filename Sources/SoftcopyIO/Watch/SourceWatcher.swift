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
public final class SourceWatcher: @unchecked Sendable {
    public enum Mode: Sendable, Hashable {
        case inotify
        case polling(Duration)
    }

    public let root: String
    public private(set) var mode: Mode
    /// What symbolic links in the archive become.
    public let symlinks: SymlinkPolicy
    private let handler: @Sendable ([SourceEvent]) -> Void
    private let stopping = Atomic<Bool>(false)
    private let sleeper = ConditionLock()
    private var thread: OSThread?

    // Touched only on the watcher thread (or on the caller's thread once it is joined).
    private var inotify: Inotify?
    private var pathByWatch: [Int32: RelativePath] = [:]
    private var watchByPath: [RelativePath: Int32] = [:]
    private var parentWatch: Int32 = -1
    private var rootPresent = true
    private var pending: [SourceEvent] = []
    private var warnedProblems: Set<RelativePath> = []
    private var watchLimitReached = false
    /// Set while `scanOnce` collects temp files, folders, unreadable folders and skipped entries.
    private var collecting: ScanResult?

    static let directoryMask = UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE
        | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
    static let parentMask = UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR)
    /// Events are handed over in batches of about this many.
    static let batchSize = 4096
    /// Interval of the fallback poller when inotify runs out of watches.
    public static let fallbackPollInterval: Duration = .seconds(2)

    public init(root: String, mode: Mode, symlinks: SymlinkPolicy = .inside, handler: @escaping @Sendable ([SourceEvent]) -> Void) {
        self.root = root
        self.mode = mode
        self.symlinks = symlinks
        self.handler = handler
    }

    /// Starts watching: an initial full scan, then events until `stop`.
    public func start() {
        thread = OSThread(name: "sc-watch") { [self] in run() }
    }

    /// Stops the thread and waits for it; events already read are delivered first.
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        inotify?.wake()
        sleeper.withLock { sleeper.broadcast() }
        thread?.join()
        thread = nil
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
        collecting = ScanResult()
        fullScan(kind, watch: false)
        flush()
        var result = collecting ?? ScanResult()
        collecting = nil
        result.temporaries.sort()
        result.skipped.sort()
        result.rootPresent = rootPresent
        return result
    }

    // MARK: - Thread body

    private func run() {
        if case .inotify = mode {
            do {
                let instance = try Inotify()
                inotify = instance
                runInotify(instance)
            } catch {
                emit(.warning("inotify unavailable (\(error)); polling \(root) every \(Quantity.formatDuration(Self.fallbackPollInterval)) instead"))
                mode = .polling(Self.fallbackPollInterval)
            }
        }
        if case .polling(let interval) = mode {
            runPolling(interval, initial: inotify == nil)
        }
        flush()
    }

    private var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    private func runInotify(_ inotify: Inotify) {
        let parent = PathNormalizer.directory(of: root)
        parentWatch = (try? inotify.addWatch(parent, mask: Self.parentMask)) ?? -1
        fullScan(.initial, watch: true)
        flush()
        while !isStopping, !watchLimitReached {
            do {
                let events = try inotify.waitForEvents(timeoutMilliseconds: 500)
                handle(events)
            } catch {
                emit(.warning("reading inotify events failed (\(error)); rescanning"))
                fullScan(.recovery, watch: true)
            }
            flush()
        }
        if watchLimitReached, !isStopping {
            let limit = (try? String(decoding: readSmallFile("/proc/sys/fs/inotify/max_user_watches"), as: UTF8.self))?
                .filter { $0.isNumber } ?? "?"
            emit(.warning("the inotify watch limit (fs.inotify.max_user_watches = \(limit)) is reached; polling \(root) every \(Quantity.formatDuration(Self.fallbackPollInterval)) instead. Raise it with: sysctl fs.inotify.max_user_watches=1048576"))
            for watch in pathByWatch.keys { inotify.removeWatch(watch) }
            pathByWatch.removeAll()
            watchByPath.removeAll()
            mode = .polling(Self.fallbackPollInterval)
        }
    }

    private func runPolling(_ interval: Duration, initial: Bool) {
        var kind: ScanKind = initial ? .initial : .poll
        while !isStopping {
            fullScan(kind, watch: false)
            flush()
            kind = .poll
            let deadline = Clock.now() + interval
            sleeper.withLock {
                while !isStopping, Clock.now() < deadline {
                    sleeper.wait(until: deadline)
                }
            }
        }
    }

    // MARK: - Scanning

    private func absolute(_ path: RelativePath) -> String {
        path.isRoot ? root : root + "/" + path.string
    }

    private func fullScan(_ kind: ScanKind, watch: Bool) {
        emit(.fullScanStarted)
        let rootStatus = try? FileStatus.of(root, followingLinks: true)
        if rootStatus?.kind == .directory {
            if !rootPresent {
                rootPresent = true
                emit(.rootRestored)
            }
            walk(.root, watch: watch, kind: kind)
        } else if rootPresent {
            rootPresent = false
            emit(.rootVanished)
        }
        emit(.fullScanFinished(kind))
    }

    /// Walks a directory tree, adding each directory's watch before listing it (not
    /// below a link: inotify does not follow links, so the scans copy what is there).
    private func walk(_ start: RelativePath, watch: Bool, kind: ScanKind, linked: Bool = false) {
        let walker = SourceTreeWalker(root: root, links: SourceLinks(policy: symlinks, root: root))
        if watch, !linked, !watchLimitReached { addWatch(start) }
        walker.walk(from: start, linked: linked) { item in
            switch item {
            case .directory(let path, let linked):
                collecting?.directories.insert(path)
                if watch, !linked, !watchLimitReached { addWatch(path) }
            case .file(let path, let status):
                if ZarrNaming.isTemporary(name: String(path.name)) {
                    collecting?.temporaries.append(path)
                } else {
                    emit(.observed(path, .file(status.version), .scan(kind)))
                }
            case .problem(let path, let message):
                notCopied(path, message)
            case .skipped(let path):
                collecting?.skipped.append(path)
            case .unreadable(let path, let error):
                emit(.warning("cannot list \(error)"))
                collecting?.unreadable[path] = error.description
            }
            if pending.count >= Self.batchSize { flush() }
            return true
        }
    }

    /// Something at the source that is not copied and is a problem: named in the verdict
    /// (by the final scan), and said once when it is first seen.
    private func notCopied(_ path: RelativePath, _ message: String) {
        collecting?.uncopyable[path] = message
        guard warnedProblems.insert(path).inserted, warnedProblems.count <= 20 else { return }
        emit(.warning("not copied: \(absolute(path)): \(message)\(warnedProblems.count == 20 ? " (further ones are named at the end only)" : "")"))
    }

    private func addWatch(_ directory: RelativePath) {
        guard let inotify else { return }
        do {
            // The root may be a link to the archive: watch what it points to. Below it, a
            // link is never followed (its content is copied by the scans).
            let mask = directory.isRoot ? Self.directoryMask & ~UInt32(IN_DONT_FOLLOW) : Self.directoryMask
            let watch = try inotify.addWatch(absolute(directory), mask: mask)
            if let old = watchByPath[directory], old != watch { pathByWatch[old] = nil }
            pathByWatch[watch] = directory
            watchByPath[directory] = watch
        } catch where error.errno == ENOSPC {
            watchLimitReached = true
        } catch {
            // ENOENT: removed before we got to it; its parent's events tell the rest.
            if !error.isNotFound { emit(.warning("cannot watch \(error)")) }
        }
    }

    private func unwatchSubtree(_ directory: RelativePath) {
        for (path, watch) in watchByPath where path.isInside(directory) {
            inotify?.removeWatch(watch)
            watchByPath[path] = nil
            pathByWatch[watch] = nil
        }
    }

    // MARK: - Events

    private func handle(_ events: [Inotify.Event]) {
        var i = 0
        while i < events.count {
            let event = events[i]
            let mask = event.mask
            if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                emit(.warning("the inotify event queue overflowed; rescanning \(root) (raise fs.inotify.max_queued_events to avoid this)"))
                fullScan(.recovery, watch: true)
                i += 1
                continue
            }
            if event.watch == parentWatch {
                handleParentEvent(event)
                i += 1
                continue
            }
            guard let directory = pathByWatch[event.watch] else {
                i += 1
                continue
            }
            if mask & UInt32(IN_IGNORED) != 0 {
                if watchByPath[directory] == event.watch { watchByPath[directory] = nil }
                pathByWatch[event.watch] = nil
                i += 1
                continue
            }
            if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
                if directory.isRoot { rootGone() }
                i += 1
                continue
            }
            let path = directory.appending(component: event.name)
            if mask & UInt32(IN_ISDIR) != 0 {
                if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                    walk(path, watch: true, kind: .newDirectory)
                } else if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
                    unwatchSubtree(path)
                    emit(.subtreeRemoved(path))
                }
                i += 1
                continue
            }
            // A run of events on one name (MOVED_TO then CLOSE_WRITE, or many MODIFYs)
            // needs one look.
            var flags: UInt32 = 0
            var j = i
            while j < events.count, events[j].watch == event.watch, events[j].name == event.name,
                  events[j].mask & UInt32(IN_ISDIR | IN_Q_OVERFLOW | IN_IGNORED) == 0 {
                flags |= events[j].mask
                j += 1
            }
            i = j
            if ZarrNaming.isTemporary(name: event.name) { continue }
            observe(path, flags: flags)
        }
    }

    private func observe(_ path: RelativePath, flags: UInt32) {
        let cause: ObservationCause
        if flags & UInt32(IN_MOVED_TO) != 0 {
            cause = .renamedInto
        } else if flags & UInt32(IN_CREATE) != 0 {
            cause = .createdInPlace
        } else if flags & UInt32(IN_MODIFY) != 0 {
            cause = .modifiedInPlace
        } else if flags & UInt32(IN_CLOSE_WRITE) != 0 {
            cause = .closedAfterWrite
        } else {
            cause = .removed
        }
        do {
            switch try FileStatus.of(absolute(path)) {
            case nil:
                emit(.observed(path, .absent, cause))
            case let status? where status.kind == .regular:
                emit(.observed(path, .file(status.version), cause))
            case let status? where status.kind == .symlink:
                switch SourceLinks(policy: symlinks, root: root).resolve(absolute(path)) {
                case .file(let target, _): emit(.observed(path, .file(target.version), cause))
                case .directory: walk(path, watch: false, kind: .newDirectory, linked: true)
                case .problem(let message): notCopied(path, message)
                case .skip: break
                }
            case let status?:
                if status.kind != .directory { notCopied(path, "a special file (FIFO, socket or device): there are no bytes to copy") }
            }
        } catch {
            emit(.warning("cannot look at \(error)"))
        }
    }

    private func handleParentEvent(_ event: Inotify.Event) {
        let rootName = String(root.split(separator: "/").last ?? "")
        guard event.name == rootName, event.mask & UInt32(IN_ISDIR) != 0 else { return }
        if event.mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
            // fullScan notices the root is back and reports it before rescanning.
            fullScan(.recovery, watch: true)
        } else if event.mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
            rootGone()
        }
    }

    private func rootGone() {
        guard rootPresent else { return }
        rootPresent = false
        unwatchSubtree(.root)
        emit(.rootVanished)
    }

    private func emit(_ event: SourceEvent) {
        pending.append(event)
    }

    private func flush() {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending.removeAll(keepingCapacity: true)
        handler(batch)
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
