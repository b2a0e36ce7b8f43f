import SoftcopyCore

extension Engine {
    /// Everything the engine's lock guards, with the fixed tables its methods read. Its
    /// methods run with the lock held: they do no I/O and call nothing that takes it.
    struct Shared {
        var targets: [TargetState]
        var shuttingDown = false
        /// Files each target's agents already held when they attached (not sent again).
        var seededFiles: [Int]
        /// Per target: copies of its keys on nodes its record does not name.
        var superseded: [SupersededCopies]
        /// Set once agents may take part: a local copy alone has one node, where a key's
        /// next copy always replaces the last one.
        var tracksSuperseded = false
        /// The nodes that may receive work, for placement (agents, and the local copier
        /// when there is one). Called with the lock held: it must not call into the engine.
        var nodes: @Sendable () -> [PlacementNode] = { [PlacementNode(id: .local, name: "local", freeBytes: nil)] }
        /// Called (outside the lock) after any change: the HTTP API answers waiting
        /// long-polls at once, and the main loop looks at each archive's lifecycle.
        var changeHandlers: [@Sendable () -> Void] = []
        var roundRobin = 0
        /// The target of each lane, the lanes of each target, each target's placement.
        let laneTarget: [TargetIndex]
        let targetLanes: [Range<Int>]
        let placements: [Placement]

        /// Moves a lane's displaced copies into its target's superseded copies.
        mutating func absorbDisplaced(_ lane: Int) {
            for d in targets[lane].tracker.drainDisplaced() { noteSuperseded(laneTarget[lane], d.path, on: d.node, d.copy) }
        }

        /// A copy of `path` on `node` that target `target`'s record may not name. Only
        /// where there are several nodes: a local copy alone has one, and on a shared
        /// filesystem every agent's copy is the same file.
        mutating func noteSuperseded(_ target: TargetIndex, _ path: RelativePath, on node: NodeID, _ copy: SupersededCopies.Copy) {
            guard tracksSuperseded, placements[target.rawValue].kind != .shared else { return }
            superseded[target.rawValue].add(path, on: node, copy)
        }

        /// How target `target`'s record stands to `path` on `node`.
        func naming(_ target: TargetIndex, _ path: RelativePath, _ node: NodeID) -> SupersededCopies.Naming {
            var leased = false
            for lane in targetLanes[target.rawValue] {
                if targets[lane].tracker.destinationRecord(of: path)?.holder == node { return .holder }
                if targets[lane].tracker.leaseHolder(of: path) == node { leased = true }
            }
            return leased ? .leased : .none
        }

        /// The nodes with what is leased to each now.
        func nodeView() -> [PlacementNode] {
            var outstanding: [NodeID: UInt64] = [:]
            for lane in targets {
                for (consumer, o) in lane.tracker.outstanding() { outstanding[consumer, default: 0] &+= o.bytes }
            }
            return nodes().map { node in
                var node = node
                node.outstandingBytes = outstanding[node.id] ?? 0
                return node
            }
        }

        /// A batch for `consumer` from one lane, taking the lanes in turn; nil if none
        /// has work ready for it now (`nextDeadline` then says when one may).
        mutating func lease(
            consumer: NodeID, maxItems: Int, maxBytes: UInt64, ttl: Duration?, now: MonotonicInstant,
            nextDeadline: inout MonotonicInstant, notices: inout [(Int, [TrackerNotice])]
        ) -> (lane: LaneID, items: [WorkItem])? {
            let view = nodeView()
            guard view.contains(where: { $0.id == consumer && $0.attached }) else { return nil }
            for k in 0..<targets.count {
                let i = (roundRobin + k) % targets.count
                let placement = placements[laneTarget[i].rawValue]
                let others = targetLanes[laneTarget[i].rawValue].filter { $0 != i }
                let hierarchy = targets[i].hierarchy
                var round = Placement.Round(placement: placement, asker: consumer, nodes: view)
                // Take this lane's tracker out while it leases, so the placement can look at
                // the other lanes (the other copies) without overlapping access to `targets`.
                var tracker = ArchiveTracker(configuration: targets[i].tracker.configuration)
                swap(&tracker, &targets[i].tracker)
                let items = tracker.lease(maxItems: maxItems, maxBytes: maxBytes, consumer: consumer,
                                          expiresAfter: ttl, now: now) { path, holder, size in
                    var copies: [NodeID] = []
                    for j in others {
                        if let h = targets[j].tracker.destinationRecord(of: path)?.holder { copies.append(h) }
                        if let c = targets[j].tracker.leaseHolder(of: path) { copies.append(c) }
                    }
                    // A superseded copy of this key is being removed from the asker right now.
                    if superseded[laneTarget[i].rawValue].isBeingRemoved(path, from: consumer) { return .skip }
                    let group = placement.kind == .locality
                        ? PlacementGroup.key(for: path, dimensions: placement.localityDimensions, hierarchy: hierarchy) : ""
                    return round.offer(.init(size: size, holder: holder, otherCopies: copies, group: group))
                }
                swap(&tracker, &targets[i].tracker)
                absorbDisplaced(i)
                notices.append((i, targets[i].tracker.drainNotices()))
                if !items.isEmpty {
                    roundRobin = i + 1
                    return (LaneID(i), items)
                }
                if let d = targets[i].tracker.nextDeadline { nextDeadline = min(nextDeadline, d) }
            }
            return nil
        }
    }
}
