extension ArchiveTracker {
    /// Hands out up to `maxItems` ready work items (and about `maxBytes`), in the order the
    /// phase wants: while live, metadata first; after the end, data, then deletions, then
    /// metadata, then the end marker. Each key is leased to one consumer at a time.
    ///
    /// `accepts` is the placement policy: it is asked, for each ready key, whether this
    /// consumer may take it, given who holds the key's copy now (nil: nobody) and its
    /// size; `.stop` ends the scan of this queue. Keys it declines stay at the head of
    /// their queue; at most `maxDeclines` are looked at per call, so a consumer that may
    /// take little does not scan everything.
    public mutating func lease(
        maxItems: Int,
        maxBytes: UInt64 = .max,
        consumer: NodeID = .local,
        expiresAfter ttl: Duration? = nil,
        now: MonotonicInstant,
        maxDeclines: Int = 4096,
        accepts: (_ path: RelativePath, _ holder: NodeID?, _ size: UInt64) -> PlacementDecision = { _, _, _ in .take }
    ) -> [WorkItem] {
        promoteDue(now: now)
        var items: [WorkItem] = []
        var bytes: UInt64 = 0
        let order: [QueueKind] = phase == .live
            ? [.metadata, .delete, .data]
            : [.data, .delete, .metadata, .marker]
        for kind in order {
            var declined: [Int] = []
            var stopped = false
            while !stopped, items.count < maxItems, bytes < maxBytes, declined.count < maxDeclines, allowed(kind),
                  let i = popReady(kind, now: now) {
                var holder: NodeID?
                if case .holds(let d) = records[i].destination { holder = d.holder }
                var size: UInt64 = 0
                if case .present(let v) = records[i].source { size = v.size }
                switch accepts(records[i].path, holder, size) {
                case .take: break
                case .skip:
                    declined.append(i)
                    continue
                case .stop:
                    declined.append(i)
                    stopped = true
                    continue
                }
                let item = grant(i, consumer: consumer, ttl: ttl, now: now)
                bytes &+= item.expectedSize
                items.append(item)
            }
            for i in declined.reversed() {
                records[i].queuedIn = kind
                pushFront(i, kind)
            }
        }
        return items
    }

    private mutating func pushFront(_ i: Int, _ kind: QueueKind) {
        switch kind {
        case .metadata: metadataQueue.pushFront(UInt32(i))
        case .data: dataQueue.pushFront(UInt32(i))
        case .delete: deleteQueue.pushFront(UInt32(i))
        case .marker: markerQueue.pushFront(UInt32(i))
        case .none: break
        }
    }

    /// Whether work of this kind may start now.
    func allowed(_ kind: QueueKind) -> Bool {
        let deletesHold = counters.pendingDeletes > 0 && deletionsAllowedNow
        switch kind {
        case .none: return false
        case .data: return true
        case .delete: return deletionsAllowedNow
        case .metadata: return phase == .live || (counters.outstandingData == 0 && !deletesHold)
        case .marker:
            return phase == .final && counters.outstandingData == 0 && counters.outstandingMetadata == 0 && !deletesHold
        }
    }

    private mutating func popReady(_ kind: QueueKind, now: MonotonicInstant) -> Int? {
        while true {
            let popped: Int?
            switch kind {
            case .metadata: popped = metadataQueue.pop().map(Int.init)
            case .data: popped = dataQueue.pop().map(Int.init)
            case .delete: popped = deleteQueue.pop().map(Int.init)
            case .marker: popped = markerQueue.pop().map(Int.init)
            case .none: popped = nil
            }
            guard let i = popped else { return nil }
            guard records[i].queuedIn == kind else { continue }  // stale entry
            records[i].queuedIn = .none
            let r = records[i]
            guard r.lease == nil else { continue }
            let current = queueKind(for: r)
            if current != kind || readyAt(r, operation: current) > now {
                enqueue(i, now: now)
                continue
            }
            return i
        }
    }

    private mutating func grant(_ i: Int, consumer: NodeID, ttl: Duration?, now: MonotonicInstant) -> WorkItem {
        nextLease &+= 1
        let id = LeaseID(nextLease)
        let operation: WorkItem.Operation = copyNeeded(records[i]) ? .copy : .delete
        update(i, now: now) { r in
            r.lease = Lease(id: id, seq: r.seq, operation: operation, consumer: consumer)
        }
        if let ttl {
            leaseExpiries.push(now + ttl, (i, id))
        }
        let r = records[i]
        let hint: WorkItem.DestinationHint
        switch r.destination {
        case .absent: hint = .nothing
        case .holds(let d): hint = .holds(d)
        case .foreign(let size): hint = .foreign(size: size)
        }
        var size: UInt64 = 0
        if case .present(let v) = r.source { size = v.size }
        return WorkItem(
            path: r.path, role: r.role, operation: operation, lease: id, destination: hint,
            expectedSize: size, requireStableRead: inPlaceActive)
    }

    /// Bytes (and files) leased to each consumer and not yet completed.
    public func outstanding() -> [NodeID: (files: Int, bytes: UInt64)] {
        var result: [NodeID: (files: Int, bytes: UInt64)] = [:]
        for i in inFlight {
            guard let lease = records[i].lease else { continue }
            var size: UInt64 = 0
            if case .present(let v) = records[i].source { size = v.size }
            let old = result[lease.consumer] ?? (0, 0)
            result[lease.consumer] = (old.files + 1, old.bytes &+ size)
        }
        return result
    }

    /// The consumer holding the current lease on `path`, if it is leased.
    public func leaseHolder(of path: RelativePath) -> NodeID? {
        indexByPath.find(path, in: records).flatMap { records[$0].lease?.consumer }
    }

    /// Takes back every lease held by `consumer` (an agent that went away).
    public mutating func releaseLeases(of consumer: NodeID, now: MonotonicInstant) -> Int {
        let held = inFlight.filter { records[$0].lease?.consumer == consumer }
        for i in held {
            if let lease = records[i].lease { leaseTakenBack(i, lease) }
            update(i, now: now) { $0.lease = nil }
        }
        return held.count
    }
}

extension ArchiveTracker {
    /// How long the oldest file still to copy has waited since it last changed at the
    /// source (nil when nothing is): the copy's lag behind the acquisition, for /metrics.
    public func oldestPending(now: MonotonicInstant) -> Duration? {
        var oldest: MonotonicInstant?
        for r in records where copyNeeded(r) {
            if oldest.map({ r.lastChange < $0 }) ?? true { oldest = r.lastChange }
        }
        return oldest.map { now - $0 }
    }
}
