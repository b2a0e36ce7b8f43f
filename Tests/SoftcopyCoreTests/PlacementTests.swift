import Testing
@testable import SoftcopyCore

private let MiB: UInt64 = 1 << 20
private let GiB: UInt64 = 1 << 30

private func node(_ id: NodeID, free: UInt64? = 100 * GiB, outstanding: UInt64 = 0, attached: Bool = true) -> PlacementNode {
    PlacementNode(id: id, name: "store\(id)", freeBytes: free, outstandingBytes: outstanding, attached: attached)
}

/// Drives a tracker the way the coordinator does: nodes ask in turn, take what the
/// policy allows, and complete it (a node with `pace` n completes only every n-th turn).
private func simulate(
    _ placement: Placement, nodes: [PlacementNode], keys: [String], hierarchy: ZarrHierarchy = ZarrHierarchy(),
    pace: [NodeID: Int] = [:], chunk: UInt64 = MiB
) -> [String: NodeID] {
    var tracker = ArchiveTracker()
    let now = MonotonicInstant.zero
    for (n, key) in keys.enumerated() {
        tracker.observe(path(key), .file(version(UInt64(n + 1), size: chunk)), cause: .renamedInto, at: now)
    }
    var held: [NodeID: [WorkItem]] = [:]
    var placed: [String: NodeID] = [:]
    for turn in 0..<(keys.count * 4) where placed.count < keys.count {
        for asker in nodes.map(\.id) {
            if turn % (pace[asker] ?? 1) == 0 {
                for item in held[asker] ?? [] {
                    tracker.complete(item.path, lease: item.lease, outcome: .copied(
                        version: version(0, size: chunk), checksum: someChecksum, destinationInode: 1, bytesWritten: chunk), at: now)
                    placed[item.path.string] = asker
                }
                held[asker] = []
            }
            let outstanding = tracker.outstanding()
            let view = nodes.map { n in
                var n = n
                n.outstandingBytes = outstanding[n.id]?.bytes ?? 0
                return n
            }
            var round = Placement.Round(placement: placement, asker: asker, nodes: view)
            let items = tracker.lease(maxItems: 16, consumer: asker, now: now) { key, holder, size in
                round.offer(.init(size: size, holder: holder,
                                  group: PlacementGroup.key(for: key, dimensions: placement.localityDimensions, hierarchy: hierarchy)))
            }
            held[asker, default: []] += items
        }
    }
    return placed
}

@Suite("Placement policies")
struct PlacementTests {
    @Test("balanced: equal nodes share the work evenly; a slow node gets less, and every key is placed once")
    func balanced() {
        let keys = (0..<300).map { "a/c/\($0)" }
        let even = simulate(Placement(), nodes: [node(1), node(2), node(3)], keys: keys)
        #expect(even.count == 300)
        let counts = Dictionary(grouping: even.values, by: { $0 }).mapValues(\.count)
        #expect(counts.values.allSatisfy { $0 >= 80 && $0 <= 120 }, "\(counts)")

        // A node that completes its work three times more slowly keeps more outstanding,
        // so the others are not refused and it is given less.
        let slow = simulate(Placement(), nodes: [node(1), node(2), node(3)], keys: keys, pace: [3: 3], chunk: 8 * MiB)
        let slowCounts = Dictionary(grouping: slow.values, by: { $0 }).mapValues(\.count)
        #expect(slow.count == 300)
        #expect((slowCounts[3] ?? 0) < (slowCounts[1] ?? 0), "\(slowCounts)")
    }

    @Test("balanced: the least loaded node takes the chunk; a node ahead stops asking until the others catch up")
    func balancedRefusesTheBusy() {
        let placement = Placement()
        let nodes = [node(1, outstanding: 512 * MiB), node(2, outstanding: 0)]
        #expect(placement.decide(.init(size: MiB, holder: nil), asker: 1, nodes: nodes) == .stop)
        #expect(placement.accepts(.init(size: MiB, holder: nil), asker: 2, nodes: nodes))
        // Its own keys still come back to it (a new version goes where the old one is).
        #expect(placement.accepts(.init(size: MiB, holder: 1), asker: 1, nodes: nodes))
        // A node that is not asking for work (and has none) does not hold the others back.
        let idle = [node(1, outstanding: 512 * MiB), PlacementNode(id: 2, name: "store2", freeBytes: 100 * GiB, pulling: false)]
        #expect(placement.accepts(.init(size: MiB, holder: nil), asker: 1, nodes: idle))
        // More free space means a larger share: the same outstanding bytes weigh less.
        let big = [node(1, free: 1000 * GiB, outstanding: 512 * MiB), node(2, free: 10 * GiB, outstanding: 16 * MiB)]
        #expect(placement.accepts(.init(size: MiB, holder: nil), asker: 1, nodes: big))
    }

    @Test("balanced: idle nodes share ready chunks one by one within a lease call")
    func balancedRound() {
        var round = Placement.Round(placement: Placement(), asker: 1, nodes: [node(1), node(2), node(3)])
        #expect(round.offer(.init(size: MiB, holder: nil)) == .take)
        #expect(round.offer(.init(size: MiB, holder: nil)) == .stop)
        var alone = Placement.Round(placement: Placement(), asker: 1, nodes: [node(1)])
        #expect((0..<16).allSatisfy { _ in alone.offer(.init(size: MiB, holder: nil)) == .take }, "a lone node takes whole batches")
    }

    @Test("A node below the free-space reserve gets nothing more, except new versions of what it holds")
    func reserve() {
        let placement = Placement(reserve: 10 * GiB)
        let nodes = [node(1, free: 10 * GiB + 512 * MiB), node(2)]
        #expect(placement.accepts(.init(size: MiB, holder: nil), asker: 1, nodes: nodes))
        #expect(!placement.accepts(.init(size: GiB, holder: nil), asker: 1, nodes: nodes), "would cross the reserve")
        let full = [node(1, free: 9 * GiB), node(2)]
        #expect(!placement.accepts(.init(size: MiB, holder: nil), asker: 1, nodes: full))
        #expect(placement.accepts(.init(size: MiB, holder: 1), asker: 1, nodes: full), "a new version replaces the old one in place")
        // Outstanding bytes count as used.
        #expect(!placement.accepts(.init(size: MiB, holder: nil), asker: 1, nodes: [node(1, free: 11 * GiB, outstanding: 2 * GiB), node(2)]))
        // Unknown free space is not a reason to refuse.
        #expect(placement.accepts(.init(size: MiB, holder: nil), asker: 1, nodes: [node(1, free: nil)]))
    }

    @Test("A key stays with the node that holds it while that node is attached; shared ignores holders")
    func sticky() {
        let nodes = [node(1), node(2)]
        #expect(!Placement().accepts(.init(size: MiB, holder: 1), asker: 2, nodes: nodes))
        #expect(Placement().accepts(.init(size: MiB, holder: 1), asker: 2, nodes: [node(1, attached: false), node(2)]))
        #expect(!Placement(kind: .locality).accepts(.init(size: MiB, holder: 1, group: "g"), asker: 2, nodes: nodes))
        #expect(Placement(kind: .shared).accepts(.init(size: MiB, holder: 1), asker: 2, nodes: nodes))
        #expect(!Placement().accepts(.init(size: MiB, holder: nil), asker: 3, nodes: nodes), "an unknown asker")
        #expect(!Placement().accepts(.init(size: MiB, holder: nil), asker: 2, nodes: [node(1), node(2, attached: false)]))
    }

    @Test("locality: a group lands on one node, the same one whatever the order of nodes, and groups spread over all nodes")
    func locality() {
        let placement = Placement(kind: .locality)
        let nodes = [node(1), node(2), node(3)]
        var perNode: [NodeID: Int] = [:]
        for t in 0..<300 {
            let group = "0#\(t)"
            let takers = nodes.filter { placement.accepts(.init(size: MiB, holder: nil, group: group), asker: $0.id, nodes: nodes) }
            #expect(takers.count == 1)
            let reversed = Array(nodes.reversed())
            let again = reversed.filter { placement.accepts(.init(size: MiB, holder: nil, group: group), asker: $0.id, nodes: reversed) }
            #expect(again.map(\.id) == takers.map(\.id))
            perNode[takers[0].id, default: 0] += 1
        }
        #expect(perNode.count == 3 && perNode.values.allSatisfy { $0 >= 70 }, "\(perNode)")

        // A node that leaves gives up only its own groups; the rest stay where they were.
        let without2 = [node(1), node(2, attached: false), node(3)]
        for t in 0..<100 {
            let group = "0#\(t)"
            let before = RendezvousHash.ranked(nodes, group: group)[0].id
            let after = without2.first { placement.accepts(.init(size: MiB, holder: nil, group: group), asker: $0.id, nodes: without2) }?.id
            if before != 2 { #expect(after == before) } else { #expect(after != nil && after != 2) }
        }
    }

    @Test("locality: chunks of one time point share a node, through the tracker, for v3 and v2 keys")
    func localityThroughTracker() {
        var hierarchy = ZarrHierarchy()
        hierarchy.update(metadataFile: path("0/zarr.json"), node: .array(ZarrArrayLayout(
            zarrFormat: 3, shape: [20, 4, 4], fileGrid: [1, 2, 2], keyEncoding: .v3Default(separator: "/"), sharded: false)))
        hierarchy.update(metadataFile: path("1/.zarray"), node: .array(ZarrArrayLayout(
            zarrFormat: 2, shape: [20, 4, 4], fileGrid: [1, 2, 2], keyEncoding: .v2(separator: "."), sharded: false)))
        #expect(PlacementGroup.key(for: path("0/c/7/1/0"), dimensions: 1, hierarchy: hierarchy) == "0#7")
        #expect(PlacementGroup.key(for: path("0/c/7/1/0"), dimensions: 2, hierarchy: hierarchy) == "0#7,1")
        #expect(PlacementGroup.key(for: path("1/7.1.0"), dimensions: 1, hierarchy: hierarchy) == "1#7")
        #expect(PlacementGroup.key(for: path("0/zarr.json"), dimensions: 1, hierarchy: hierarchy) == "0")

        var keys: [String] = []
        for t in 0..<20 { for y in 0..<2 { for x in 0..<2 { keys += ["0/c/\(t)/\(y)/\(x)", "1/\(t).\(y).\(x)"] } } }
        let placed = simulate(Placement(kind: .locality), nodes: [node(1), node(2), node(3)], keys: keys, hierarchy: hierarchy)
        #expect(placed.count == keys.count)
        var nodeOfGroup: [String: Set<NodeID>] = [:]
        for (key, n) in placed {
            nodeOfGroup[PlacementGroup.key(for: path(key), dimensions: 1, hierarchy: hierarchy), default: []].insert(n)
        }
        #expect(nodeOfGroup.count == 40)
        #expect(nodeOfGroup.values.allSatisfy { $0.count == 1 })
        #expect(Set(nodeOfGroup.values.flatMap { $0 }).count == 3)
    }

    @Test("replicas: a node never takes a second copy of a key it holds or is writing")
    func replicas() {
        let placement = Placement(replicas: 2)
        let nodes = [node(1), node(2), node(3)]
        #expect(!placement.accepts(.init(size: MiB, holder: nil, otherCopies: [1]), asker: 1, nodes: nodes))
        #expect(placement.accepts(.init(size: MiB, holder: nil, otherCopies: [1]), asker: 2, nodes: nodes))
        let local = Placement(kind: .locality, replicas: 2)
        let ranked = RendezvousHash.ranked(nodes, group: "g").map(\.id)
        #expect(local.accepts(.init(size: MiB, holder: nil, otherCopies: [], group: "g"), asker: ranked[0], nodes: nodes))
        #expect(!local.accepts(.init(size: MiB, holder: nil, otherCopies: [], group: "g"), asker: ranked[1], nodes: nodes))
        #expect(local.accepts(.init(size: MiB, holder: nil, otherCopies: [ranked[0]], group: "g"), asker: ranked[1], nodes: nodes),
                "the second copy goes to the second-ranked node")
    }

    @Test("A policy that cannot be met says why")
    func problems() {
        #expect(Placement().problem(nodes: []) == .init(kind: .noNode, message: "no agent is attached"))
        #expect(Placement().problem(nodes: [node(1, attached: false)])?.kind == .noNode)
        let full = Placement(reserve: 10 * GiB).problem(nodes: [node(1, free: 2 * GiB)])
        #expect(full?.kind == .noRoom && full?.message.hasPrefix("no node has room above the free-space reserve (10") == true)
        #expect(Placement(replicas: 3).problem(nodes: [node(1), node(2)])
                == .init(kind: .tooFewNodes, message: "replicas: 3 needs 3 nodes with room, but only 2 have it (store1, store2)"))
        #expect(Placement(replicas: 2).problem(nodes: [node(1), node(2)]) == nil)
        // A few bytes above the reserve are no room when the archive's files are larger.
        let nearlyFull = [node(1, free: 10 * GiB + 100 << 10)]
        #expect(Placement(reserve: 10 * GiB).problem(nodes: nearlyFull) == nil)
        #expect(Placement(reserve: 10 * GiB).problem(nodes: nearlyFull, typicalSize: MiB)?.kind == .noRoom)
    }
}

@Suite("Checking a finished copy across nodes")
struct CopyCheckTests {
    private let a = CopyCheck.SourceFile(path: path("0/c/0/0"), size: 10, checksum: Checksum(high: 1, low: 1))
    private let b = CopyCheck.SourceFile(path: path("0/zarr.json"), size: 5, checksum: Checksum(high: 2, low: 2))

    @Test("The union of the nodes' files must hold every source file with its exact bytes")
    func union() {
        let good = CopyCheck(source: [a, b], nodes: [
            "store1": [a.path: .init(size: 10, checksum: a.checksum)],
            "store2": [b.path: .init(size: 5, checksum: b.checksum), path("old"): .init(size: 1, checksum: nil)],
        ], replicas: 1)
        #expect(good.isWhole && good.files == 2 && good.bytes == 15 && good.extra == 1)
        #expect(good.copiesPerNode == ["store1": 1, "store2": 1])

        let missing = CopyCheck(source: [a, b], nodes: ["store1": [a.path: .init(size: 10, checksum: a.checksum)]], replicas: 1)
        #expect(!missing.isWhole && missing.problems.map(\.path) == [b.path])

        let wrong = CopyCheck(source: [a], nodes: [
            "store1": [a.path: .init(size: 10, checksum: Checksum(high: 9, low: 9))],
        ], replicas: 1)
        #expect(wrong.problems.map(\.message) == ["different bytes on store1", "missing: no node holds it"])
    }

    @Test("The record says which copy counts: a copy on a node it does not name is superseded, never corruption; a bad copy where it names one is")
    func supersededCopies() {
        let older = CopyCheck.Copy(size: 10, checksum: Checksum(high: 9, low: 9)), current = CopyCheck.Copy(size: 10, checksum: a.checksum)
        // The failover case: store2 holds an older version and a duplicate; the record names store1.
        let nodes: [String: [RelativePath: CopyCheck.Copy]] = [
            "store1": [a.path: current, b.path: .init(size: 5, checksum: b.checksum)],
            "store2": [a.path: older, b.path: .init(size: 5, checksum: b.checksum)],
        ]
        let record: [RelativePath: Set<String>] = [a.path: ["store1"], b.path: ["store1"]]
        let check = CopyCheck(source: [a, b], nodes: nodes, replicas: 1, record: record)
        #expect(check.isWhole && check.copiesPerNode == ["store1": 2])
        #expect(check.superseded.map(\.node) == ["store2", "store2"] && check.superseded.map(\.isDuplicate) == [false, true])
        // Without a record, the older version is still superseded: a good copy exists.
        let unrecorded = CopyCheck(source: [a], nodes: nodes, replicas: 1)
        #expect(unrecorded.isWhole && unrecorded.superseded.map(\.path) == [a.path])
        // Where the record names the node with the bad bytes, it is a problem, whatever else exists.
        let damaged = CopyCheck(source: [a], nodes: nodes, replicas: 1, record: [a.path: ["store2"]])
        #expect(damaged.problems.map(\.message) == ["different bytes on store2", "missing: no node holds it; a good copy is on store1, which the manifest does not name (a run takes it into the record)"])
        // replicas: 2, named on both: a third node's copy is superseded.
        let three = CopyCheck(source: [a], nodes: ["s1": [a.path: current], "s2": [a.path: current], "s3": [a.path: current]],
                              replicas: 2, record: [a.path: ["s1", "s2"]])
        #expect(three.isWhole && three.superseded.map(\.node) == ["s3"])
    }

    @Test("With replicas, every file needs that many good copies on distinct nodes")
    func replicas() {
        let nodes: [String: [RelativePath: CopyCheck.Copy]] = [
            "store1": [a.path: .init(size: 10, checksum: a.checksum), b.path: .init(size: 5, checksum: b.checksum)],
            "store2": [a.path: .init(size: 10, checksum: a.checksum)],
        ]
        #expect(CopyCheck(source: [a, b], nodes: nodes, replicas: 1).isWhole)
        let two = CopyCheck(source: [a, b], nodes: nodes, replicas: 2)
        #expect(two.problems == [.init(path: b.path, message: "missing copies: 1 of 2 copies (on store1)")])
    }
}
