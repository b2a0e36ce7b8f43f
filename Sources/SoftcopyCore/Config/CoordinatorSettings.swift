/// Run-wide settings. Each one can come from the targets file or the command line
/// (the command line wins); nil means "not given here".
public struct CoordinatorSettings: Sendable, Hashable {
    /// Copy workers (softcopy's --nprocs).
    public var nprocs: Int?
    /// Pause after each copied file, per worker (softcopy's --sleep-time).
    public var sleepTime: Duration?
    /// Cap on bytes read from the sources per second, all workers together: one rate or
    /// a daily timetable (`RateSchedule`).
    public var maxRate: RateSchedule?
    /// No change at the source for this long suggests the end; a rescan confirms it.
    public var idleTimeout: Duration?
    /// Wait for a missing source to appear instead of failing.
    public var waitForSource: Bool?
    public var writer: WriterMode?
    public var quietPeriod: Duration?
    /// The longest wait after a write of a chunk written in bursts (0: off).
    public var rewriteHold: Duration?
    /// When chunks go to agents compressed (`WireCompression`; default auto).
    public var wireCompression: WireCompression?
    public var pollInterval: Duration?
    public var deletions: DeletionPolicy?
    /// Agents named by URL (`http://host:port`); with none, the coordinator copies locally.
    public var agents: [String]?
    /// Where the coordinator's HTTP API listens (`host:port`) when agents pull from it.
    public var listen: String?
    /// The URL agents reach the coordinator at; by default the address the coordinator
    /// used to reach each agent, with the listening port.
    public var advertiseURL: String?
    /// A file holding the shared token that agents and coordinator present to each other.
    public var tokenFile: String?
    /// TLS for the coordinator's API: a PEM certificate chain and its key.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// CA certificates (PEM) that agents' certificates are checked against; default: the system's.
    public var tlsCA: String?
    /// A file that keeps failing transiently for this long is reported as failed; zero
    /// retries for as long as the acquisition runs.
    public var retryDeadline: Duration?
    /// A leased item whose agent has said nothing for this long is leased again.
    public var leaseTimeout: Duration?
    /// Browse for agents advertised through Avahi (`_softcopy._tcp`).
    public var discovery: Bool?
    /// How long to look for agents at start before copying locally.
    public var discoveryWait: Duration?
    /// An agent whose free space would fall below this gets no more work.
    public var freeSpaceReserve: UInt64?
    /// What to do when the placement policy cannot be met.
    public var whenUnsatisfiable: UnsatisfiableAction?
    /// Defaults for every target.
    public var placement: PlacementKind?
    public var replicas: Int?
    public var localityDimensions: Int?
    /// A destination that holds the copy of another source may be replaced by this one.
    public var replace: Bool?
    /// What symbolic links in the sources become.
    public var symlinks: SymlinkPolicy?
    /// When the source's files are removed once copied.
    public var removeSource: SourceRemovalMode?
    /// Checksum lists written beside the manifest besides XXH3-128's (sha256, md5).
    public var checksums: Set<ChecksumAlgorithm>?
    /// Whom to tell when each archive's copy ends, for targets without their own.
    public var notify: NotificationSettings?
    /// Where the coordinator keeps its job history (default: `JobHistory.defaultDirectory`).
    public var stateDirectory: String?

    public init() {}

    /// Values set in `overrides` replace those here.
    public func merging(_ overrides: CoordinatorSettings) -> CoordinatorSettings {
        var merged = self
        if let v = overrides.nprocs { merged.nprocs = v }
        if let v = overrides.sleepTime { merged.sleepTime = v }
        if let v = overrides.maxRate { merged.maxRate = v }
        if let v = overrides.idleTimeout { merged.idleTimeout = v }
        if let v = overrides.waitForSource { merged.waitForSource = v }
        if let v = overrides.writer { merged.writer = v }
        if let v = overrides.quietPeriod { merged.quietPeriod = v }
        if let v = overrides.rewriteHold { merged.rewriteHold = v }
        if let v = overrides.wireCompression { merged.wireCompression = v }
        if let v = overrides.pollInterval { merged.pollInterval = v }
        if let v = overrides.deletions { merged.deletions = v }
        if let v = overrides.agents { merged.agents = (merged.agents ?? []) + v }
        if let v = overrides.listen { merged.listen = v }
        if let v = overrides.advertiseURL { merged.advertiseURL = v }
        if let v = overrides.tokenFile { merged.tokenFile = v }
        if let v = overrides.leaseTimeout { merged.leaseTimeout = v }
        if let v = overrides.retryDeadline { merged.retryDeadline = v }
        if let v = overrides.tlsCertificate { merged.tlsCertificate = v }
        if let v = overrides.tlsKey { merged.tlsKey = v }
        if let v = overrides.tlsCA { merged.tlsCA = v }
        if let v = overrides.discovery { merged.discovery = v }
        if let v = overrides.discoveryWait { merged.discoveryWait = v }
        if let v = overrides.freeSpaceReserve { merged.freeSpaceReserve = v }
        if let v = overrides.whenUnsatisfiable { merged.whenUnsatisfiable = v }
        if let v = overrides.placement { merged.placement = v }
        if let v = overrides.replicas { merged.replicas = v }
        if let v = overrides.localityDimensions { merged.localityDimensions = v }
        if let v = overrides.replace { merged.replace = v }
        if let v = overrides.symlinks { merged.symlinks = v }
        if let v = overrides.removeSource { merged.removeSource = v }
        if let v = overrides.checksums { merged.checksums = v }
        if let v = overrides.notify { merged.notify = v }
        if let v = overrides.stateDirectory { merged.stateDirectory = v }
        return merged
    }
}
