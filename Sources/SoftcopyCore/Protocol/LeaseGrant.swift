/// The coordinator's answer to a lease request: work for the agent (possibly none after a
/// long-poll), or word that the job is over.
public struct LeaseGrant: ControlMessage, Hashable {
    public static let messageName = "lease grant"

    public struct Item: Codable, Sendable, Hashable {
        public var lane: LaneID
        public var path: RelativePath
        public var operation: WorkItem.Operation
        public var lease: LeaseID
        /// The size last seen at the source (for the agent's own accounting).
        public var size: UInt64

        public init(lane: LaneID, path: RelativePath, operation: WorkItem.Operation, lease: LeaseID, size: UInt64) {
            self.lane = lane
            self.path = path
            self.operation = operation
            self.lease = lease
            self.size = size
        }

        enum CodingKeys: String, CodingKey {
            case lane = "target", path, operation = "op", lease, size
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            lane = try c.decode(LaneID.self, forKey: .lane)
            path = try c.decode(RelativePath.self, forKey: .path)
            operation = try c.decode(WorkItem.Operation.self, forKey: .operation)
            lease = try c.decode(LeaseID.self, forKey: .lease)
            size = try c.decodeIfPresent(UInt64.self, forKey: .size) ?? 0
        }
    }

    public var items: [Item]
    /// The job is over (every target verified or the coordinator stopping): stop asking.
    public var finished: Bool

    public init(items: [Item], finished: Bool) {
        self.items = items
        self.finished = finished
    }

    enum CodingKeys: String, CodingKey {
        case items, finished
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        items = try c.decode([Item].self, forKey: .items)
        finished = try c.decodeIfPresent(Bool.self, forKey: .finished) ?? false
    }
}

/// The hand-written path (see `ControlMessage`): a grant carries one item per file.
extension LeaseGrant {
    public var handWritten: JSONValue? {
        .object([
            ("items", .array(items.map { item in
                .object([("target", .integer(item.lane.rawValue)), ("path", .string(item.path.string)),
                         ("op", .string(item.operation.wireText)), ("lease", .integer(item.lease.rawValue)), ("size", .integer(item.size))])
            })),
            ("finished", .bool(finished)),
        ])
    }

    public static func handRead(_ json: JSONValue) -> LeaseGrant? {
        guard case .object = json, let list = json["items"]?.arrayValue,
              let finished = JSONValue.optional(json["finished"], \.boolValue) else { return nil }
        var items: [Item] = []
        items.reserveCapacity(list.count)
        for element in list {
            guard case .object = element, let lane = element["target"]?.lane, let path = element["path"]?.wire(RelativePath.self),
                  let operation = element["op"]?.wire(WorkItem.Operation.self), let lease = element["lease"]?.whole(UInt64.self),
                  let size = JSONValue.optional(element["size"], { $0.whole(UInt64.self) }) else { return nil }
            items.append(Item(lane: lane, path: path, operation: operation, lease: LeaseID(lease), size: size ?? 0))
        }
        return LeaseGrant(items: items, finished: finished ?? false)
    }
}
