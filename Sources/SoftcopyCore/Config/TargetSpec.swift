/// One archive to copy: a source and a destination, plus per-target settings.
public struct TargetSpec: Sendable, Hashable {
    /// Absolute, lexically normalised paths.
    public var source: String
    public var destination: String
    /// The destination as written, for agents: relative to each agent's data root, or
    /// absolute under it.
    public var agentDestination: String
    public var writer: WriterMode?
    public var quietPeriod: Duration?
    /// Poll the source every interval instead of watching it (network filesystems).
    public var pollInterval: Duration?
    public var deletions: DeletionPolicy?
    /// How chunks are spread over agents; copies of each chunk; locality group size.
    public var placement: PlacementKind?
    public var replicas: Int?
    public var localityDimensions: Int?
    /// This target's destination may hold another source's copy, which is replaced.
    public var replace: Bool?
    public var symlinks: SymlinkPolicy?
    /// When the source's files are removed once copied (`remove_source`).
    public var removeSource: SourceRemovalMode?
    /// Whom to tell when this archive's copy ends (`notify`).
    public var notify: NotificationSettings?
    /// Where the target was written in the targets file, for later errors (source missing).
    public var sourceMark: SourceMark?
    public var destinationMark: SourceMark?

    public init(
        source: String, destination: String, writer: WriterMode? = nil, quietPeriod: Duration? = nil,
        pollInterval: Duration? = nil, deletions: DeletionPolicy? = nil,
        sourceMark: SourceMark? = nil, destinationMark: SourceMark? = nil
    ) {
        self.source = source
        self.destination = destination
        self.agentDestination = destination
        self.writer = writer
        self.quietPeriod = quietPeriod
        self.pollInterval = pollInterval
        self.deletions = deletions
        self.sourceMark = sourceMark
        self.destinationMark = destinationMark
    }
}
