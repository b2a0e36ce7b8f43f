/// Identifies one lease of one key; a completion for an older lease is ignored.
public struct LeaseID: Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "lease \(rawValue)" }
}

/// One unit of ready work handed to a copier (a local worker or, later, an agent).
/// It says *what* to do; the copier knows *where* the bytes go.
public struct WorkItem: Sendable, Hashable {
    public enum Operation: Sendable, Hashable {
        case copy
        case delete
    }

    /// What the destination is known to hold, so a copier can skip or adopt instead of writing.
    public enum DestinationHint: Sendable, Hashable {
        case nothing
        /// Holds this (a copier may skip if the source still has the same version).
        case holds(DestinationRecord)
        /// Holds a file softcopy did not write, of this size (adopt it if the checksum matches).
        case foreign(size: UInt64)
    }

    public var path: RelativePath
    public var role: FileRole
    public var operation: Operation
    public var lease: LeaseID
    public var destination: DestinationHint
    /// Size last observed at the source, for batching by bytes.
    public var expectedSize: UInt64
    /// Check the file did not change during the read (in-place writers).
    public var requireStableRead: Bool
}

/// What became of a work item.
public enum WorkOutcome: Sendable, Hashable {
    /// The bytes of `version` are durable at the destination and matched `checksum`.
    case copied(version: FileVersion, checksum: Checksum, destinationInode: UInt64, bytesWritten: UInt64)
    /// The destination already held `version` (or an identical foreign file was adopted).
    case unchanged(version: FileVersion, checksum: Checksum, destinationInode: UInt64)
    /// The source file was gone when the copier opened it.
    case sourceVanished
    /// The source changed while it was read (an in-place writer): try again after quiet.
    case changedWhileReading
    /// The destination file was removed (or was already absent).
    case deleted
    /// A failure; transient ones are retried with backoff, permanent ones reported.
    case failed(message: String, transient: Bool)
}

extension WorkOutcome {
    /// The outcome of the file at `path` once the sync of `folder` failed: a file there may
    /// not survive a power cut, so it is not reported done (or journaled) but copied again.
    public func unsynced(_ folder: RelativePath, at path: RelativePath, because failure: String) -> WorkOutcome {
        path.parent == folder ? .failed(message: failure, transient: true) : self
    }
}
