/// What a symbolic link in a source archive becomes (`symlinks:`). Some pipelines link
/// chunks or whole folders into an archive; a zarr reader follows them, so by default so
/// does softcopy, as far as the archive reaches: anything it does not copy is a problem
/// with a non-zero exit, never a silent gap.
public enum SymlinkPolicy: String, Sendable, CaseIterable {
    /// A link to a file or folder inside the source archive is copied as what it points
    /// to; a link that leads outside it (or nowhere) is a problem, named.
    case inside
    /// Every link is copied as what it points to, wherever that is.
    case follow
    /// Links are not copied; the summary and manifest list them (the user accepts the gap).
    case skip
}
