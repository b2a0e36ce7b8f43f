import Testing
@testable import SoftcopyCore

/// Each test is a script of events fed to one archive's lifecycle, with the actions it
/// answers: the order around the tracker, from the end signal to the verdict.
@Suite("The archive's lifecycle: from the end of the acquisition to the verdict")
struct ArchiveLifecycleTests {
    private typealias Life = ArchiveLifecycle

    private func life(_ settings: Life.Settings = Life.Settings()) -> Life {
        Life(settings: settings, startedAt: ms(0))
    }

    /// Drives a lifecycle from its end to `.finishing(round: 1)` with no temp files.
    private func ended(_ l: inout Life, at now: MonotonicInstant = ms(100)) {
        _ = l.handle(.live(Life.Signals(endMarkerPresent: true), at: now))
        _ = l.handle(.rescanned(temporaries: 0, at: now))
    }

    @Test("Nothing happens while the acquisition runs and no end is seen")
    func quietWhileLive() {
        var l = life(Life.Settings(idleTimeout: .seconds(60)))
        #expect(l.handle(.live(Life.Signals(lastSourceChange: ms(5_000)), at: ms(30_000))) == [])
        #expect(l.stage == .live)
        #expect(l.isLive && !l.isDone)
    }

    @Test("The end marker ends the acquisition with a final rescan, then the final phase")
    func endMarker() {
        var l = life()
        #expect(l.handle(.live(Life.Signals(endMarkerPresent: true), at: ms(100))) == [.ended(.completeFile, rescan: true)])
        #expect(l.stage == .ending)
        #expect(l.endReason == .completeFile)
        #expect(!l.isLive)
        // A late tick while the rescan is under way does nothing.
        #expect(l.handle(.live(Life.Signals(endMarkerPresent: true), at: ms(110))) == [])
        #expect(l.handle(.rescanned(temporaries: 0, at: ms(120))) == [.beginFinalPhase])
        #expect(l.stage == .finishing(round: 1))
    }

    @Test("The operator's signal comes before the writer's exit, which comes before the marker")
    func signalOrder() {
        var a = life()
        #expect(a.handle(.live(Life.Signals(operatorEnded: true, writerExited: 42, endMarkerPresent: true), at: ms(1))) == [.ended(.operatorSignal, rescan: true)])
        var b = life()
        #expect(b.handle(.live(Life.Signals(writerExited: 42, endMarkerPresent: true), at: ms(1))) == [.ended(.writerExited(pid: 42), rescan: true)])
    }

    @Test("--once: the one scan was the final one, so no rescan")
    func once() {
        var l = life(Life.Settings(once: true))
        #expect(l.handle(.live(Life.Signals(), at: ms(1))) == [.ended(.once, rescan: false)])
        #expect(l.handle(.rescanned(temporaries: 0, at: ms(2))) == [.beginFinalPhase])
    }

    @Test("The idle timeout counts from the later of the last change and the start, and is confirmed by a rescan")
    func idleConfirmed() {
        var l = life(Life.Settings(idleTimeout: .seconds(10)))
        #expect(l.handle(.live(Life.Signals(), at: ms(9_999))) == [])
        #expect(l.handle(.live(Life.Signals(lastSourceChange: ms(5_000)), at: ms(14_999))) == [])
        #expect(l.handle(.live(Life.Signals(lastSourceChange: ms(5_000)), at: ms(15_000))) == [.confirmIdle])
        #expect(l.stage == .confirmingIdle)
        #expect(l.isLive)
        // The confirming rescan is the final scan: the end asks for no second one.
        #expect(l.handle(.idleRescanned(changes: 0, at: ms(15_100))) == [.ended(.idleTimeout(.seconds(10)), rescan: false)])
        #expect(l.endReason == .idleTimeout(.seconds(10)))
    }

    @Test("An idle timeout whose rescan finds changes is not an end: watching resumes and the idle time counts again")
    func idleRefuted() {
        var l = life(Life.Settings(idleTimeout: .seconds(10)))
        #expect(l.handle(.live(Life.Signals(), at: ms(10_000))) == [.confirmIdle])
        #expect(l.handle(.idleRescanned(changes: 3, at: ms(10_500))) == [.resumeWatching])
        #expect(l.stage == .live)
        #expect(l.endReason == nil)
        // The changes the rescan found have no later source change recorded than the baseline.
        #expect(l.handle(.live(Life.Signals(lastSourceChange: ms(2_000)), at: ms(20_499))) == [])
        #expect(l.handle(.live(Life.Signals(lastSourceChange: ms(2_000)), at: ms(20_500))) == [.confirmIdle])
    }

    @Test("A writer's temp files left at the end get the grace to be renamed; what was renamed is scanned for")
    func temporariesRenamed() {
        var l = life(Life.Settings(leftoverGrace: .seconds(3)))
        _ = l.handle(.live(Life.Signals(operatorEnded: true), at: ms(1_000)))
        #expect(l.handle(.rescanned(temporaries: 2, at: ms(1_000))) == [])
        #expect(l.stage == .awaitingTemporaries(deadline: ms(4_000), count: 2))
        #expect(l.handle(.temporaries(remaining: 1, at: ms(2_000))) == [])
        #expect(l.handle(.temporaries(remaining: 0, at: ms(2_100))) == [.rescan, .beginFinalPhase])
        #expect(l.stage == .finishing(round: 1))
    }

    @Test("A crashed writer's temp files stop the wait at the grace's end, with no rescan")
    func temporariesAbandoned() {
        var l = life(Life.Settings(leftoverGrace: .seconds(3)))
        _ = l.handle(.live(Life.Signals(operatorEnded: true), at: ms(1_000)))
        _ = l.handle(.rescanned(temporaries: 2, at: ms(1_000)))
        #expect(l.handle(.temporaries(remaining: 2, at: ms(3_999))) == [])
        #expect(l.handle(.temporaries(remaining: 2, at: ms(4_000))) == [.beginFinalPhase])
        // Some renamed but not all by the deadline: the renamed ones are scanned for.
        var m = life(Life.Settings(leftoverGrace: .seconds(3)))
        _ = m.handle(.live(Life.Signals(operatorEnded: true), at: ms(1_000)))
        _ = m.handle(.rescanned(temporaries: 2, at: ms(1_000)))
        #expect(m.handle(.temporaries(remaining: 1, at: ms(5_000))) == [.rescan, .beginFinalPhase])
    }

    @Test("Verification waits for every copy to drain and for agents still attaching")
    func verificationWaits() {
        var l = life()
        ended(&l)
        #expect(l.handle(.progress(drained: false, agentsAttaching: false)) == [])
        #expect(l.handle(.progress(drained: true, agentsAttaching: true)) == [])
        #expect(l.handle(.progress(drained: true, agentsAttaching: false)) == [.verify(round: 1, mirrorFolders: true)])
        #expect(l.stage == .verifying(round: 1))
        #expect(l.handle(.verified(mismatched: 0)) == [.finish])
        #expect(l.isDone)
    }

    @Test("Files that no longer match are copied again, up to three rounds; the third round's result is judged")
    func verificationRounds() {
        var l = life()
        ended(&l)
        #expect(l.handle(.progress(drained: true, agentsAttaching: false)) == [.verify(round: 1, mirrorFolders: true)])
        #expect(l.handle(.verified(mismatched: 5)) == [.copyAgain(mismatched: 5, round: 1)])
        #expect(l.stage == .finishing(round: 2))
        // Only the first round mirrors the folders.
        #expect(l.handle(.progress(drained: true, agentsAttaching: false)) == [.verify(round: 2, mirrorFolders: false)])
        #expect(l.handle(.verified(mismatched: 1)) == [.copyAgain(mismatched: 1, round: 2)])
        #expect(l.handle(.progress(drained: true, agentsAttaching: false)) == [.verify(round: 3, mirrorFolders: false)])
        #expect(l.handle(.verified(mismatched: 1)) == [.finish])
        #expect(l.isDone)
    }

    @Test("Once done, nothing more happens, and events of other stages are ignored")
    func doneIsFinal() {
        var l = life()
        #expect(l.handle(.verified(mismatched: 0)) == [])  // no verification was asked for
        #expect(l.handle(.temporaries(remaining: 0, at: ms(1))) == [])
        ended(&l)
        _ = l.handle(.progress(drained: true, agentsAttaching: false))
        _ = l.handle(.verified(mismatched: 0))
        #expect(l.handle(.live(Life.Signals(endMarkerPresent: true), at: ms(200))) == [])
        #expect(l.handle(.progress(drained: true, agentsAttaching: false)) == [])
        #expect(l.stage == .done)
    }
}
