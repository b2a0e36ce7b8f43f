/// How the writer of a source archive puts files in place.
public enum WriterMode: String, Sendable, CaseIterable {
    /// Writers rename a finished temp file over the real name (tensorstore modes os,
    /// lockfile, none; zarr-python >= 3.1.3): a real name is complete when it appears.
    /// Switches to in-place handling for the archive on the first sign of in-place writing.
    case auto
    /// Trust renames; never wait.
    case atomic
    /// Writers write real names in place (tensorstore non_atomic, zarr-python 3.0.0-3.1.2):
    /// copy a file only after a quiet period, and check it did not change during the read.
    case inPlace = "in-place"
}

/// When deletions at the source reach the destination.
public enum DeletionPolicy: String, Sendable, CaseIterable {
    /// At the end of the acquisition, if the source archive still exists with its root
    /// metadata. A source removed by mistake (`rm -rf`) never empties the copy.
    case atEnd = "at-end"
    /// As they happen, under the same check.
    case live
    /// Never: the destination keeps every file it received.
    case never
}
