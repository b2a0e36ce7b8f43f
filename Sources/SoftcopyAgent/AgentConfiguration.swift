/// How an agent runs: its data root and how it is reached.
public struct AgentConfiguration: Sendable {
    /// Everything the agent writes lies under this folder.
    public var root: String
    public var host = "0.0.0.0"
    public var port = 7481
    /// The node's name in listings, health and (with Avahi) its advertisement.
    public var name: String
    /// The shared token; with one, every request but health must present it.
    public var token: String?
    /// A token that only reads the read view (`/zarr/`), for readers that must not
    /// write; the shared token reads it too.
    public var readToken: String?
    /// Transfers at once per job, each on its own thread with its own connection.
    public var transfers = 4
    public var verbose = false
    /// Advertise `_softcopy._tcp` through avahi-daemon.
    public var advertise = true
    /// A chunk that would take the root's free space below this is refused (507).
    public var reserve: UInt64 = 1 << 30
    /// Files whose records are kept in memory for listings (`RecordCache`); 0: none.
    public var rememberedRecords = defaultRememberedRecords
    /// Write only while the data root is a mount point (its storage is mounted).
    public var requireMount = false
    /// Write chunks of 256 KiB or more with O_DIRECT (`ChunkWriter`).
    public var directIO = true
    /// TLS for the agent's API: a PEM certificate chain and its key.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// CAs an https coordinator's certificate must chain to; nil: the system's.
    public var tlsCA: String?

    public static let defaultPort = 7481
    /// About 300 MB at most: the records of a 2-million-file acquisition.
    public static let defaultRememberedRecords = 2_000_000

    public init(root: String, name: String) {
        self.root = root
        self.name = name
    }
}
