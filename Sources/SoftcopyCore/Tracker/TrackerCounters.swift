/// Running totals over all records, kept exact by `ArchiveTracker.update`.
public struct TrackerCounters: Sendable, Hashable {
    /// Files present at the source (data, metadata, end marker) and their bytes.
    public var seenFiles = 0
    public var seenBytes: UInt64 = 0
    /// Of those, the ones whose current version the destination holds.
    public var doneFiles = 0
    public var doneBytes: UInt64 = 0
    /// Copies still needed or under way, by role.
    public var outstandingData = 0
    public var outstandingMetadata = 0
    public var outstandingMarker = 0
    /// Destination files whose source is gone, waiting for their deletion to be allowed.
    public var pendingDeletes = 0
    public var failedFiles = 0
    /// Files whose last copy failed for a reason that may pass, waiting to be tried again.
    public var retryingFiles = 0
    public var inFlight = 0
    public var rootMetadataPresent = 0

    struct Contribution {
        var present = false
        var bytes: UInt64 = 0
        var done = false
        var outstandingRole: FileRole?
        var pendingDelete = false
        var failed = false
        var retrying = false
        var inFlight = false
        var rootMetadata = false
    }

    mutating func apply(_ c: Contribution, sign: Int) {
        if c.present {
            seenFiles += sign
            seenBytes = sign > 0 ? seenBytes &+ c.bytes : seenBytes &- c.bytes
            if c.done {
                doneFiles += sign
                doneBytes = sign > 0 ? doneBytes &+ c.bytes : doneBytes &- c.bytes
            }
        }
        switch c.outstandingRole {
        case .data?, .temporary?: outstandingData += sign
        case .metadata?: outstandingMetadata += sign
        case .endMarker?: outstandingMarker += sign
        case nil: break
        }
        if c.pendingDelete { pendingDeletes += sign }
        if c.failed { failedFiles += sign }
        if c.retrying { retryingFiles += sign }
        if c.inFlight { inFlight += sign }
        if c.rootMetadata { rootMetadataPresent += sign }
    }
}

/// Totals of what happened, for the progress line, the summary and the manifest.
public struct TrackerStatistics: Sendable, Hashable {
    public var copiedFiles = 0
    public var copiedBytes: UInt64 = 0
    /// Work items that found the destination already holding the current version.
    public var unchanged = 0
    public var deletedFiles = 0
    /// Changes of source state observed (new files, new versions, removals).
    public var sourceChanges = 0
    /// Changes that only the final rescan revealed: zero when the watcher missed nothing.
    public var foundByFinalScan = 0
    public var retries = 0
    public var changedWhileReading = 0
    public var expiredLeases = 0
    public var lastSourceChange: MonotonicInstant?
    public var lastDestinationWrite: MonotonicInstant?

    public init() {}
}
