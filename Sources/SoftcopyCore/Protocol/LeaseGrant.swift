/// The coordinator's answer to a lease request: work for the agent (possibly none after a
/// long-poll), or word that the job is over.
public struct LeaseGrant: Sendable, Hashable {
    public struct Item: Sendable, Hashable {
        public var target: Int
        public var path: RelativePath
        public var operation: WorkItem.Operation
        public var lease: LeaseID
        /// The size last seen at the source (for the agent's own accounting).
        public var size: UInt64

        public init(target: Int, path: RelativePath, operation: WorkItem.Operation, lease: LeaseID, size: UInt64) {
            self.target = target
            self.path = path
            self.operation = operation
            self.lease = lease
            self.size = size
        }
    }

    public var items: [Item]
    /// The job is over (every target verified or the coordinator stopping): stop asking.
    public var finished: Bool

    public init(items: [Item], finished: Bool) {
        self.items = items
        self.finished = finished
    }

    public var json: JSONValue {
        .object([
            ("items", .array(items.map { item in
                .object([
                    ("target", .integer(item.target)), ("path", .string(item.path.string)),
                    ("op", .string(item.operation == .copy ? "copy" : "delete")),
                    ("lease", .integer(item.lease.rawValue)), ("size", .integer(item.size)),
                ])
            })),
            ("finished", .bool(finished)),
        ])
    }

    public init(json: JSONValue) throws(ProtocolError) {
        let r = try FieldReader(json, context: "lease grant")
        finished = try r.bool("finished", default: false)
        var items: [Item] = []
        for (n, entry) in try r.array("items").enumerated() {
            let e = try FieldReader(entry, context: "lease grant item \(n + 1)")
            let op: WorkItem.Operation
            switch try e.string("op") {
            case "copy": op = .copy
            case "delete": op = .delete
            case let other: throw ProtocolError("lease grant item \(n + 1): 'op' must be copy or delete, found \(other.debugDescription)")
            }
            items.append(Item(target: try e.index("target"), path: try e.path("path"), operation: op,
                              lease: LeaseID(try e.unsigned("lease")), size: try e.optionalUnsigned("size") ?? 0))
        }
        self.items = items
    }
}
