public import SoftcopyCore

/// What a source watcher reports, in order, to whoever tracks the archive.
public enum SourceEvent: Sendable, Hashable {
    /// A path was looked at (lstat) for this cause; temp files are never reported.
    case observed(RelativePath, ObservedState, ObservationCause)
    /// A directory and everything below it left the archive.
    case subtreeRemoved(RelativePath)
    /// A full rescan starts; paths it does not report before it finishes are gone.
    case fullScanStarted
    case fullScanFinished(ScanKind)
    /// The archive's root directory disappeared / is back.
    case rootVanished
    case rootRestored
    /// Something the operator should know (overflow, watch limit, a skipped symlink).
    case warning(String)
}
