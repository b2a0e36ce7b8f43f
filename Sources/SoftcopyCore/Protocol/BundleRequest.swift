/// An agent asks for several small leased files in one response:
/// `POST /v1/jobs/{job}/bundle`. One request instead of one per file is what makes
/// 16 KiB chunks cheap; the answer is a `BundleFrame` per item, in order.
public struct BundleRequest: ControlMessage, Hashable {
    public static let messageName = "bundle request"

    public struct Item: Codable, Sendable, Hashable {
        public var lane: LaneID
        public var path: RelativePath
        public var lease: LeaseID

        public init(lane: LaneID, path: RelativePath, lease: LeaseID) {
            self.lane = lane
            self.path = path
            self.lease = lease
        }

        enum CodingKeys: String, CodingKey {
            case lane = "target", path, lease
        }
    }

    public var items: [Item]

    public static let maximumItems = 1024
    /// Files up to this size go in bundles; larger ones are fetched alone (sendfile).
    public static let fileLimit: UInt64 = 256 << 10
    /// A bundle's files add up to at most this much; the coordinator answers the rest
    /// with 413 frames, and the agent fetches those alone.
    public static let bundleLimit: UInt64 = 8 << 20

    public init(items: [Item]) {
        self.items = items
    }

    enum CodingKeys: String, CodingKey {
        case items = "files"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        items = try c.decodeList(Item.self, forKey: .items, count: 1...Self.maximumItems)
    }
}

/// The hand-written path (see `ControlMessage`): a bundle request names one item per file.
extension BundleRequest {
    public var handWritten: JSONValue? {
        .object([("files", .array(items.map { item in
            .object([("target", .integer(item.lane.rawValue)), ("path", .string(item.path.string)), ("lease", .integer(item.lease.rawValue))])
        }))])
    }

    public static func handRead(_ json: JSONValue) -> BundleRequest? {
        guard case .object = json, let list = json["files"]?.arrayValue, (1...maximumItems).contains(list.count) else { return nil }
        var items: [Item] = []
        items.reserveCapacity(list.count)
        for element in list {
            guard case .object = element, let lane = element["target"]?.lane, let path = element["path"]?.wire(RelativePath.self),
                  let lease = element["lease"]?.whole(UInt64.self) else { return nil }
            items.append(Item(lane: lane, path: path, lease: LeaseID(lease)))
        }
        return BundleRequest(items: items)
    }
}
