/// What the watcher or a scan saw at a path, at the moment it looked (an lstat).
public enum ObservedState: Sendable, Hashable {
    case file(FileVersion)
    case absent
}

/// Why the path was looked at. The cause carries the facts the readiness rules need:
/// a rename into a real name means the file is complete; a real name created or
/// modified in place means the writer does not rename.
public enum ObservationCause: Sendable, Hashable {
    case renamedInto
    case createdInPlace
    case modifiedInPlace
    case closedAfterWrite
    case removed
    case scan(ScanKind)

    var isInPlaceEvidence: Bool {
        self == .createdInPlace || self == .modifiedInPlace
    }
}

public enum ScanKind: String, Sendable, Hashable {
    /// At start-up, before any event was seen.
    case initial
    /// A directory that just appeared, scanned right after its watch was added.
    case newDirectory
    /// After an inotify queue overflow or the root being recreated.
    case recovery
    /// The last rescan after the acquisition ended.
    case final
    /// Polling mode (network filesystems, where inotify sees nothing).
    case poll
}

/// Events the tracker reports for the log, once each.
public enum TrackerNotice: Sendable, Hashable {
    case inPlaceWritingDetected(RelativePath)
    case permanentFailure(RelativePath, String)
    case retrying(RelativePath, String, attempt: Int)
}
