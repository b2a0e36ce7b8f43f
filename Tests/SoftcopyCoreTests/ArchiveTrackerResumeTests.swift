import Testing
import SoftcopyCore

@Suite("Resume and verification")
struct ArchiveTrackerResumeTests {
    let record = DestinationRecord(version: version(1), checksum: someChecksum, inode: 77)

    @Test("a file the journal says is at the destination, unchanged at the source, is not sent again")
    func resumeSkipsVerified() {
        var t = ArchiveTracker()
        t.seedDestination(path("c/0"), .holds(record), at: ms(0))
        t.beginFullScan()
        t.observe(path("c/0"), .file(version(1)), cause: .scan(.initial), at: ms(0))
        t.endFullScan(.initial, at: ms(0))
        #expect(t.leasePaths(at: ms(0)).isEmpty)
        #expect(t.counters.doneFiles == 1)
    }

    @Test("a file changed at the source while softcopy was down is sent, with the destination hint")
    func resumeSendsChanged() {
        var t = ArchiveTracker()
        t.seedDestination(path("c/0"), .holds(record), at: ms(0))
        t.observe(path("c/0"), .file(version(2)), cause: .scan(.initial), at: ms(0))
        let items = t.lease(maxItems: 1, now: ms(0))
        #expect(items.first?.destination == .holds(record))
    }

    @Test("a journal file deleted at the source while softcopy was down is deleted at the end")
    func resumeDeletes() {
        var t = ArchiveTracker()
        t.seedDestination(path("c/0"), .holds(record), at: ms(0))
        t.beginFullScan()
        t.endFullScan(.initial, at: ms(0))
        t.beginFinalPhase(at: ms(1))
        #expect(t.lease(maxItems: 5, now: ms(1)).map(\.operation) == [.delete])
    }

    @Test("a foreign destination file is offered for adoption by checksum")
    func foreignHint() {
        var t = ArchiveTracker()
        t.seedDestination(path("c/0"), .foreign(size: 100), at: ms(0))
        t.observe(path("c/0"), .file(version(1)), cause: .scan(.initial), at: ms(0))
        #expect(t.lease(maxItems: 1, now: ms(0)).first?.destination == .foreign(size: 100))
    }

    @Test("verification that finds a replaced destination file sends it again")
    func verificationMismatchRecopies() {
        var t = ArchiveTracker()
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        t.copyAllReady(at: ms(0), versions: ["a": version(1)])
        t.beginFinalPhase(at: ms(1))
        #expect(t.isDrained)
        #expect(t.filesToVerify().map(\.path.string) == ["a"])
        t.recordVerification(path("a"), matches: false, at: ms(2))
        #expect(!t.isDrained)
        #expect(t.leasePaths(at: ms(2)) == ["a"])
    }

    @Test("the verdict: verified, missing, unverified, and leftovers")
    func verdict() {
        var t = ArchiveTracker()
        let versions = ["a": version(1), "b": version(2)]
        t.observe(path("a"), .file(versions["a"]!), cause: .renamedInto, at: ms(0))
        t.observe(path("b"), .file(versions["b"]!), cause: .renamedInto, at: ms(0))
        t.copyAllReady(at: ms(0), versions: versions)
        t.observe(path("c"), .file(version(3)), cause: .renamedInto, at: ms(1))
        t.beginFinalPhase(at: ms(2))
        t.recordVerification(path("a"), matches: true, at: ms(2))
        let v = t.verdict(leftovers: [path("d.__lock")], hierarchy: ZarrHierarchy())
        #expect(v.verified.map(\.path.string) == ["a"])
        #expect(v.problems.map(\.path.string) == ["b", "c"])
        #expect(v.problems.map(\.kind) == [.unverified, .missing])
        #expect(v.leftovers.map(\.string) == ["d.__lock"])
        #expect(v.exitStatus == .incomplete)
    }

    @Test("leftovers alone give their own exit status")
    func leftoversExitStatus() {
        var v = ArchiveVerdict()
        v.leftovers = [path("c/0.__lock")]
        #expect(v.exitStatus == .verifiedWithLeftovers)
        #expect(ArchiveVerdict().exitStatus == .verified)
    }

    @Test("changes only the final rescan found are counted as missed by the watcher")
    func foundByFinalScan() {
        var t = ArchiveTracker()
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        t.beginFullScan()
        t.observe(path("a"), .file(version(1)), cause: .scan(.final), at: ms(1))
        t.observe(path("b"), .file(version(2)), cause: .scan(.final), at: ms(1))
        t.endFullScan(.final, at: ms(1))
        #expect(t.statistics.foundByFinalScan == 1)
    }

    @Test("counters follow every change")
    func counters() {
        var t = ArchiveTracker()
        t.observe(path("a"), .file(version(1, size: 10)), cause: .renamedInto, at: ms(0))
        t.observe(path("b"), .file(version(2, size: 20)), cause: .renamedInto, at: ms(0))
        #expect(t.counters.seenFiles == 2 && t.counters.seenBytes == 30)
        t.copyAllReady(at: ms(0), versions: ["a": version(1, size: 10), "b": version(2, size: 20)])
        #expect(t.counters.doneFiles == 2 && t.counters.doneBytes == 30)
        t.observe(path("a"), .file(version(3, size: 15)), cause: .renamedInto, at: ms(1))
        #expect(t.counters.seenBytes == 35 && t.counters.doneBytes == 20 && t.counters.doneFiles == 1)
        t.observe(path("b"), .absent, cause: .removed, at: ms(2))
        #expect(t.counters.seenFiles == 1 && t.counters.pendingDeletes == 1)
    }
}
