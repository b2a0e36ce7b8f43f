/// The readiness state machine for one source archive.
///
/// For every key it tracks the newest version seen at the source, what the destination
/// holds, and the one transfer allowed in flight. It decides *what* is ready to copy or
/// delete and in which order; it never knows *where* the bytes go (a local worker or a
/// remote agent performs the work items and reports outcomes). No I/O, and time is
/// passed in, so tests drive it with scripts of events.
///
/// Rules it implements (see docs/readiness.md):
/// - a real name observed by rename is complete; in-place writers get a quiet period;
/// - one transfer per key; a change during a transfer marks the key dirty, so the newest
///   version always wins and an older one never lands last;
/// - metadata goes first while live (so the copy opens), and last at the end;
/// - deletions reach the destination only while the source archive still exists.
public struct ArchiveTracker: Sendable {
    public struct Configuration: Sendable {
        public var writerMode: WriterMode
        public var quietPeriod: Duration
        public var deletions: DeletionPolicy
        public var retryBase: Duration
        public var retryCap: Duration
        /// After the end, a transient failure becomes permanent after this many attempts,
        /// and no sooner than `finalWindow` after the file's first failure: six attempts
        /// back off for only about 8 s, and a link that resets for that long is not yet a
        /// reason to call the copy incomplete.
        public var finalAttempts: Int
        public var finalWindow: Duration
        /// A file whose transfers keep failing for this long (from its first failure, same
        /// version) is reported as failed instead of retried forever; nil retries while live.
        public var retryDeadline: Duration?
        /// The wait before a chunk written in bursts is read (docs/readiness.md, "Chunks
        /// written several times"). Off here; the coordinator's configuration turns it on
        /// (`rewrite_hold`), so the core's tests of other rules see every version at once.
        public var rewriteHold: RewriteHold

        public init(
            writerMode: WriterMode = .auto,
            quietPeriod: Duration = .seconds(2),
            deletions: DeletionPolicy = .atEnd,
            retryBase: Duration = .milliseconds(250),
            retryCap: Duration = .seconds(30),
            finalAttempts: Int = 6,
            finalWindow: Duration = .zero,
            retryDeadline: Duration? = .seconds(600),
            rewriteHold: RewriteHold = .off
        ) {
            self.rewriteHold = rewriteHold
            self.writerMode = writerMode
            self.quietPeriod = quietPeriod
            self.deletions = deletions
            self.retryBase = retryBase
            self.retryCap = retryCap
            self.finalAttempts = finalAttempts
            self.finalWindow = finalWindow
            self.retryDeadline = retryDeadline
        }
    }

    public enum Phase: Sendable, Hashable {
        /// The acquisition is running: copy what is ready, metadata first.
        case live
        /// The acquisition ended: data first, then metadata, then the end marker.
        case final
    }

    enum SourceState: Sendable, Hashable {
        case unknown
        case present(FileVersion)
        case absent
        /// softcopy removed this version from the source after its copy was verified
        /// (`remove_source`): it is gone on purpose, never a deletion to carry over.
        case removed(FileVersion)
    }

    enum DestinationState: Sendable, Hashable {
        case absent
        case holds(DestinationRecord)
        /// A file softcopy did not write (found at start, not in the journal).
        case foreign(size: UInt64)
    }

    enum QueueKind: UInt8, Sendable {
        case none, metadata, data, delete, marker
    }

    // Lease and Failure are classes so that a record holds one pointer for each (most
    // records have neither); both are replaced whole, never changed in place.
    final class Lease: Sendable {
        let id: LeaseID
        let seq: UInt32
        let operation: WorkItem.Operation
        let consumer: NodeID

        init(id: LeaseID, seq: UInt32, operation: WorkItem.Operation, consumer: NodeID) {
            self.id = id
            self.seq = seq
            self.operation = operation
            self.consumer = consumer
        }
    }

    final class Failure: Sendable {
        let message: String
        let seq: UInt32
        let permanent: Bool
        /// The first failure of this version, which the retry deadline counts from.
        let since: MonotonicInstant

        init(message: String, seq: UInt32, permanent: Bool, since: MonotonicInstant) {
            self.message = message
            self.seq = seq
            self.permanent = permanent
            self.since = since
        }
    }

    /// One per file: a million of them is the coordinator's memory at scale, so the fields
    /// are ordered by alignment (Swift lays them out as declared) and rare state is behind
    /// pointers: 168 bytes a record.
    struct Record: Sendable {
        let path: RelativePath
        var lastChange: MonotonicInstant
        var retryAt: MonotonicInstant = .zero
        /// When the waiting heap holds this record; `.never` when it does not.
        var scheduledAt: MonotonicInstant = .never
        var lease: Lease?
        var failure: Failure?
        var source: SourceState = .unknown
        let role: FileRole
        /// The destination file was re-checked after the end and still matched.
        var verified = false
        /// The copy it held failed its check or is on a node that is gone, and is being made
        /// again: the read view answers "later" for it, not "not held".
        var copyLost = false
        var queuedIn: QueueKind = .none
        /// Bumped on every change of the source state; a lease remembers it.
        var seq: UInt32 = 0
        var seenGeneration: UInt32 = 0
        var attempts: UInt16 = 0
        /// The rewrite hold after the last change, and how long the pending version has
        /// been put off so far (milliseconds: both stay below a minute).
        var holdMilliseconds: UInt16 = 0
        var deferredMilliseconds: UInt16 = 0
        /// Versions seen while live (saturating): the second is the first rewrite.
        var versions: UInt8 = 0
        var destination: DestinationState = .absent

        init(path: RelativePath, role: FileRole, lastChange: MonotonicInstant) {
            self.path = path
            self.role = role
            self.lastChange = lastChange
        }
    }

    public let configuration: Configuration
    public internal(set) var phase: Phase = .live
    /// In-place handling is active (configured, or detected in `auto` mode).
    public internal(set) var inPlaceActive: Bool
    /// False while the source root directory is gone (deletions wait for it).
    public internal(set) var sourceRootPresent = true
    /// The archive had root metadata at some point; deletions then need it present.
    public internal(set) var sawRootMetadata = false
    /// Files written again at the source after softcopy removed them (`remove_source:
    /// live` stops at the first: the writer goes back to chunks it had left).
    public internal(set) var rewrittenAfterRemoval = 0

    var records: [Record] = []
    var indexByPath = RecordIndex()
    var metadataQueue = FIFOQueue<UInt32>()
    var dataQueue = FIFOQueue<UInt32>()
    var deleteQueue = FIFOQueue<UInt32>()
    var markerQueue = FIFOQueue<UInt32>()
    var waiting = DeadlineHeap<Int>()
    var inFlight: Set<Int> = []
    var leaseExpiries = DeadlineHeap<(index: Int, lease: LeaseID)>()
    var nextLease: UInt64 = 0
    var scanGeneration: UInt32 = 0
    var notices: [TrackerNotice] = []
    /// Copies the record stopped naming since the last `drainDisplaced` (a key that moved
    /// to another node, a copy that failed its check, a write for a lease taken back).
    var displaced: [Displaced] = []

    /// A copy of `path` on `node` that this lane's record no longer names.
    public struct Displaced: Sendable, Hashable {
        public var path: RelativePath
        public var node: NodeID
        public var copy: SupersededCopies.Copy
    }

    public internal(set) var counters = TrackerCounters()
    public internal(set) var statistics = TrackerStatistics()
    /// What the archive's writer taught the hold so far.
    public internal(set) var rewriteHold: RewriteHold
    /// Chunks seen for the first time and not judged yet, oldest first: the hold learns
    /// whether new chunks are written again from them.
    var newChunks = FIFOQueue<NewChunk>()

    struct NewChunk: Sendable {
        let index: UInt32
        let judgedAt: MonotonicInstant
    }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.inPlaceActive = configuration.writerMode == .inPlace
        self.rewriteHold = configuration.rewriteHold
    }

    /// Notices since the last call, for the log.
    public mutating func drainNotices() -> [TrackerNotice] {
        defer { notices.removeAll() }
        return notices
    }

    /// Copies displaced since the last call (see `SupersededCopies`).
    public mutating func drainDisplaced() -> [Displaced] {
        defer { displaced.removeAll() }
        return displaced
    }

    /// Notes that the copy `record` describes is no longer the one this lane names.
    mutating func displace(_ path: RelativePath, _ record: DestinationRecord) {
        displaced.append(Displaced(path: path, node: record.holder, copy: .init(version: record.version, checksum: record.checksum)))
    }

    /// A lease of a copy taken back from `consumer`: it may have written the file anyway.
    mutating func leaseTakenBack(_ i: Int, _ lease: Lease) {
        guard lease.operation == .copy else { return }
        if case .holds(let d) = records[i].destination, d.holder == lease.consumer { return }
        displaced.append(Displaced(path: records[i].path, node: lease.consumer, copy: .init()))
    }

    public var trackedPaths: Int { records.count }

    /// The earliest instant at which waiting work becomes ready (quiet periods, backoff, lease expiry).
    public var nextDeadline: MonotonicInstant? {
        switch (waiting.nextDeadline, leaseExpiries.nextDeadline) {
        case (let a?, let b?): min(a, b)
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): nil
        }
    }

    /// Deletions may reach the destination: the source archive still exists, with its root
    /// metadata if it ever had some.
    public var deletionsAuthorized: Bool {
        sourceRootPresent && (counters.rootMetadataPresent > 0 || !sawRootMetadata)
    }

    var deletionsAllowedNow: Bool {
        guard deletionsAuthorized else { return false }
        switch configuration.deletions {
        case .live: return true
        case .atEnd: return phase == .final
        case .never: return false
        }
    }

    /// After the end: nothing left to do that can still be done, and nothing in flight.
    public var isDrained: Bool {
        guard phase == .final, counters.inFlight == 0 else { return false }
        let copies = counters.outstandingData + counters.outstandingMetadata + counters.outstandingMarker
        return copies == 0 && (counters.pendingDeletes == 0 || !deletionsAllowedNow)
    }

    // MARK: - Record bookkeeping

    mutating func insert(_ path: RelativePath, role: FileRole, now: MonotonicInstant) -> Int {
        if let i = indexByPath.find(path, in: records) { return i }
        let i = records.count
        records.append(Record(path: path, role: role, lastChange: now))
        indexByPath.insert(i, in: records)
        return i
    }

    /// Every change to a record goes through here: counters are kept by subtracting the
    /// record's contribution before and adding it after, and the record is re-queued.
    mutating func update(_ i: Int, now: MonotonicInstant, _ body: (inout Record) -> Void) {
        counters.apply(contribution(of: records[i]), sign: -1)
        body(&records[i])
        let after = contribution(of: records[i])
        counters.apply(after, sign: 1)
        if after.inFlight { inFlight.insert(i) } else { inFlight.remove(i) }
        if after.rootMetadata { sawRootMetadata = true }
        enqueue(i, now: now)
    }

    func copyNeeded(_ r: Record) -> Bool {
        guard case .present(let version) = r.source else { return false }
        if case .holds(let d) = r.destination, d.version == version { return false }
        if let f = r.failure, f.permanent, f.seq == r.seq { return false }
        return true
    }

    func deleteNeeded(_ r: Record) -> Bool {
        guard case .absent = r.source, case .holds = r.destination else { return false }
        if let f = r.failure, f.permanent, f.seq == r.seq { return false }
        return true
    }

    func contribution(of r: Record) -> TrackerCounters.Contribution {
        var c = TrackerCounters.Contribution()
        c.inFlight = r.lease != nil
        if case .present(let version) = r.source {
            c.present = true
            c.bytes = version.size
            if case .holds(let d) = r.destination, d.version == version {
                c.done = true
            }
            c.rootMetadata = r.role == .metadata && r.path.parent?.isRoot == true
                && ZarrNaming.nodeMetadataNames.contains(r.path.name)
        }
        let copy = copyNeeded(r)
        if copy || (r.lease?.operation == .copy) {
            c.outstandingRole = r.role
        }
        if case .removed(let version) = r.source {
            c.present = true
            c.bytes = version.size
            if case .holds(let d) = r.destination, d.version == version { c.done = true }
        }
        c.pendingDelete = deleteNeeded(r)
        if let f = r.failure, f.permanent, f.seq == r.seq { c.failed = true }
        c.retrying = !c.failed && r.attempts > 0 && copy
        return c
    }

    /// When the record's next operation may start: backoff, and for in-place writers the
    /// quiet period since the last change.
    func readyAt(_ r: Record, operation: QueueKind) -> MonotonicInstant {
        var t = r.retryAt
        if operation != .delete, inPlaceActive {
            t = max(t, r.lastChange + configuration.quietPeriod)
        }
        if operation == .data, phase == .live, r.holdMilliseconds > 0 {
            let held = r.lastChange + .milliseconds(Int64(r.holdMilliseconds))
            let deferredUntil = r.lastChange + (configuration.rewriteHold.maxDeferral - .milliseconds(Int64(r.deferredMilliseconds)))
            t = max(t, min(held, deferredUntil))
        }
        return t
    }

    func queueKind(for r: Record) -> QueueKind {
        if copyNeeded(r) {
            switch r.role {
            case .metadata: return .metadata
            case .endMarker: return .marker
            case .data, .temporary: return .data
            }
        }
        return deleteNeeded(r) ? .delete : .none
    }

    /// Puts a record where the scheduler will find it: a ready queue, or the waiting heap.
    mutating func enqueue(_ i: Int, now: MonotonicInstant) {
        let r = records[i]
        guard r.lease == nil else { return }
        let kind = queueKind(for: r)
        guard kind != .none else { return }
        let at = readyAt(r, operation: kind)
        if at > now {
            if r.scheduledAt != at {
                waiting.push(at, i)
                records[i].scheduledAt = at
            }
            return
        }
        guard r.queuedIn != kind else { return }
        records[i].queuedIn = kind
        switch kind {
        case .metadata: metadataQueue.push(UInt32(i))
        case .data: dataQueue.push(UInt32(i))
        case .delete: deleteQueue.push(UInt32(i))
        case .marker: markerQueue.push(UInt32(i))
        case .none: break
        }
    }

    /// Moves records whose quiet period or backoff has passed into the ready queues, and
    /// takes back leases that expired.
    mutating func promoteDue(now: MonotonicInstant) {
        while let (deadline, i) = waiting.popDue(now) {
            guard records[i].scheduledAt == deadline else { continue }
            records[i].scheduledAt = .never
            enqueue(i, now: now)
        }
        while let (_, entry) = leaseExpiries.popDue(now) {
            guard let lease = records[entry.index].lease, lease.id == entry.lease else { continue }
            leaseTakenBack(entry.index, lease)
            statistics.expiredLeases += 1
            update(entry.index, now: now) { $0.lease = nil }
        }
    }

    /// Deterministic jitter in [0.5, 1.5) from the path and attempt (FNV-1a), so backoff
    /// spreads retries without a random source in the core.
    func backoff(for path: RelativePath, attempt: Int) -> Duration {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in path.string.utf8 {
            hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3
        }
        hash = (hash ^ UInt64(attempt)) &* 0x100_0000_01b3
        let jitter = 0.5 + Double(hash % 1000) / 1000
        let exponential = configuration.retryBase.secondsValue * Double(1 << min(attempt - 1, 20))
        return .secondsValue(min(configuration.retryCap.secondsValue, exponential * jitter))
    }
}
