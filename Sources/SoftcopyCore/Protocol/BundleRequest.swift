/// An agent asks for several small leased files in one response:
/// `POST /v1/jobs/{job}/bundle`. One request instead of one per file is what makes
/// 16 KiB chunks cheap; the answer is a `BundleFrame` per item, in order.
public struct BundleRequest: Sendable, Hashable {
    public struct Item: Sendable, Hashable {
        public var target: Int
        public var path: RelativePath
        public var lease: LeaseID

        public init(target: Int, path: RelativePath, lease: LeaseID) {
            self.target = target
            self.path = path
            self.lease = lease
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

    public var json: JSONValue {
        .object([("files", .array(items.map { item in
            .object([("target", .integer(item.target)), ("path", .string(item.path.string)), ("lease", .integer(item.lease.rawValue))])
        }))])
    }

    public init(json: JSONValue) throws(ProtocolError) {
        let r = try FieldReader(json, context: "bundle request")
        let files = try r.array("files")
        guard (1...Self.maximumItems).contains(files.count) else {
            throw ProtocolError("bundle request: 'files' must list from 1 to \(Self.maximumItems) files, found \(files.count)")
        }
        var items: [Item] = []
        items.reserveCapacity(files.count)
        for (n, file) in files.enumerated() {
            let f = try FieldReader(file, context: "bundle request: files[\(n)]")
            items.append(Item(target: try f.index("target"), path: try f.path("path"), lease: LeaseID(try f.unsigned("lease"))))
        }
        self.items = items
    }
}
