import Testing
import SoftcopyCore

@Suite("Readiness: when a source file may be copied")
struct ArchiveTrackerReadinessTests {
    @Test("a real name that appears by rename is ready at once")
    func renameIsReadyImmediately() {
        var t = ArchiveTracker()
        t.observe(path("c/0/0"), .file(version(1)), cause: .renamedInto, at: ms(0))
        #expect(t.leasePaths(at: ms(0)) == ["c/0/0"])
    }

    @Test("writer temp files are never leased", arguments: ["c/0/0.__lock", "c/0/0_0123456789abcdef.__lock", "c/0/0.8f3a9c1d2e4b5a6978f0e1d2c3b4a596.partial", "zarr.b0ec0509e52a4119845ce9a8418f2b1e.partial"])
    func tempFilesIgnored(name: String) {
        var t = ArchiveTracker()
        t.observe(path(name), .file(version(1)), cause: .createdInPlace, at: ms(0))
        t.observe(path(name), .file(version(1)), cause: .scan(.initial), at: ms(0))
        #expect(t.leasePaths(at: ms(10_000)).isEmpty)
        #expect(t.trackedPaths == 0)
        #expect(!t.inPlaceActive, "events on temp files are not evidence of in-place writing")
    }

    @Test("only one transfer per key is in flight")
    func oneTransferPerKey() {
        var t = ArchiveTracker()
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        let first = t.lease(maxItems: 10, now: ms(0))
        #expect(first.count == 1)
        t.observe(path("a"), .file(version(2)), cause: .renamedInto, at: ms(1))
        #expect(t.leasePaths(at: ms(2)).isEmpty, "a second version waits for the first transfer")
    }

    @Test("a version that arrives during a transfer is sent after it, so the newest wins")
    func newestVersionWins() {
        var t = ArchiveTracker()
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        let first = t.lease(maxItems: 10, now: ms(0))
        t.observe(path("a"), .file(version(2)), cause: .renamedInto, at: ms(1))
        t.finishCopy(first[0], version(1), at: ms(2))
        let second = t.lease(maxItems: 10, now: ms(2))
        #expect(second.map(\.path.string) == ["a"])
        #expect(second[0].destination == .holds(DestinationRecord(version: version(1), checksum: someChecksum, inode: 1001)), "the copier learns what the destination holds")
        t.finishCopy(second[0], version(2), at: ms(3))
        #expect(t.leasePaths(at: ms(4)).isEmpty)
        #expect(t.counters.doneFiles == 1)
    }

    @Test("a late completion of an old version never leaves the key clean")
    func oldVersionCompletionKeepsKeyDirty() {
        var t = ArchiveTracker()
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        let item = t.lease(maxItems: 1, now: ms(0))[0]
        t.observe(path("a"), .file(version(2)), cause: .renamedInto, at: ms(1))
        t.observe(path("a"), .file(version(3)), cause: .renamedInto, at: ms(2))
        t.finishCopy(item, version(1), at: ms(3))
        #expect(t.counters.doneFiles == 0)
        #expect(t.counters.outstandingData == 1)
    }

    @Test("the version actually read becomes the known version when nothing changed since the lease")
    func readVersionAdopted() {
        var t = ArchiveTracker()
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        let item = t.lease(maxItems: 1, now: ms(0))[0]
        // The file was replaced between the event's stat and the read; the event for v2
        // has not been processed yet.
        t.finishCopy(item, version(2), at: ms(1))
        #expect(t.counters.doneFiles == 1)
        t.observe(path("a"), .file(version(2)), cause: .renamedInto, at: ms(2))
        #expect(t.leasePaths(at: ms(3)).isEmpty, "the late event describes what was already copied")
    }

    @Test("IN_CLOSE_WRITE after a rename (tensorstore mode os) is not in-place evidence")
    func closeAfterRenameIsNotInPlace() {
        var t = ArchiveTracker()
        t.observe(path("c/0"), .file(version(1)), cause: .renamedInto, at: ms(0))
        t.observe(path("c/0"), .file(version(1)), cause: .closedAfterWrite, at: ms(0))
        #expect(!t.inPlaceActive)
        #expect(t.leasePaths(at: ms(0)) == ["c/0"])
    }

    @Test("a real name created in place switches the archive to quiet-period handling")
    func inPlaceDetection() {
        var t = ArchiveTracker(configuration: .init(writerMode: .auto, quietPeriod: .seconds(2)))
        t.observe(path("c/0"), .file(version(1, size: 10)), cause: .createdInPlace, at: ms(0))
        #expect(t.inPlaceActive)
        #expect(t.drainNotices() == [.inPlaceWritingDetected(path("c/0"))])
        #expect(t.leasePaths(at: ms(1_000)).isEmpty)
        t.observe(path("c/0"), .file(version(1, size: 20, mtime: 2)), cause: .modifiedInPlace, at: ms(1_500))
        #expect(t.leasePaths(at: ms(2_500)).isEmpty, "a modification restarts the quiet period")
        let items = t.lease(maxItems: 10, now: ms(3_500))
        #expect(items.map(\.path.string) == ["c/0"])
        #expect(items[0].requireStableRead)
    }

    @Test("a modification that does not change stat still restarts the quiet period")
    func inPlaceTouchRestartsQuiet() {
        var t = ArchiveTracker(configuration: .init(writerMode: .inPlace, quietPeriod: .seconds(2)))
        t.observe(path("a"), .file(version(1)), cause: .scan(.initial), at: ms(0))
        t.observe(path("a"), .file(version(1)), cause: .modifiedInPlace, at: ms(1_900))
        #expect(t.leasePaths(at: ms(2_100)).isEmpty)
        #expect(t.nextDeadline == ms(3_900))
        #expect(t.leasePaths(at: ms(3_900)) == ["a"])
    }

    @Test("atomic mode trusts renames even after an in-place event")
    func atomicModeNeverWaits() {
        var t = ArchiveTracker(configuration: .init(writerMode: .atomic))
        t.observe(path("a"), .file(version(1)), cause: .createdInPlace, at: ms(0))
        #expect(!t.inPlaceActive)
        #expect(t.leasePaths(at: ms(0)) == ["a"])
    }

    @Test("a file that changed while it was read is tried again after the quiet period")
    func changedWhileReading() {
        var t = ArchiveTracker(configuration: .init(writerMode: .auto, quietPeriod: .seconds(1)))
        t.observe(path("a"), .file(version(1)), cause: .scan(.initial), at: ms(0))
        let item = t.lease(maxItems: 1, now: ms(0))[0]
        t.complete(item.path, lease: item.lease, outcome: .changedWhileReading, at: ms(10))
        #expect(t.inPlaceActive, "a change during a read is in-place writing")
        #expect(t.leasePaths(at: ms(500)).isEmpty)
        #expect(t.leasePaths(at: ms(1_010)) == ["a"])
    }
}
