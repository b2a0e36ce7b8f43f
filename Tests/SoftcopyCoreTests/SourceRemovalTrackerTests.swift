import Testing
import SoftcopyCore

@Suite("Removing the source: a file softcopy removed is moved, never deleted")
struct SourceRemovalTrackerTests {
    /// An archive with root metadata and two chunks, copied, and the end begun.
    func copiedArchive() -> ArchiveTracker {
        var t = ArchiveTracker(configuration: .init(deletions: .atEnd))
        let versions = ["zarr.json": version(1), "c/0": version(2), "c/1": version(3)]
        for (p, v) in versions { t.observe(path(p), .file(v), cause: .renamedInto, at: ms(0)) }
        t.copyAllReady(at: ms(0), versions: versions)
        t.copyAllReady(at: ms(0), versions: versions)
        return t
    }

    @Test("a removed file's absence is no deletion, and it stays in the verdict as verified")
    func removedIsNotADeletion() {
        var t = copiedArchive()
        t.sourceRemoved(path("c/0"), version: version(2), at: ms(1))
        t.observe(path("c/0"), .absent, cause: .removed, at: ms(1))
        // The final rescan finds the others, not c/0.
        t.beginFullScan()
        t.observe(path("zarr.json"), .file(version(1)), cause: .scan(.final), at: ms(2))
        t.observe(path("c/1"), .file(version(3)), cause: .scan(.final), at: ms(2))
        t.endFullScan(.final, at: ms(2))
        t.beginFinalPhase(at: ms(2))
        #expect(t.counters.pendingDeletes == 0)
        #expect(t.lease(maxItems: 10, now: ms(3)).isEmpty)
        #expect(t.isDrained)
        for file in t.filesToVerify() { t.recordVerification(id: file.id, matches: true, at: ms(4)) }
        let verdict = t.verdict(leftovers: [], hierarchy: ZarrHierarchy())
        #expect(verdict.problems.isEmpty && verdict.keptDeletions.isEmpty)
        #expect(verdict.verified.map(\.path.string) == ["c/0", "c/1", "zarr.json"])
        #expect(verdict.removedFromSource == 1)
        #expect(t.isRemovedFromSource(path("c/0")))
    }

    @Test("a journal read before the first scan (a restart) makes the record, so an agent's listing later finds it moved")
    func journalBeforeScan() {
        var t = ArchiveTracker(configuration: .init(deletions: .atEnd))
        t.sourceRemoved(path("c/0"), version: version(2), at: ms(0))
        t.observe(path("zarr.json"), .file(version(1)), cause: .scan(.initial), at: ms(0))
        t.seedDestination(path("c/0"), .holds(DestinationRecord(version: version(2), checksum: someChecksum, inode: 9)), at: ms(1))
        t.beginFullScan()
        t.observe(path("zarr.json"), .file(version(1)), cause: .scan(.final), at: ms(2))
        t.endFullScan(.final, at: ms(2))
        t.beginFinalPhase(at: ms(2))
        #expect(t.counters.pendingDeletes == 0)
        #expect(t.lease(maxItems: 10, now: ms(3)).map(\.path.string) == ["zarr.json"])
    }

    @Test("a planned file still at the source with the planned version is simply present")
    func plannedButStillThere() {
        var t = copiedArchive()
        t.sourceRemoved(path("c/0"), version: version(2), at: ms(1))
        t.observe(path("c/0"), .file(version(2)), cause: .scan(.initial), at: ms(1))
        #expect(!t.isRemovedFromSource(path("c/0")))
        #expect(t.sourceVersion(of: path("c/0")) == version(2))
        #expect(t.lease(maxItems: 10, now: ms(2)).isEmpty)
    }

    @Test("written again after its removal: not copied over the verified copy, and named as a problem")
    func rewrittenAfterRemoval() {
        var t = copiedArchive()
        t.sourceRemoved(path("c/0"), version: version(2), at: ms(1))
        t.observe(path("c/0"), .absent, cause: .removed, at: ms(1))
        t.observe(path("c/0"), .file(version(7)), cause: .renamedInto, at: ms(2))
        #expect(t.lease(maxItems: 10, now: ms(3)).isEmpty)
        #expect(t.drainNotices().contains { if case .permanentFailure(let p, _) = $0 { p.string == "c/0" } else { false } })
        t.beginFinalPhase(at: ms(4))
        for file in t.filesToVerify() { t.recordVerification(id: file.id, matches: true, at: ms(5)) }
        let verdict = t.verdict(leftovers: [], hierarchy: ZarrHierarchy())
        #expect(verdict.problems.map(\.path.string) == ["c/0"])
        #expect(t.destinationRecord(of: path("c/0"))?.version == version(2))
    }

    @Test("a removed file whose copy is gone at the end is a problem, not a pass")
    func removedAndLost() {
        var t = copiedArchive()
        t.sourceRemoved(path("c/0"), version: version(2), at: ms(1))
        t.beginFinalPhase(at: ms(2))
        for file in t.filesToVerify() { t.recordVerification(id: file.id, matches: file.path.string != "c/0", at: ms(3)) }
        #expect(t.lease(maxItems: 10, now: ms(3)).isEmpty)
        let verdict = t.verdict(leftovers: [], hierarchy: ZarrHierarchy())
        #expect(verdict.problems.map(\.path.string) == ["c/0"])
        #expect(verdict.exitStatus == .incomplete)
    }

    @Test("the removal journal's lines read back; a torn last line is skipped")
    func journalLines() {
        var state = RemovalRecord.State(destination: "/nas/a b")
        state.planned[path("c/a b%")] = .init(version: version(4, size: 9, mtime: 5), checksum: someChecksum)
        state.removed[path("c/a b%")] = 1_700_000_000_000_000_001
        let text = state.lines + "X c/0 17"  // torn: no newline, but whole fields
        var replayed = RemovalRecord.replay(text[...])
        #expect(replayed.removed[path("c/0")] == 17)
        replayed.removed[path("c/0")] = nil
        #expect(replayed == state)
        #expect(RemovalRecord.replay((state.lines + "P c/1 9 5")[...]) == state)
    }
}
