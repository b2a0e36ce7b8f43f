import Glibc
import Synchronization
import Testing
import SoftcopyCore
import SoftcopyIO
import SoftcopyTesting

/// Collects what a watcher reports.
final class EventLog: Sendable {
    let events = Mutex<[SourceEvent]>([])

    func append(_ batch: [SourceEvent]) {
        events.withLock { $0.append(contentsOf: batch) }
    }

    var presentPaths: Set<String> {
        events.withLock { all in
            Set(all.compactMap { event -> String? in
                if case .observed(let path, .file, _) = event { return path.string }
                return nil
            })
        }
    }

    func causes(of path: String) -> [ObservationCause] {
        events.withLock { all in
            all.compactMap { event in
                if case .observed(let p, _, let cause) = event, p.string == path { return cause }
                return nil
            }
        }
    }
}

func touch(_ path: String, _ text: String = "x") {
    TestDirectory.write(text, to: path)
}

@Suite("Source watcher: inotify, the way real writers behave", .serialized)
struct SourceWatcherTests {
    /// A started watcher on a new `src` folder (holding `first`), after its initial scan.
    /// The test keeps it, and with it the folder.
    struct Watching {
        let directory = TestDirectory("watch")
        let log = EventLog()
        let watcher: SourceWatcher
        var root: String { directory.appending("src") }

        init(_ mode: SourceWatcher.Mode = .inotify) throws {
            let root = directory.appending("src")
            _ = mkdir(root, 0o755)
            touch(root + "/first")
            let log = self.log
            watcher = SourceWatcher(root: root, mode: mode) { log.append($0) }
            watcher.start()
            try ChildProcess.waitUntil(timeout: .seconds(10), "the initial scan") {
                log.events.withLock { $0 }.contains(.fullScanFinished(.initial))
            }
        }
    }

    @Test("files in directories created right before them are all seen (watch first, then scan)")
    func newDirectoriesRace() throws {
        let w = try Watching()
        let (root, log, watcher) = (w.root, w.log, w.watcher)
        var expected: Set<String> = ["first"]
        for t in 0..<40 {
            let time = root + "/c/\(t)"
            _ = mkdir(root + "/c", 0o755)
            _ = mkdir(time, 0o755)
            for z in 0..<5 {
                _ = mkdir(time + "/\(z)", 0o755)
                // The tensorstore way: a temp name renamed over the real one, at once.
                touch(time + "/\(z)/0.__lock")
                rename(time + "/\(z)/0.__lock", time + "/\(z)/0")
                expected.insert("c/\(t)/\(z)/0")
            }
        }
        try ChildProcess.waitUntil(timeout: .seconds(20), "every file to be reported") { log.presentPaths.isSuperset(of: expected) }
        watcher.stop()
        #expect(log.presentPaths == expected, "temp files are never reported")
    }

    @Test("causes: a rename into a real name, and a file created in place")
    func causes() throws {
        let w = try Watching()
        let (root, log, watcher) = (w.root, w.log, w.watcher)
        touch(root + "/a.__lock")
        rename(root + "/a.__lock", root + "/a")
        touch(root + "/b")
        unlink(root + "/first")
        try ChildProcess.waitUntil(timeout: .seconds(10), "events") {
            log.causes(of: "b").contains(.createdInPlace) && log.causes(of: "first").contains(.removed)
        }
        watcher.stop()
        #expect(log.causes(of: "a").first == .renamedInto)
        #expect(log.causes(of: "a.__lock").isEmpty)
    }

    @Test("the root removed and made again is noticed, and rescanned")
    func rootRecreated() throws {
        let w = try Watching()
        let (root, log, watcher) = (w.root, w.log, w.watcher)
        try ChildProcess.run(["/bin/rm", "-rf", root], timeout: .seconds(10))
        _ = mkdir(root, 0o755)
        touch(root + "/new")
        try ChildProcess.waitUntil(timeout: .seconds(10), "the new root's file") { log.presentPaths.contains("new") }
        watcher.stop()
        let all = log.events.withLock { $0 }
        #expect(all.contains(.rootVanished))
        #expect(all.contains(.rootRestored))
    }

    @Test("polling mode reports changes without inotify")
    func polling() throws {
        let w = try Watching(.polling(.milliseconds(50)))
        let (root, log, watcher) = (w.root, w.log, w.watcher)
        _ = mkdir(root + "/deep", 0o755)
        _ = mkdir(root + "/deep/er", 0o755)
        touch(root + "/deep/er/file")
        try ChildProcess.waitUntil(timeout: .seconds(10), "a poll to see the file") { log.presentPaths.contains("deep/er/file") }
        watcher.stop()
        let seenBy = log.causes(of: "deep/er/file")
        #expect(seenBy.first == .scan(.poll))
    }

    @Test("a scan reports temp files apart, as leftovers, and skips softcopy's state folder")
    func scanLeftovers() throws {
        let dir = TestDirectory("scan")
        let root = dir.appending("src")
        _ = mkdir(root, 0o755)
        _ = mkdir(root + "/.softcopy", 0o755)
        touch(root + "/.softcopy/journal")
        touch(root + "/c.__lock")
        touch(root + "/zarr.0123456789abcdef0123456789abcdef.partial")
        touch(root + "/zarr.json")
        let log = EventLog()
        let watcher = SourceWatcher(root: root, mode: .inotify) { log.append($0) }
        let result = watcher.scanOnce(.final)
        #expect(result.temporaries.map(\.string) == ["c.__lock", "zarr.0123456789abcdef0123456789abcdef.partial"])
        #expect(log.presentPaths == ["zarr.json"])
        #expect(result.directories.isEmpty)
    }
}
