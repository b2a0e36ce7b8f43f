extension ArchiveTracker {
    /// Hands out up to `maxItems` ready work items (and about `maxBytes`), in the order the
    /// phase wants: while live, metadata first; after the end, data, then deletions, then
    /// metadata, then the end marker. Each key is leased to one consumer at a time.
    ///
    /// `accepts` is asked, for a key some consumer already holds a copy of, whether this
    /// consumer may take it (given the holder): new versions and deletions go where the
    /// old copy is, so a key never ends up on two agents; a holder that went away
    /// gives its keys up. Keys it declines stay at the head of their queue.
    public mutating func lease(
        maxItems: Int,
        maxBytes: UInt64 = .max,
        consumer: UInt32 = 0,
        expiresAfter ttl: Duration? = nil,
        now: MonotonicInstant,
        accepts: (_ holder: UInt32) -> Bool = { _ in true }
    ) -> [WorkItem] {
        promoteDue(now: now)
        var items: [WorkItem] = []
        var bytes: UInt64 = 0
        let order: [QueueKind] = phase == .live
            ? [.metadata, .delete, .data]
            : [.data, .delete, .metadata, .marker]
        for kind in order {
            var declined: [Int] = []
            while items.count < maxItems, bytes < maxBytes, allowed(kind), let i = popReady(kind, now: now) {
                if case .holds(let d) = records[i].destination, d.holder != consumer, !accepts(d.holder) {
                    declined.append(i)
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
        case .metadata: metadataQueue.pushFront(i)
        case .data: dataQueue.pushFront(i)
        case .delete: deleteQueue.pushFront(i)
        case .marker: markerQueue.pushFront(i)
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
            case .metadata: popped = metadataQueue.pop()
            case .data: popped = dataQueue.pop()
            case .delete: popped = deleteQueue.pop()
            case .marker: popped = markerQueue.pop()
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

    private mutating func grant(_ i: Int, consumer: UInt32, ttl: Duration?, now: MonotonicInstant) -> WorkItem {
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

    /// Takes back every lease held by `consumer` (an agent that went away).
    public mutating func releaseLeases(of consumer: UInt32, now: MonotonicInstant) -> Int {
        let held = inFlight.filter { records[$0].lease?.consumer == consumer }
        for i in held {
            update(i, now: now) { $0.lease = nil }
        }
        return held.count
    }
}
