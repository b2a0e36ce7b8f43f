import Testing
@testable import SoftcopyCore

@Suite("The placement record: superseded copies, and what a listing at attach becomes")
struct SupersededCopiesTests {
    private func record(_ node: NodeID, _ v: FileVersion) -> DestinationRecord {
        DestinationRecord(version: v, checksum: someChecksum, inode: 0, holder: node)
    }

    private func copy(_ t: inout ArchiveTracker, _ p: String, _ v: FileVersion, by consumer: NodeID, at now: MonotonicInstant, ttl: Duration? = nil) -> WorkItem {
        t.observe(path(p), .file(v), cause: .renamedInto, at: now)
        return t.lease(maxItems: 1, consumer: consumer, expiresAfter: ttl, now: now)[0]
    }

    @Test("A listed copy goes to the lane that names its node, else to a free lane, else it displaces an older copy; otherwise it is superseded")
    func seedDecisions() {
        let everyone: (NodeID) -> Bool = { _ in true }
        #expect(SeedDecision.decide(node: 2, listed: version(1), lanes: [record(1, version(1)), record(2, version(1))], attached: everyone) == .keep(lane: 1))
        #expect(SeedDecision.decide(node: 2, listed: version(1), lanes: [record(1, version(1)), nil], attached: everyone) == .take(lane: 1))
        // n1 was killed holding an older version; n0's newer copy takes the lane, whoever attached first.
        let older = record(1, version(1, mtime: 10)), newer = version(2, mtime: 20)
        #expect(SeedDecision.decide(node: 0, listed: newer, lanes: [older], attached: everyone) == .adopt(lane: 0, displacing: older))
        #expect(SeedDecision.decide(node: 1, listed: version(1, mtime: 10), lanes: [record(0, newer)], attached: everyone) == .superseded)
        // The same version twice: the node named first wins, or the one that is here.
        let same = version(3, mtime: 30)
        #expect(SeedDecision.decide(node: 1, listed: same, lanes: [record(2, same)], attached: everyone) == .adopt(lane: 0, displacing: record(2, same)))
        #expect(SeedDecision.decide(node: 2, listed: same, lanes: [record(1, same)], attached: everyone) == .superseded)
        #expect(SeedDecision.decide(node: 2, listed: same, lanes: [record(1, same)], attached: { $0 != 1 }) == .adopt(lane: 0, displacing: record(1, same)))
        // Replicas: the oldest of the lanes it is newer than.
        let lanes = [record(1, version(1, mtime: 5)), record(2, version(1, mtime: 1))]
        #expect(SeedDecision.decide(node: 3, listed: version(9, mtime: 9), lanes: lanes, attached: everyone) == .adopt(lane: 1, displacing: lanes[1]))
    }

    @Test("Removals: a key the record names the node for is forgotten, one being written waits, the rest go out once, and failures come back")
    func removalBookkeeping() {
        var s = SupersededCopies()
        for p in ["a", "b", "c", "d"] { s.add(path(p), on: 2) }
        s.add(path("a"), on: 3)
        let naming: (RelativePath) -> SupersededCopies.Naming = { p in
            switch p.string {
            case "a": .holder
            case "b": .leased
            default: .none
            }
        }
        #expect(s.takeRemovals(on: 2, limit: 10, naming: naming) == [path("c"), path("d")])
        #expect(s.isBeingRemoved(path("c"), from: 2) && !s.isBeingRemoved(path("c"), from: 3))
        #expect(s.takeRemovals(on: 2, limit: 10, naming: naming).isEmpty, "nothing is handed out twice")
        s.finish(on: 2, removed: [path("c")], kept: [path("d")])
        #expect(s.paths(on: 2) == [path("b"), path("d")], "a is the current copy there; b waits for its write; d failed")
        #expect(s.takeRemovals(on: 2, limit: 1, naming: { _ in .none }) == [path("b")])
        #expect(s.nodes == [2, 3] && s.count(on: 3) == 1)
    }

    @Test("A key that moves to another node displaces the copy on the node that held it")
    func moveDisplaces() {
        var t = ArchiveTracker()
        let first = copy(&t, "c/0", version(1), by: 1, at: ms(0))
        t.finishCopy(first, version(1), at: ms(1))
        #expect(t.drainDisplaced().isEmpty)
        // Node 1 goes away; the new version goes to node 2.
        let second = copy(&t, "c/0", version(2), by: 2, at: ms(2))
        t.finishCopy(second, version(2), at: ms(3))
        let displaced = t.drainDisplaced()
        #expect(displaced.map(\.node) == [1] && displaced.first?.copy.version == version(1))
        // The same node writing its own key again displaces nothing.
        let third = copy(&t, "c/0", version(3), by: 2, at: ms(4))
        t.finishCopy(third, version(3), at: ms(5))
        #expect(t.drainDisplaced().isEmpty)
        // Deleted at the source while node 2 is away: node 4 deletes it (a no-op there), and
        // node 2's copy is displaced, to be removed when it is back.
        var u = ArchiveTracker(configuration: .init(deletions: .live))
        let held = copy(&u, "d", version(1), by: 2, at: ms(0))
        u.finishCopy(held, version(1), at: ms(1))
        u.observe(path("d"), .absent, cause: .removed, at: ms(2))
        let deletion = u.lease(maxItems: 1, consumer: 4, now: ms(3))[0]
        #expect(deletion.operation == .delete)
        u.complete(deletion.path, lease: deletion.lease, outcome: .deleted, at: ms(4))
        #expect(u.drainDisplaced().map(\.node) == [2])
    }

    @Test("A lease taken back (expired, or its node lost) may have landed: that node's copy is displaced, unless it holds the key")
    func leasesTakenBack() {
        var t = ArchiveTracker()
        _ = copy(&t, "a", version(1), by: 5, at: ms(0), ttl: .seconds(1))
        _ = t.lease(maxItems: 1, consumer: 6, now: ms(2000))  // promotes the expiry
        #expect(t.drainDisplaced().map(\.node) == [5])
        _ = copy(&t, "b", version(1), by: 7, at: ms(3000))
        #expect(t.releaseLeases(of: 7, now: ms(3001)) == 1)
        let displaced = t.drainDisplaced()
        #expect(displaced.map(\.node) == [7] && displaced.first?.copy.version == nil)
        // Node 8 holds c; its own lease of the next version, taken back, leaves its old copy named.
        var u = ArchiveTracker()
        let c = copy(&u, "c", version(1), by: 8, at: ms(4000))
        u.finishCopy(c, version(1), at: ms(4001))
        #expect(copy(&u, "c", version(2), by: 8, at: ms(4002)).path == path("c"))
        _ = u.releaseLeases(of: 8, now: ms(4003))
        #expect(u.drainDisplaced().isEmpty)
    }

    @Test("A copy that fails its check at the end, and a holder replaced by a listing, are displaced")
    func checkAndSeedDisplace() {
        var t = ArchiveTracker()
        let item = copy(&t, "a", version(1), by: 3, at: ms(0))
        t.finishCopy(item, version(1), at: ms(1))
        t.beginFinalPhase(at: ms(2))
        t.recordVerification(path("a"), matches: false, at: ms(3))
        #expect(t.drainDisplaced().map(\.node) == [3])
        t.seedDestination(path("b"), .holds(record(4, version(1))), at: ms(4))
        t.seedDestination(path("b"), .holds(record(5, version(2))), at: ms(5))
        #expect(t.drainDisplaced().map(\.node) == [4])
        t.seedDestination(path("b"), .holds(record(5, version(3))), at: ms(6))
        #expect(t.drainDisplaced().isEmpty, "the same holder, refreshed")
    }
}
