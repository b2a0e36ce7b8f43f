/// What removing the source did (or, in a dry run, would do): the manifest's
/// `source_removal`, the summary's lines and the status document's figures.
public struct SourceRemovalReport: Sendable, Hashable {
    public var mode: SourceRemovalMode
    public var dryRun = false
    /// Nothing was removed, and why (the verdict, a holder that could not store the
    /// manifest, the journal that could not be written).
    public var refused: String?
    /// Files and bytes the source held when the removal began.
    public var sourceFiles = 0
    public var sourceBytes: UInt64 = 0
    public var removedFiles = 0
    public var removedBytes: UInt64 = 0
    /// Removed by an earlier run that stopped before it finished (its journal says so).
    public var removedEarlier = 0
    /// Files left at the source, each with why.
    public var kept: [Kept] = []
    public var foldersRemoved = 0
    public var rootRemoved = false
    public var freeBefore: UInt64?
    public var freeAfter: UInt64?
    public var started: String?
    public var finished: String?
    /// The removal journal, while it is kept (the root is still there).
    public var journal: String?

    public struct Kept: Sendable, Hashable {
        public var path: RelativePath
        public var reason: String
        /// Kept by rule (a file softcopy did not copy, a link), not for a reason that
        /// makes the run incomplete (a change since the verdict, an unlink that failed).
        public var byRule: Bool

        public init(path: RelativePath, reason: String, byRule: Bool) {
            self.path = path
            self.reason = reason
            self.byRule = byRule
        }
    }

    public init(mode: SourceRemovalMode) {
        self.mode = mode
    }

    /// Some file that should have gone stayed for a reason the run must not call OK:
    /// changed since its copy was verified, or an unlink that failed.
    public var leftFilesBehind: Bool {
        refused != nil || kept.contains { !$0.byRule }
    }

    public func json() -> JSONValue {
        .object([
            ("mode", .string(mode.rawValue)),
            ("dry_run", .bool(dryRun)),
            ("refused", refused.map { .string($0) } ?? .null),
            ("started", started.map { .string($0) } ?? .null),
            ("finished", finished.map { .string($0) } ?? .null),
            ("source_files", .integer(sourceFiles)),
            ("source_bytes", .integer(sourceBytes)),
            ("removed_files", .integer(removedFiles)),
            ("removed_bytes", .integer(removedBytes)),
            ("removed_by_earlier_runs", .integer(removedEarlier)),
            ("folders_removed", .integer(foldersRemoved)),
            ("source_root_removed", .bool(rootRemoved)),
            ("source_free_bytes_before", freeBefore.map { .integer($0) } ?? .null),
            ("source_free_bytes_after", freeAfter.map { .integer($0) } ?? .null),
            ("journal", journal.map { .string($0) } ?? .null),
            ("kept", .array(kept.map { .object(Manifest.pathMembers($0.path) + [("reason", .string($0.reason))]) })),
        ])
    }
}
