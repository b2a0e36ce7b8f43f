import Glibc
import Synchronization
import SoftcopyCore

/// What a `SourceWatcher`'s thread and its `stop` share.
final class WatchControl: Sendable {
    let stopping = Atomic<Bool>(false)
    /// Wakes a polling watcher's sleep.
    let sleeper = ConditionLock()
    /// Wakes the watcher thread out of its wait for inotify events (nil: no pipe could be
    /// made; the wait's 500 ms time-out ends it then).
    let wakePipe = try? WakePipe()
}

/// A source watch's state and its work: one thread at a time has it (the watcher thread
/// while it runs, then the caller of `scanOnce`), so it needs no lock of its own.
final class WatchSession {
    let root: String
    /// What symbolic links in the archive become.
    let symlinks: SymlinkPolicy
    private var mode: SourceWatcher.Mode
    private let control: WatchControl
    private let handler: @Sendable ([SourceEvent]) -> Void

    private var inotify: Inotify?
    private var pathByWatch: [Int32: RelativePath] = [:]
    private var watchByPath: [RelativePath: Int32] = [:]
    private var parentWatch: Int32 = -1
    private var rootPresent = true
    private var pending: [SourceEvent] = []
    private var warnedProblems: Set<RelativePath> = []
    private var watchLimitReached = false
    /// Set while `scanOnce` collects temp files, folders, unreadable folders and skipped entries.
    private var collecting: SourceWatcher.ScanResult?


    init(root: String, mode: SourceWatcher.Mode, symlinks: SymlinkPolicy, control: WatchControl, handler: @escaping @Sendable ([SourceEvent]) -> Void) {
        self.root = root
        self.mode = mode
        self.symlinks = symlinks
        self.control = control
        self.handler = handler
    }

    /// One full scan on the calling thread (after `stop`, or instead of `start` for a
    /// finished source).
    func scanOnce(_ kind: ScanKind) -> SourceWatcher.ScanResult {
        collecting = SourceWatcher.ScanResult()
        fullScan(kind, watch: false)
        flush()
        var result = collecting ?? SourceWatcher.ScanResult()
        collecting = nil
        result.temporaries.sort()
        result.skipped.sort()
        result.rootPresent = rootPresent
        return result
    }

    // MARK: - Thread body

    func run() {
        if case .inotify = mode {
            do {
                let instance = try Inotify(wakePipe: control.wakePipe ?? WakePipe())
                inotify = instance
                runInotify(instance)
            } catch {
                emit(.warning("inotify unavailable (\(error)); polling \(root) every \(Quantity.formatDuration(SourceWatcher.fallbackPollInterval)) instead"))
                mode = .polling(SourceWatcher.fallbackPollInterval)
            }
        }
        if case .polling(let interval) = mode {
            runPolling(interval, initial: inotify == nil)
        }
        flush()
    }

    private var isStopping: Bool { control.stopping.load(ordering: .sequentiallyConsistent) }

    private func runInotify(_ inotify: Inotify) {
        let parent = PathNormalizer.directory(of: root)
        parentWatch = (try? inotify.addWatch(parent, mask: SourceWatcher.parentMask)) ?? -1
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
            emit(.warning("the inotify watch limit (fs.inotify.max_user_watches = \(limit)) is reached; polling \(root) every \(Quantity.formatDuration(SourceWatcher.fallbackPollInterval)) instead. Raise it with: sysctl fs.inotify.max_user_watches=1048576"))
            for watch in pathByWatch.keys { inotify.removeWatch(watch) }
            pathByWatch.removeAll()
            watchByPath.removeAll()
            mode = .polling(SourceWatcher.fallbackPollInterval)
        }
    }

    private func runPolling(_ interval: Duration, initial: Bool) {
        var kind: ScanKind = initial ? .initial : .poll
        while !isStopping {
            fullScan(kind, watch: false)
            flush()
            kind = .poll
            let deadline = Clock.now() + interval
            control.sleeper.withLock {
                while !isStopping, Clock.now() < deadline {
                    control.sleeper.wait(until: deadline)
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
            if pending.count >= SourceWatcher.batchSize { flush() }
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
            let mask = directory.isRoot ? SourceWatcher.directoryMask & ~UInt32(IN_DONT_FOLLOW) : SourceWatcher.directoryMask
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
