/// When softcopy removes the source's files, to free the acquisition PC for the next
/// acquisition. Nothing is removed that is not durable and verified at the destination on
/// as many nodes as `replicas` asks (docs/operations.md, "Removing the source").
public enum SourceRemovalMode: String, Sendable, CaseIterable {
    /// The source is left as it is (the default).
    case never
    /// Once the end verdict is OK for the whole target: every file softcopy copied and
    /// verified, then the emptied folders, then the root.
    case afterVerify = "after-verify"
    /// While the acquisition runs: each chunk file as soon as its current version is
    /// verified on every node that should hold it; metadata and the end marker wait for
    /// the verdict, as with `after-verify`.
    case live
}
