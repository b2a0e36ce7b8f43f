/// The completeness verdict for one archive: what the destination holds, compared with
/// what the source holds after the end. This, not a log of what was sent, decides the
/// exit code.
public struct ArchiveVerdict: Sendable, Hashable {
    public struct VerifiedFile: Sendable, Hashable {
        public var path: RelativePath
        public var role: FileRole
        public var size: UInt64
        public var checksum: Checksum
        public var mtimeNanoseconds: Int64
        /// The nodes holding a verified copy (0 is the coordinator's local destination).
        public var holders: [NodeID] = [.local]
        /// When softcopy removed it from the source (Unix time, ns), if it did.
        public var removedAt: Int64?

        public init(path: RelativePath, role: FileRole, size: UInt64, checksum: Checksum, mtimeNanoseconds: Int64,
                    holders: [NodeID] = [.local], removedAt: Int64? = nil) {
            self.path = path
            self.role = role
            self.size = size
            self.checksum = checksum
            self.mtimeNanoseconds = mtimeNanoseconds
            self.holders = holders
            self.removedAt = removedAt
        }
    }

    public enum ProblemKind: Sendable, Hashable, CustomStringConvertible {
        /// At the source, not at the destination.
        case missing
        /// The destination holds an older version than the source's last one.
        case stale
        /// The destination copy could not be re-checked.
        case unverified
        /// A permanent error, with its cause.
        case failed(String)
        /// The source archive's root is gone.
        case sourceVanished

        public var description: String {
            switch self {
            case .missing: "missing at the destination"
            case .stale: "the destination holds an older version"
            case .unverified: "not verified at the destination"
            case .failed(let message): message
            case .sourceVanished: "the source archive disappeared; the destination was kept as it is"
            }
        }
    }

    public struct Problem: Sendable, Hashable {
        public var path: RelativePath
        public var kind: ProblemKind
    }

    public var verified: [VerifiedFile] = []
    public var verifiedBytes: UInt64 = 0
    public var problems: [Problem] = []
    /// Writer temp files left at the source after the end: a crashed writer.
    public var leftovers: [RelativePath] = []
    /// Files softcopy wrote whose source is gone, kept because deleting was not allowed.
    public var keptDeletions: [RelativePath] = []
    /// Files at the destination that softcopy did not write and the source does not have.
    public var extraneous: [RelativePath] = []
    /// Symbolic links at the source left out, as `symlinks: skip` asks.
    public var skipped: [RelativePath] = []
    /// Verified chunk files outside their array's current shape (left by a shrink).
    public var outOfBounds: [RelativePath] = []
    /// Changes only the final rescan revealed (zero when the watcher missed nothing).
    public var foundByFinalScan = 0
    /// Verified files that softcopy had already removed from the source (`remove_source`).
    public var removedFromSource = 0
    public var maximumChunkFiles: UInt64?
    public var arrays = 0
    public var groups = 0
    public var sourceRootPresent = true

    public init() {}

    /// One verdict over the replicas of an archive (one tracker per copy): a file counts as
    /// verified only when every copy is, and a copy's problem is named with its number.
    public static func merging(replicas: [ArchiveVerdict]) -> ArchiveVerdict {
        guard var merged = replicas.first else { return ArchiveVerdict() }
        guard replicas.count > 1 else { return merged }
        var holders: [RelativePath: [NodeID]] = [:]
        for file in merged.verified { holders[file.path] = file.holders }
        for (n, other) in replicas.enumerated().dropFirst() {
            var seen = Set<RelativePath>()
            for file in other.verified where holders[file.path] != nil {
                holders[file.path]! += file.holders
                seen.insert(file.path)
            }
            for path in holders.keys where !seen.contains(path) { holders[path] = nil }
            for problem in other.problems where problem.kind != .sourceVanished {
                merged.problems.append(.init(path: problem.path, kind: .failed("copy \(n + 1) of \(replicas.count): \(problem.kind.description)")))
            }
        }
        merged.verified = merged.verified.compactMap { file in
            guard let h = holders[file.path] else { return nil }
            var file = file
            file.holders = h
            return file
        }
        merged.verifiedBytes = merged.verified.reduce(0) { $0 &+ $1.size }
        merged.problems.sort { $0.path < $1.path }
        return merged
    }

    /// Every file at the source is at the destination, at its last version, verified.
    public var isComplete: Bool { problems.isEmpty }

    public var exitStatus: ExitStatus {
        if !problems.isEmpty { return .incomplete }
        if !leftovers.isEmpty { return .verifiedWithLeftovers }
        return .verified
    }
}

/// The coordinator's exit codes (docs/operations.md).
public enum ExitStatus: Int32, Sendable, Hashable, Comparable {
    /// Everything at the source is at the destination, verified.
    case verified = 0
    /// Something is missing, stale or failed; the run names each file.
    case incomplete = 1
    /// Bad usage or configuration: nothing was copied.
    case usage = 2
    /// Interrupted by a signal before the end: run again to resume.
    case interrupted = 3
    /// The copy is complete and verified, but the source holds a crashed writer's temp files.
    case verifiedWithLeftovers = 4

    /// Which of two outcomes of several archives the whole run reports.
    var severity: Int {
        switch self {
        case .verified: 0
        case .verifiedWithLeftovers: 1
        case .interrupted: 2
        case .incomplete: 3
        case .usage: 4
        }
    }

    public static func < (lhs: ExitStatus, rhs: ExitStatus) -> Bool { lhs.severity < rhs.severity }
}
