import Testing
import SoftcopyCore

/// The rewrite hold against scripted writers, with a copier faster than the writer: it
/// leases what is ready every 5 ms and finishes at once.
@Suite("The rewrite hold: chunks written in bursts are read about once")
struct RewriteHoldTests {
    /// The writes, in time order: (millisecond, chunk).
    typealias Script = [(at: Int64, key: String)]

    struct Outcome {
        var copies = 0
        var keys = 0
        /// For each key written once: when, and milliseconds from its write to its lease.
        var onceDelays: [(writtenAt: Int64, delay: Int64)] = []
        /// For each key: milliseconds from its last write to the lease of that version.
        var lastDelays: [Int64] = []
        var amplification: Double { Double(copies) / Double(max(keys, 1)) }
    }

    func run(_ script: Script, hold: RewriteHold, endAt end: Int64? = nil) -> Outcome {
        var t = ArchiveTracker(configuration: .init(rewriteHold: hold))
        var versions: [String: FileVersion] = [:]
        var writes: [String: [Int64]] = [:]
        var outcome = Outcome()
        var next = 0
        var inode: UInt64 = 0
        let last = (script.last?.at ?? 0) + 10_000
        var now: Int64 = 0
        while now <= last {
            while next < script.count, script[next].at <= now {
                inode += 1
                let v = version(inode)
                versions[script[next].key] = v
                writes[script[next].key, default: []].append(script[next].at)
                t.observe(path(script[next].key), .file(v), cause: .renamedInto, at: ms(script[next].at))
                next += 1
            }
            if let end, now == end { t.beginFinalPhase(at: ms(now)) }
            for item in t.lease(maxItems: 1000, now: ms(now)) {
                let key = item.path.string
                outcome.copies += 1
                let times = writes[key]!
                if times.count == 1 { outcome.onceDelays.append((times[0], now - times[0])) }
                if versions[key] == version(inode) || next >= script.count { outcome.lastDelays.append(now - times.last!) }
                t.finishCopy(item, versions[key]!, at: ms(now))
            }
            now += 5
        }
        outcome.keys = versions.count
        #expect(t.counters.doneFiles == versions.count, "every chunk's last version copied")
        return outcome
    }

    /// tensorstore writing each time point plane by plane: a chunk spans 4 planes, so it
    /// is written 4 times, a plane (all 16 chunks of it) every 40 ms.
    func planeByPlane(timePoints: Int) -> Script {
        var script: Script = []
        for tp in 0..<timePoints {
            for plane in 0..<4 {
                let start = Int64((tp * 4 + plane) * 40)
                for c in 0..<16 { script.append((start + Int64(c), "c/\(tp)/\(c)")) }
            }
        }
        return script
    }

    @Test("plane by plane: about one copy per chunk with the hold, one per plane without")
    func planeByPlaneWriter() {
        let held = run(planeByPlane(timePoints: 20), hold: RewriteHold())
        let free = run(planeByPlane(timePoints: 20), hold: .off)
        #expect(held.amplification <= 1.3, "\(held.copies) copies of \(held.keys) chunks")
        #expect(free.amplification >= 3.5, "\(free.copies) copies of \(free.keys) chunks")
        // Each chunk's last version goes within the hold of its last write.
        #expect(held.lastDelays.max() ?? 0 <= 300 + 5, "\(held.lastDelays.max() ?? 0) ms")
    }

    @Test("a region rewritten 20 times 50 ms apart (zarr-python): each chunk sent about once, even the first burst")
    func rewriter() {
        var script: Script = []
        for round in 0..<20 {
            for c in 0..<16 { script.append((Int64(round * 50 + c), "c/0/\(c)")) }
        }
        let held = run(script, hold: RewriteHold())
        #expect(held.amplification <= 1.3, "\(held.copies) copies of \(held.keys) chunks")
        #expect(run(script, hold: .off).amplification >= 15)
    }

    @Test("a rewriter slower than the rhythm assumed at the start: the first rewrite seen makes the first round's waiting chunks wait for theirs")
    func slowFirstRound() {
        // 16 chunks, one every 6 ms, each written again 100 ms later, 10 rounds: slower
        // than the 95 ms a new chunk waits before any rewrite was seen. Chunk 0 goes before
        // its rewrite; the first rewrite (of chunk 0, at 100 ms) shows the rhythm, and the
        // other 15, still waiting, wait for it.
        var script: Script = []
        for round in 0..<10 {
            for c in 0..<16 { script.append((Int64(round * 100 + c * 6), "c/0/\(c)")) }
        }
        let held = run(script, hold: RewriteHold())
        #expect(held.copies <= 16 + 2, "\(held.copies) copies of \(held.keys) chunks")
        #expect(held.lastDelays.max() ?? 0 <= 300 + 5, "\(held.lastDelays.max() ?? 0) ms")
    }

    @Test("chunks written once (a frame writer): after the first few hundred ms, each goes at once")
    func writtenOnce() {
        // 2,000 chunks, one every 2 ms, each written once.
        let script: Script = (0..<2000).map { (Int64($0 * 2), "c/\($0)/0") }
        let held = run(script, hold: RewriteHold())
        #expect(held.copies == 2000)
        // Delays in the order the chunks were written: only those of the first ~100 ms
        // wait (too little evidence yet), at most the default 95 ms; then none does.
        #expect(held.onceDelays.map(\.delay).max() ?? 0 <= 100, "\(held.onceDelays.map(\.delay).max() ?? 0) ms")
        let waited = held.onceDelays.filter { $0.delay > 5 }
        #expect(waited.allSatisfy { $0.writtenAt < 250 }, "chunks that waited: \(waited.count), the last written at \(waited.map(\.writtenAt).max() ?? 0) ms")
    }

    @Test("a chunk written every 100 ms for 20 s is still read at least every 5 s")
    func endlessBurst() {
        let script: Script = (0..<200).map { (Int64($0 * 100), "shard") }
        let held = run(script, hold: RewriteHold())
        #expect(held.copies >= 4 && held.copies <= 8, "\(held.copies) copies in 20 s")
    }

    @Test("after the end, nothing waits: a held chunk goes at once")
    func finalPhaseDoesNotWait() {
        // Rewritten 10 ms apart, then the acquisition ends 1 ms after the last write.
        let script: Script = [(0, "a"), (10, "a"), (20, "a")]
        let held = run(script, hold: RewriteHold(), endAt: 25)
        #expect(held.lastDelays.max() ?? 0 <= 5, "\(held.lastDelays)")
    }

    @Test("the hold itself: waits 1.5 × the gap plus 5 ms, at most maxHold; no burst beyond it; off is off")
    func holdValues() {
        var h = RewriteHold()
        #expect(h.rewritten(after: .milliseconds(40)) == .milliseconds(65))
        #expect(h.rewritten(after: .milliseconds(250)) == .milliseconds(300))
        #expect(h.rewritten(after: .milliseconds(301)) == .zero)
        // Too little evidence: a new chunk waits as if the writer rewrote.
        #expect(h.newChunk() > .zero)
        for _ in 0..<40 { h.resolved(rewritten: false) }
        #expect(h.newChunk() == .zero && h.rewrittenFraction < 0.1)
        for _ in 0..<80 { h.resolved(rewritten: true) }
        #expect(h.newChunk() > .zero && h.rewrittenFraction > 0.5)
        var off = RewriteHold.off
        #expect(off.newChunk() == .zero && off.rewritten(after: .milliseconds(1)) == .zero)
    }
}
