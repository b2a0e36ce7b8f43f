extension ArchiveTracker {
    /// What the read view may say about one key of this lane.
    public enum ServedCopy: Sendable, Equatable {
        /// The last version a node made durable and verified.
        case held(DestinationRecord)
        /// Its copy was lost (failed its check, or its node is gone) and is being made again.
        case lost
    }

    /// The copy the read view may serve for `path`. None for a key never copied, not yet
    /// verified, or deleted at the source (its copy waits for the end to be deleted, but
    /// it no longer is the archive's).
    public func servedCopy(_ path: RelativePath) -> ServedCopy? {
        indexByPath.find(path, in: records).flatMap { Self.servable(records[$0]) }
    }

    /// Every key under `folder` (the root: all) the read view serves or will serve again.
    public func servedPaths(under folder: RelativePath) -> [RelativePath] {
        records.compactMap { r in Self.servable(r) != nil && (folder.isRoot || r.path.isInside(folder)) ? r.path : nil }
    }

    private static func servable(_ r: Record) -> ServedCopy? {
        if case .absent = r.source { return nil }
        if case .holds(let d) = r.destination { return .held(d) }
        return r.copyLost ? .lost : nil
    }
}
