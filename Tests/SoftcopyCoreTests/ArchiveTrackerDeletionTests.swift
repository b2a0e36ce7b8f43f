import Testing
import SoftcopyCore

@Suite("Deletions: passed on, but never from an archive that vanished")
struct ArchiveTrackerDeletionTests {
    /// An archive with root metadata and one chunk, both copied.
    func copiedArchive(_ policy: DeletionPolicy = .atEnd) -> ArchiveTracker {
        var t = ArchiveTracker(configuration: .init(deletions: policy))
        let versions = ["zarr.json": version(1), "c/0": version(2)]
        for (p, v) in versions { t.observe(path(p), .file(v), cause: .renamedInto, at: ms(0)) }
        t.copyAllReady(at: ms(0), versions: versions)
        t.copyAllReady(at: ms(0), versions: versions)
        return t
    }

    @Test("by default a deletion waits for the end, then reaches the destination")
    func deletionAtEnd() {
        var t = copiedArchive()
        t.observe(path("c/0"), .absent, cause: .removed, at: ms(1))
        #expect(t.lease(maxItems: 10, now: ms(2)).isEmpty)
        #expect(t.counters.pendingDeletes == 1)
        t.beginFinalPhase(at: ms(3))
        let items = t.lease(maxItems: 10, now: ms(3))
        #expect(items.map(\.operation) == [.delete])
        t.complete(items[0].path, lease: items[0].lease, outcome: .deleted, at: ms(4))
        #expect(t.isDrained)
        #expect(t.counters.pendingDeletes == 0)
    }

    @Test("with deletions: live, a deletion goes out at once")
    func liveDeletion() {
        var t = copiedArchive(.live)
        t.observe(path("c/0"), .absent, cause: .removed, at: ms(1))
        #expect(t.lease(maxItems: 10, now: ms(1)).map(\.operation) == [.delete])
    }

    @Test("a source removed entirely (root gone) never empties the destination")
    func vanishedRootKeepsDestination() {
        var t = copiedArchive(.live)
        t.observe(path("c/0"), .absent, cause: .removed, at: ms(1))
        t.observe(path("zarr.json"), .absent, cause: .removed, at: ms(1))
        t.sourceRootVanished(at: ms(2))
        t.beginFinalPhase(at: ms(3))
        #expect(t.lease(maxItems: 10, now: ms(3)).isEmpty)
        #expect(t.isDrained)
        let verdict = t.verdict(leftovers: [], hierarchy: ZarrHierarchy())
        #expect(verdict.keptDeletions.map(\.string) == ["c/0", "zarr.json"])
        #expect(verdict.problems.map(\.kind) == [.sourceVanished])
    }

    @Test("an archive whose root metadata is gone keeps its copy (rm -rf in progress)")
    func missingRootMetadataKeepsDestination() {
        var t = copiedArchive(.live)
        t.observe(path("zarr.json"), .absent, cause: .removed, at: ms(1))
        t.observe(path("c/0"), .absent, cause: .removed, at: ms(1))
        #expect(!t.deletionsAuthorized)
        #expect(t.lease(maxItems: 10, now: ms(2)).isEmpty)
    }

    @Test("zarr-python mode='w': root deleted and recreated, old chunks go once the new root is back")
    func recreatedRoot() {
        var t = copiedArchive(.live)
        t.sourceRootVanished(at: ms(1))
        t.sourceRootRestored(at: ms(2))
        t.beginFullScan()
        t.observe(path("zarr.json"), .file(version(10)), cause: .scan(.recovery), at: ms(2))
        t.endFullScan(.recovery, at: ms(2))
        let items = t.lease(maxItems: 10, now: ms(3))
        #expect(Set(items.map(\.path.string)) == ["zarr.json", "c/0"])
        #expect(items.first { $0.path.string == "c/0" }?.operation == .delete)
    }

    @Test("a full scan marks paths it did not see as absent")
    func fullScanMarksUnseen() {
        var t = copiedArchive(.live)
        t.beginFullScan()
        t.observe(path("zarr.json"), .file(version(1)), cause: .scan(.recovery), at: ms(1))
        t.endFullScan(.recovery, at: ms(1))
        #expect(t.counters.pendingDeletes == 1)
    }

    @Test("a file softcopy did not write is never deleted, only reported")
    func foreignFilesAreKept() {
        var t = ArchiveTracker(configuration: .init(deletions: .live))
        t.seedDestination(path("notes.txt"), .foreign(size: 5), at: ms(0))
        t.beginFullScan()
        t.endFullScan(.initial, at: ms(0))
        t.beginFinalPhase(at: ms(1))
        #expect(t.lease(maxItems: 10, now: ms(1)).isEmpty)
        #expect(t.verdict(leftovers: [], hierarchy: ZarrHierarchy()).extraneous.map(\.string) == ["notes.txt"])
    }

    @Test("with deletions: never, the destination keeps everything")
    func neverDelete() {
        var t = copiedArchive(.never)
        t.observe(path("c/0"), .absent, cause: .removed, at: ms(1))
        t.beginFinalPhase(at: ms(2))
        #expect(t.lease(maxItems: 10, now: ms(2)).isEmpty)
        #expect(t.isDrained)
    }
}
