/// Removes superseded copies at an agent: `POST /v1/remove`. Sent by the coordinator of
/// the job that holds the destination (`job`; it knows the record names another node for
/// each key, and leases none of them to this agent meanwhile), or by `verify --repair`
/// while no job holds it: then each file names the exact copy to remove (its size and
/// XXH3-128, as the agent listed it), and a file that changed since is kept.
public struct RemovalRequest: Sendable, Hashable {
    public struct Item: Sendable, Hashable {
        public var path: RelativePath
        /// The copy to remove; nil: whatever is there (only for the holding job).
        public var size: UInt64?
        public var checksum: Checksum?

        public init(path: RelativePath, size: UInt64? = nil, checksum: Checksum? = nil) {
            self.path = path
            self.size = size
            self.checksum = checksum
        }
    }

    /// The destination, as in the attach request (relative to the agent's root).
    public var destination: String
    public var job: String?
    public var items: [Item]

    public static let maximumItems = 10_000

    public init(destination: String, job: String?, items: [Item]) {
        self.destination = destination
        self.job = job
        self.items = items
    }

    public var json: JSONValue {
        .object([
            ("destination", .string(destination)), ("job", job.map { .string($0) } ?? .null),
            ("files", .array(items.map { item in
                .object([("path", .string(item.path.string)), ("size", item.size.map { .integer($0) } ?? .null),
                         ("xxh3_128", item.checksum.map { .string($0.hex) } ?? .null)])
            })),
        ])
    }

    public init(json: JSONValue) throws(ProtocolError) {
        let r = try FieldReader(json, context: "removal request")
        destination = try r.string("destination")
        job = try r.optionalString("job")
        let files = try r.array("files")
        guard files.count <= Self.maximumItems else {
            throw ProtocolError("removal request: 'files' may list at most \(Self.maximumItems) files, found \(files.count)")
        }
        var items: [Item] = []
        for (n, file) in files.enumerated() {
            let f = try FieldReader(file, context: "removal request: files[\(n)]")
            let checksum = try f.optionalString("xxh3_128").map { text throws(ProtocolError) in
                guard let c = Checksum(hex: text) else { throw ProtocolError("removal request: files[\(n)]: 'xxh3_128' must be 32 hex digits") }
                return c
            }
            let item = Item(path: try f.path("path"), size: try f.optionalUnsigned("size"), checksum: checksum)
            guard job != nil || (item.size != nil && item.checksum != nil) else {
                throw ProtocolError("removal request: files[\(n)]: without a job, each file must name the copy to remove ('size' and 'xxh3_128')")
            }
            items.append(item)
        }
        self.items = items
    }
}
