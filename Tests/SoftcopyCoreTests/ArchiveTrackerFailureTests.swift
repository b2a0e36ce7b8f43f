import Testing
import SoftcopyCore

@Suite("Failures, leases and retries")
struct ArchiveTrackerFailureTests {
    @Test("a transient failure is retried after a backoff")
    func transientRetry() {
        var t = ArchiveTracker(configuration: .init(retryBase: .milliseconds(100)))
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        let item = t.lease(maxItems: 1, now: ms(0))[0]
        t.complete(item.path, lease: item.lease, outcome: .failed(message: "connection reset", transient: true), at: ms(0))
        #expect(t.leasePaths(at: ms(10)).isEmpty)
        let retryAt = t.nextDeadline!
        #expect(retryAt >= ms(50) && retryAt <= ms(150), "first backoff is the base, jittered by ±50%")
        #expect(t.leasePaths(at: retryAt) == ["a"])
        #expect(t.statistics.retries == 1)
    }

    @Test("backoff grows exponentially up to its cap")
    func backoffGrows() {
        var t = ArchiveTracker(configuration: .init(retryBase: .milliseconds(100), retryCap: .seconds(1)))
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        var now = ms(0)
        var delays: [Duration] = []
        for _ in 0..<8 {
            let item = t.lease(maxItems: 1, now: now)[0]
            t.complete(item.path, lease: item.lease, outcome: .failed(message: "timeout", transient: true), at: now)
            let next = t.nextDeadline!
            delays.append(next - now)
            now = next
        }
        #expect(delays[3] > delays[0])
        #expect(delays.allSatisfy { $0 <= .seconds(1) })
    }

    @Test("a permanent failure is not retried, and is named in the verdict")
    func permanentFailure() {
        var t = ArchiveTracker()
        t.observe(path("c/0"), .file(version(1)), cause: .renamedInto, at: ms(0))
        let item = t.lease(maxItems: 1, now: ms(0))[0]
        t.complete(item.path, lease: item.lease, outcome: .failed(message: "permission denied", transient: false), at: ms(1))
        #expect(t.leasePaths(at: ms(60_000)).isEmpty)
        t.beginFinalPhase(at: ms(60_001))
        #expect(t.isDrained)
        let verdict = t.verdict(leftovers: [], hierarchy: ZarrHierarchy())
        #expect(verdict.problems.count == 1)
        #expect(verdict.problems.first?.kind == .failed("permission denied"))
        #expect(verdict.exitStatus == .incomplete)
    }

    @Test("a new version clears a permanent failure")
    func newVersionClearsFailure() {
        var t = ArchiveTracker()
        t.observe(path("c/0"), .file(version(1)), cause: .renamedInto, at: ms(0))
        let item = t.lease(maxItems: 1, now: ms(0))[0]
        t.complete(item.path, lease: item.lease, outcome: .failed(message: "permission denied", transient: false), at: ms(1))
        t.observe(path("c/0"), .file(version(2)), cause: .renamedInto, at: ms(2))
        #expect(t.leasePaths(at: ms(2)) == ["c/0"])
    }

    @Test("after the end, a transient failure becomes permanent after the attempt limit")
    func finalAttemptLimit() {
        var t = ArchiveTracker(configuration: .init(retryBase: .milliseconds(1), retryCap: .milliseconds(1), finalAttempts: 3))
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        t.beginFinalPhase(at: ms(0))
        var now = ms(0)
        for _ in 0..<3 {
            let items = t.lease(maxItems: 1, now: now)
            #expect(items.count == 1)
            t.complete(items[0].path, lease: items[0].lease, outcome: .failed(message: "timeout", transient: true), at: now)
            now = now + .milliseconds(10)
        }
        #expect(t.isDrained)
        #expect(t.counters.failedFiles == 1)
    }

    @Test("after the end, a transient failure is retried for the final window too, not only six times")
    func finalWindow() {
        var t = ArchiveTracker(configuration: .init(retryBase: .milliseconds(100), retryCap: .seconds(2), finalAttempts: 3, finalWindow: .seconds(10)))
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        t.beginFinalPhase(at: ms(0))
        var now = ms(0)
        var attempts = 0
        while t.counters.failedFiles == 0, attempts < 100 {
            for item in t.lease(maxItems: 1, now: now) {
                attempts += 1
                t.complete(item.path, lease: item.lease, outcome: .failed(message: "connection reset", transient: true), at: now)
            }
            now = t.nextDeadline ?? now + .milliseconds(100)
        }
        #expect(t.counters.failedFiles == 1)
        #expect(attempts > 3, "more than the three attempts while inside the window")
        #expect(now >= ms(10_000), "reported no sooner than the window after the first failure")
        #expect(t.isDrained)
    }

    @Test("while live, a file failing past the retry deadline is reported with its cause, and the rest goes on")
    func retryDeadline() {
        var t = ArchiveTracker(configuration: .init(retryBase: .milliseconds(100), retryCap: .seconds(1), retryDeadline: .seconds(5)))
        t.observe(path("c/0"), .file(version(1)), cause: .renamedInto, at: ms(0))
        t.observe(path("c/1"), .file(version(2)), cause: .renamedInto, at: ms(0))
        var now = ms(0)
        var attempts = 0
        while t.counters.failedFiles == 0, attempts < 100 {
            for item in t.lease(maxItems: 10, now: now) {
                if item.path == path("c/0") {
                    attempts += 1
                    t.complete(item.path, lease: item.lease, outcome: .failed(message: "connection refused", transient: true), at: now)
                } else {
                    t.finishCopy(item, version(2), at: now)
                }
            }
            now = t.nextDeadline ?? now + .milliseconds(100)
        }
        #expect(t.counters.failedFiles == 1)
        #expect(attempts > 3, "retried with backoff first")
        #expect(t.phase == .live)
        #expect(t.leasePaths(at: now + .seconds(60)).isEmpty, "no retry loop after the deadline")
        let notices = t.drainNotices()
        guard case .permanentFailure(let failed, let cause)? = notices.last else {
            Issue.record("no permanent failure notice: \(notices)"); return
        }
        #expect(failed == path("c/0"))
        #expect(cause.hasPrefix("connection refused (gave up after \(attempts) attempts in "), "\(cause)")
        t.beginFinalPhase(at: now)
        for file in t.filesToVerify() { t.recordVerification(id: file.id, matches: true, at: now) }
        let verdict = t.verdict(leftovers: [], hierarchy: ZarrHierarchy())
        #expect(verdict.problems.map(\.path) == [path("c/0")], "c/1 was copied and verified")
        #expect(verdict.exitStatus == .incomplete)
    }

    @Test("the retry deadline counts from the first failure of the current version")
    func retryDeadlineRestartsWithNewVersion() {
        var t = ArchiveTracker(configuration: .init(retryBase: .milliseconds(100), retryCap: .seconds(1), retryDeadline: .seconds(5)))
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        var item = t.lease(maxItems: 1, now: ms(0))[0]
        t.complete(item.path, lease: item.lease, outcome: .failed(message: "timeout", transient: true), at: ms(0))
        t.observe(path("a"), .file(version(2)), cause: .renamedInto, at: ms(4_900))
        item = t.lease(maxItems: 1, now: ms(4_900))[0]
        t.complete(item.path, lease: item.lease, outcome: .failed(message: "timeout", transient: true), at: ms(6_000))
        #expect(t.counters.failedFiles == 0, "1.1 s since the new version's first failure")
        #expect(t.leasePaths(at: t.nextDeadline!) == ["a"])
    }

    @Test("with no deadline, a transient failure is retried for as long as the acquisition runs")
    func noRetryDeadline() {
        var t = ArchiveTracker(configuration: .init(retryBase: .milliseconds(100), retryCap: .seconds(30), retryDeadline: nil))
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        var now = ms(0)
        for _ in 0..<40 {
            let items = t.lease(maxItems: 1, now: now)
            #expect(items.count == 1)
            guard let item = items.first else { return }
            t.complete(item.path, lease: item.lease, outcome: .failed(message: "timeout", transient: true), at: now)
            now = t.nextDeadline!
        }
        #expect(now - ms(0) > .seconds(600))
        #expect(t.counters.failedFiles == 0)
    }

    @Test("an expired lease is handed out again, and the old holder's outcome is ignored")
    func leaseExpiry() {
        var t = ArchiveTracker()
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        let first = t.lease(maxItems: 1, consumer: 1, expiresAfter: .seconds(10), now: ms(0))[0]
        #expect(t.lease(maxItems: 1, consumer: 2, now: ms(5_000)).isEmpty)
        let second = t.lease(maxItems: 1, consumer: 2, now: ms(10_000))
        #expect(second.count == 1)
        let accepted = t.complete(first.path, lease: first.lease, outcome: .deleted, at: ms(10_001))
        #expect(!accepted)
        t.finishCopy(second[0], version(1), at: ms(10_002))
        #expect(t.counters.doneFiles == 1)
    }

    @Test("a consumer that goes away loses its leases to others")
    func releaseConsumer() {
        var t = ArchiveTracker()
        for i in 0..<4 {
            t.observe(path("c/\(i)"), .file(version(UInt64(i + 1))), cause: .renamedInto, at: ms(0))
        }
        _ = t.lease(maxItems: 2, consumer: 7, now: ms(0))
        _ = t.lease(maxItems: 2, consumer: 8, now: ms(0))
        #expect(t.releaseLeases(of: 7, now: ms(1)) == 2)
        #expect(t.lease(maxItems: 10, consumer: 8, now: ms(1)).count == 2)
    }

    @Test("a source file gone at read time becomes absent")
    func vanishedAtRead() {
        var t = ArchiveTracker()
        t.observe(path("a"), .file(version(1)), cause: .renamedInto, at: ms(0))
        let item = t.lease(maxItems: 1, now: ms(0))[0]
        t.complete(item.path, lease: item.lease, outcome: .sourceVanished, at: ms(1))
        #expect(t.counters.seenFiles == 0)
        t.beginFinalPhase(at: ms(2))
        #expect(t.isDrained)
    }
}
