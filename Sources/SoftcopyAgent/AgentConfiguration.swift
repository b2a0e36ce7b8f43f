public import SoftcopyCore

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

    /// Write into an S3 bucket instead of under the root (which then keeps only the
    /// staging temp files and each destination's `.softcopy/`).
    public var objectStore: ObjectStoreSettings?

    public static let defaultPort = 7481
    /// About 300 MB at most: the records of a 2-million-file acquisition.
    public static let defaultRememberedRecords = 2_000_000

    public init(root: String, name: String) {
        self.root = root
        self.name = name
    }
}

/// An S3-compatible bucket as an agent's store (`--store s3://BUCKET/PREFIX`).
public struct ObjectStoreSettings: Sendable {
    public var location: S3Location
    /// The server's base URL (`http://127.0.0.1:8333`, `https://s3.example.org`).
    public var endpoint: String
    public var region: String
    public var credentials: S3Credentials
    /// Files larger than this are uploaded in parts of this size (multipart upload).
    public var multipartThreshold = 64 << 20
    /// The most the agent stores under its prefix (`--s3-quota`); nil: unbounded, and
    /// the agent reports no free space for placement to weigh.
    public var quota: UInt64?
    /// S3 refuses parts smaller than this (but the last).
    public static let minimumPartSize = 5 << 20

    public init(location: S3Location, endpoint: String, region: String, credentials: S3Credentials) {
        self.location = location
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
    }
}
