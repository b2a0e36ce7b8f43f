/// Removes superseded copies at an agent: `POST /v1/remove`. Sent by the coordinator of
/// the job that holds the destination (`job`; it knows the record names another node for
/// each key, and leases none of them to this agent meanwhile), or by `verify --repair`
/// while no job holds it: then each file names the exact copy to remove (its size and
/// XXH3-128, as the agent listed it), and a file that changed since is kept.
public struct RemovalRequest: ControlMessage, Hashable {
    public static let messageName = "removal request"

    public struct Item: Codable, Sendable, Hashable {
        public var path: RelativePath
        /// The copy to remove; nil: whatever is there (only for the holding job).
        public var size: UInt64?
        public var checksum: Checksum?

        public init(path: RelativePath, size: UInt64? = nil, checksum: Checksum? = nil) {
            self.path = path
            self.size = size
            self.checksum = checksum
        }

        enum CodingKeys: String, CodingKey {
            case path, size, checksum = "xxh3_128"
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

    enum CodingKeys: String, CodingKey {
        case destination, job, items = "files"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        destination = try c.decode(String.self, forKey: .destination)
        let job = try c.decodeIfPresent(String.self, forKey: .job)
        self.job = job
        items = try c.decodeList(Item.self, forKey: .items, count: 0...Self.maximumItems) { item in
            job != nil || (item.size != nil && item.checksum != nil)
                ? nil : "without a job, each file must name the copy to remove ('size' and 'xxh3_128')"
        }
    }
}
