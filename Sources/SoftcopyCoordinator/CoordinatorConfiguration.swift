public import SoftcopyCore
public import SoftcopyIO

/// Everything a coordinator run needs, resolved from the targets file and the command line.
public struct CoordinatorConfiguration: Sendable {
    public enum ProgressMode: String, Sendable, CaseIterable {
        case auto, always, never
    }

    public var targets: [TargetSpec]
    /// Watched folders (`watch:`): a service that runs until stopped, with a job per archive.
    public var watches: [WatchSpec] = []
    /// The targets file (for error messages), nil for the SOURCE DESTINATION form.
    public var targetsFile: String?
    /// The targets file's settings with the command line's on top.
    public var settings: CoordinatorSettings
    /// The source is already finished: copy, verify, exit.
    public var once = false
    /// The acquisition ends when this process exits.
    public var writerPID: Int32?
    /// Re-read and re-hash every destination file at the end, instead of re-checking that
    /// each is still the file whose checksum was verified when it landed.
    public var verifyFull = false
    public var ioPriority: IOPriority = .idle
    /// Local mode writes chunks of 256 KiB or more with O_DIRECT (`ChunkWriter`).
    public var directIO = true
    public var progress: ProgressMode = .auto
    public var verbose = false
    /// `verify --repair`: remove the superseded copies verify finds.
    public var repair = false
    /// `verify --against-manifest`: check the copy against its manifest even where the
    /// source exists (without the source, the manifest is the reference anyway).
    public var againstManifest = false
    /// Print what removing the source would remove, and remove nothing.
    public var dryRun = false
    /// How long writer temp files may take to disappear after the end before they are
    /// reported as a crashed writer's leftovers.
    public var leftoverGrace: Duration = .seconds(3)

    public static let defaultWorkers = 8
    public static let defaultQuietPeriod: Duration = .seconds(2)

    public init(targets: [TargetSpec], targetsFile: String?, settings: CoordinatorSettings) {
        self.targets = targets
        self.targetsFile = targetsFile
        self.settings = settings
    }

    /// The tracker configuration for one target: its own keys, else the run's.
    func trackerConfiguration(for spec: TargetSpec) -> ArchiveTracker.Configuration {
        ArchiveTracker.Configuration(
            writerMode: spec.writer ?? settings.writer ?? .auto,
            quietPeriod: spec.quietPeriod ?? settings.quietPeriod ?? Self.defaultQuietPeriod,
            deletions: spec.deletions ?? settings.deletions ?? .atEnd,
            finalWindow: Self.finalRetryWindow,
            retryDeadline: Self.retryDeadline(settings.retryDeadline),
            rewriteHold: RewriteHold(maxHold: settings.rewriteHold ?? Self.defaultRewriteHold))
    }

    /// A few hundred milliseconds: long enough for a writer's plane-by-plane or
    /// partial-write rhythm, short enough that a chunk still reaches the copy at once.
    public static let defaultRewriteHold: Duration = .milliseconds(300)

    /// The placement for one target: its own keys, else the run's.
    public func placement(for spec: TargetSpec) -> Placement {
        Placement(
            kind: spec.placement ?? settings.placement ?? .balanced,
            localityDimensions: spec.localityDimensions ?? settings.localityDimensions ?? 1,
            replicas: spec.replicas ?? settings.replicas ?? 1,
            reserve: settings.freeSpaceReserve ?? Self.defaultFreeSpaceReserve)
    }

    /// Whether this target may replace another source's copy at its destination.
    func replace(_ spec: TargetSpec) -> Bool {
        spec.replace ?? settings.replace ?? false
    }

    func notify(for spec: TargetSpec) -> NotificationSettings? {
        spec.notify ?? settings.notify
    }

    public func removeSource(for spec: TargetSpec) -> SourceRemovalMode {
        spec.removeSource ?? settings.removeSource ?? .never
    }

    public func symlinks(for spec: TargetSpec) -> SymlinkPolicy {
        spec.symlinks ?? settings.symlinks ?? .inside
    }

    public static let defaultRetryDeadline: Duration = .seconds(600)
    /// After the end, a file that keeps failing transiently is retried for at least this
    /// long (and six times) before the run reports it: a faulty link that reset every
    /// transfer of one file for 12 s made a whole run INCOMPLETE.
    static let finalRetryWindow: Duration = .seconds(30)

    /// Zero means no deadline: retry while the acquisition runs.
    static func retryDeadline(_ configured: Duration?) -> Duration? {
        let value = configured ?? defaultRetryDeadline
        return value == .zero ? nil : value
    }

    public static let defaultFreeSpaceReserve: UInt64 = 1 << 30

    func watchMode(for spec: TargetSpec) -> SourceWatcher.Mode {
        if let interval = spec.pollInterval ?? settings.pollInterval { return .polling(interval) }
        return .inotify
    }

    /// "targets.yaml:3:13" for a target's source, to point at it in errors.
    func location(of mark: SourceMark?) -> String {
        guard let targetsFile, let mark else { return "" }
        return " (\(targetsFile):\(mark.line):\(mark.column))"
    }
}
