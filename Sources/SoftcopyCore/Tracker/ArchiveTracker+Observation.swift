extension ArchiveTracker {
    /// Records what the watcher or a scan saw at `path`. Temporary files are ignored:
    /// their events are the writer's business until the rename into a real name.
    public mutating func observe(
        _ path: RelativePath, _ state: ObservedState, cause: ObservationCause, at now: MonotonicInstant
    ) {
        let role = ZarrNaming.role(of: path)
        guard role != .temporary else { return }

        if cause.isInPlaceEvidence, role == .data || role == .metadata {
            detectInPlaceWriting(path, now: now)
        }

        let i: Int
        if let existing = indexByPath.find(path, in: records) {
            i = existing
        } else {
            // An absence of a path never seen needs no record.
            guard case .file = state else { return }
            i = insert(path, role: role, now: now)
        }

        let generation = scanGeneration
        let countsAsMissed = cause == .scan(.final)
        var changed = false
        var rewrittenAfterRemoval = false
        let live = phase == .live
        if live { resolveNewChunks(now: now) }
        var hold = rewriteHold
        var firstVersion = false
        update(i, now: now) { r in
            r.seenGeneration = generation
            let newSource: SourceState
            switch (state, r.source) {
            case (.absent, .removed):
                // The removal itself, seen by the watcher or a scan.
                newSource = r.source
            case (.file(let version), .removed(let removed)) where version != removed:
                // Written again after softcopy removed it: a zarr writer that updates part
                // of a chunk reads a missing chunk as fill values and writes back the whole
                // chunk, so this version may lack what the removed one held. Copying it
                // over the verified copy could lose data: both are kept, and it is named.
                newSource = .present(version)
                rewrittenAfterRemoval = true
            case (.file(let version), _): newSource = .present(version)
            case (.absent, _): newSource = .absent
            }
            if r.source != newSource {
                if r.role == .data, live { firstVersion = Self.learnRhythm(&r, hold: &hold, from: r.source, to: newSource, now: now) }
                r.source = newSource
                r.seq &+= 1
                r.lastChange = now
                r.attempts = 0
                r.retryAt = .zero
                r.failure = nil
                r.verified = false
                changed = true
                if rewrittenAfterRemoval {
                    r.failure = Failure(message: Self.rewrittenAfterRemoval, seq: r.seq, permanent: true, since: now)
                }
            } else if cause == .closedAfterWrite || cause.isInPlaceEvidence {
                // An in-place writer touched the file without changing what stat shows
                // yet: the quiet period starts again.
                r.lastChange = now
            }
        }
        let learnedFirstRhythm = rewriteHold.gapSeconds == 0 && hold.gapSeconds > 0
        rewriteHold = hold
        if firstVersion, rewriteHold.isOn { newChunks.push(.init(index: UInt32(i), judgedAt: now + rewriteHold.judgement)) }
        if learnedFirstRhythm { holdPendingNewChunks(now: now) }
        if rewrittenAfterRemoval {
            self.rewrittenAfterRemoval += 1
            notices.append(.permanentFailure(path, Self.rewrittenAfterRemoval))
        }
        if changed {
            statistics.sourceChanges += 1
            statistics.lastSourceChange = now
            if countsAsMissed { statistics.foundByFinalScan += 1 }
        }
    }

    /// New chunks whose judgement is due tell the hold whether they were written again
    /// meanwhile.
    mutating func resolveNewChunks(now: MonotonicInstant) {
        while let first = newChunks.pop() {
            guard first.judgedAt <= now else {
                newChunks.pushFront(first)
                return
            }
            rewriteHold.resolved(rewritten: records[Int(first.index)].versions >= 2)
        }
    }

    /// The first chunk written twice shows the writer's rhythm: new chunks still waiting
    /// on the assumed one (not yet sent) wait as long as it calls for, if longer. At the
    /// start of a rewriting writer, a round of chunks slower than the assumed 60 ms would
    /// otherwise go once before its rewrite (over a slow link, a round sent too early
    /// then holds the link while the next versions pile up).
    mutating func holdPendingNewChunks(now: MonotonicInstant) {
        let wait = UInt16(clamping: rewriteHold.judgement.totalNanoseconds / 1_000_000)
        var pending: [Int] = []
        newChunks.forEach { chunk in
            let r = records[Int(chunk.index)]
            if r.versions == 1, r.lease == nil, r.queuedIn == .none, r.holdMilliseconds < wait { pending.append(Int(chunk.index)) }
        }
        for j in pending {
            records[j].holdMilliseconds = wait
            enqueue(j, now: now)
        }
    }

    /// Teaches the rewrite hold what this change says of the writer's rhythm, and sets the
    /// chunk's wait (docs/readiness.md, "Chunks written several times"). Called before
    /// the record takes the new state: `lastChange` is still the previous write's.
    /// Whether this is the chunk's first version.
    static func learnRhythm(_ r: inout Record, hold rewriteHold: inout RewriteHold, from old: SourceState, to new: SourceState, now: MonotonicInstant) -> Bool {
        guard case .present = new else {
            r.holdMilliseconds = 0
            r.deferredMilliseconds = 0
            return false
        }
        let hold: Duration
        let first = r.versions == 0
        if case .present(let previous) = old {
            let gap = now - r.lastChange
            hold = rewriteHold.rewritten(after: gap)
            // Put off since the version before was still waiting (not sent, not being
            // sent): the deferral adds up; otherwise a new one begins with this write.
            var pending = r.lease == nil
            if case .holds(let d) = r.destination, d.version == previous { pending = false }
            let deferred = pending && hold > .zero ? Int64(r.deferredMilliseconds) + max(0, gap.totalNanoseconds / 1_000_000) : 0
            r.deferredMilliseconds = UInt16(clamping: deferred)
        } else {
            hold = rewriteHold.newChunk()
            r.deferredMilliseconds = 0
        }
        r.holdMilliseconds = UInt16(clamping: hold.totalNanoseconds / 1_000_000)
        r.versions = r.versions == .max ? .max : r.versions + 1
        return first
    }

    /// Every path below `directory` is gone (a directory removed or renamed away).
    public mutating func observeSubtreeRemoved(_ directory: RelativePath, cause: ObservationCause, at now: MonotonicInstant) {
        let affected = records.indices.filter {
            records[$0].path.isInside(directory) && records[$0].source != .absent && records[$0].source != .unknown
        }
        for i in affected {
            observe(records[i].path, .absent, cause: cause, at: now)
        }
    }

    /// Starts a full rescan: every path the scan (or a concurrent event) does not report
    /// before `endFullScan` is then known to be absent.
    public mutating func beginFullScan() {
        scanGeneration &+= 1
    }

    public mutating func endFullScan(_ kind: ScanKind, at now: MonotonicInstant) {
        let generation = scanGeneration
        for i in records.indices where records[i].seenGeneration != generation {
            switch records[i].source {
            case .present, .unknown:
                observe(records[i].path, .absent, cause: .scan(kind), at: now)
            case .absent, .removed:
                break
            }
        }
    }

    static let rewrittenAfterRemoval = "written again at the source after softcopy removed it (its copy was verified): a zarr writer that writes part of a chunk reads a missing chunk as fill values, so this version may lack what the removed one held; the destination keeps the removed version and the source keeps this one (docs/operations.md, \"A chunk written again after its removal\")"

    /// softcopy removed `version` of `path` from the source after its copy was verified
    /// (or an earlier run did, as its removal journal says). Until the file reappears at
    /// the source it counts as copied, and its absence is never a deletion.
    /// A record is made if there is none: on a restart the journal is read before the
    /// scan, and the agents' listings may arrive after it.
    public mutating func sourceRemoved(_ path: RelativePath, version: FileVersion, at now: MonotonicInstant) {
        let role = ZarrNaming.role(of: path)
        guard role != .temporary else { return }
        let i = insert(path, role: role, now: now)
        switch records[i].source {
        case .present(let v) where v != version: return
        default: break
        }
        update(i, now: now) { r in r.source = .removed(version) }
    }

    /// The removal `sourceRemoved` announced did not happen (the file had changed, or
    /// the unlink failed): the file is there, and a version seen meanwhile is no rewrite
    /// after a removal but an ordinary change, copied as usual.
    public mutating func sourceRemovalUndone(_ path: RelativePath, version: FileVersion, at now: MonotonicInstant) {
        guard let i = indexByPath.find(path, in: records) else { return }
        switch records[i].source {
        case .removed(let v) where v == version:
            update(i, now: now) { r in r.source = .present(version) }
        case .present:
            guard let f = records[i].failure, f.seq == records[i].seq, f.message == Self.rewrittenAfterRemoval else { return }
            rewrittenAfterRemoval -= 1
            update(i, now: now) { r in r.failure = nil }
        default:
            return
        }
    }

    /// The source root directory is gone. Deletions wait: a removed archive must never
    /// empty its copy, and `zarr.open(mode='w')` recreates the root right away.
    public mutating func sourceRootVanished(at now: MonotonicInstant) {
        sourceRootPresent = false
    }

    /// The source root exists again; the caller follows with a full rescan.
    public mutating func sourceRootRestored(at now: MonotonicInstant) {
        sourceRootPresent = true
    }

    /// Seeds what the destination holds, from the journal of an earlier run (after
    /// checking the file is still there) or as a foreign file softcopy did not write.
    public mutating func seedDestination(_ path: RelativePath, _ seed: DestinationSeed, at now: MonotonicInstant) {
        let role = ZarrNaming.role(of: path)
        guard role != .temporary else { return }
        let i = insert(path, role: role, now: now)
        if case .holds(let old) = records[i].destination, case .holds(let new) = seed, old.holder != new.holder {
            displace(path, old)
        }
        update(i, now: now) { r in
            switch seed {
            case .holds(let record):
                r.destination = .holds(record)
                r.copyLost = false
            case .foreign(let size): r.destination = .foreign(size: size)
            }
        }
    }

    public enum DestinationSeed: Sendable, Hashable {
        case holds(DestinationRecord)
        case foreign(size: UInt64)
    }

    mutating func detectInPlaceWriting(_ path: RelativePath, now: MonotonicInstant) {
        guard configuration.writerMode == .auto, !inPlaceActive else { return }
        inPlaceActive = true
        notices.append(.inPlaceWritingDetected(path))
        // Everything queued now waits for its quiet period too.
        for i in records.indices where records[i].lease == nil {
            enqueue(i, now: now)
        }
    }
}
