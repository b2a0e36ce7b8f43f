package import SoftcopyCore
package import SoftcopyIO

/// Where a copy job's work comes from and where its outcomes go. An agent's job reaches
/// its coordinator over HTTP (`HTTPWorkChannel`); a coordinator without agents runs the
/// same job in its own process, on its engine (the coordinator's `InProcessChannel`).
/// Everything else (the transfer threads, staging, the group commit, the checks) is the
/// job's, once.
package protocol WorkChannel: Sendable {
    /// A connection for the calling transfer thread, made on that thread.
    func connect() -> any WorkConnection
    /// Whether the job's coordinator is gone for good (see `CopyJob.isAbandoned`).
    func coordinatorIsGone() -> Bool
}

/// One transfer thread's side of a `WorkChannel`; used by that thread only.
package protocol WorkConnection: AnyObject {
    /// The next batch, waiting for one at most a long poll.
    func lease(maxItems: Int, maxBytes: UInt64, isStopping: @escaping @Sendable () -> Bool) -> LeaseAnswer
    /// Opens one copy item at its source: a reader of its bytes, or what to report instead.
    func open(_ item: LeaseGrant.Item) -> Opening
    /// Several small files of one batch in one exchange, one answer per item by position;
    /// nil where the channel fetches files one by one.
    func fetchBundle(_ items: [LeaseGrant.Item]) -> [BundledFile]?
    /// Reports a batch's outcomes (after they are durable); false if the job is gone.
    func report(_ entries: [AckReport.Entry], freeBytes: UInt64?, isStopping: @escaping @Sendable () -> Bool) -> Bool
    /// A write found the destination full (ENOSPC, EDQUOT).
    func noSpace(_ error: SystemError)
}

package enum LeaseAnswer {
    case items([LeaseGrant.Item])
    /// Nothing this time (the connection has already waited as long as it should).
    case retry
    /// The job has ended, saying how: finished, gone, refused, abandoned.
    case end(String)
}

package enum Opening {
    case ready(any ItemReader)
    /// Nothing to write: report this.
    case done(WorkOutcome)
    case stale
    case jobGone
}

/// Writes one opened item's bytes.
package protocol ItemReader {
    /// Writes the item's bytes through `writer`, hashing each as it passes, and says what
    /// the source side holds them to be: the staged file must match it.
    func read(into writer: ChunkWriter, hasher: XXH3Hasher) -> Fetched
}

package enum Fetched {
    case bytes(version: FileVersion, checksum: Checksum, mode: UInt32, received: UInt64)
    case done(WorkOutcome)
    case stale
    case jobGone
    /// Writing through `writer` failed: the destination's error, not the source's.
    case writeFailed(SystemError)
}

/// One file of a bundle.
package enum BundledFile {
    case bytes(version: FileVersion, checksum: Checksum, mode: UInt32, data: ArraySlice<UInt8>)
    case done(WorkOutcome)
    case stale
    case jobGone
    /// Not in the bundle: fetch it alone.
    case alone
}
