/// An agent reports what became of leased work: `POST /v1/jobs/{job}/ack`. A copy is only
/// reported once its bytes are durable under the real name.
public struct AckReport: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var target: Int
        public var path: RelativePath
        public var lease: LeaseID
        public var outcome: WorkOutcome

        public init(target: Int, path: RelativePath, lease: LeaseID, outcome: WorkOutcome) {
            self.target = target
            self.path = path
            self.lease = lease
            self.outcome = outcome
        }
    }

    public var agent: UInt32
    public var entries: [Entry]
    /// The agent's free bytes under its root when it sent the ack: placement learns at
    /// once that a node filled up, not at its next health check.
    public var freeBytes: UInt64?

    public static let maximumEntries = 4096

    public init(agent: UInt32, entries: [Entry], freeBytes: UInt64? = nil) {
        self.agent = agent
        self.entries = entries
        self.freeBytes = freeBytes
    }

    public var json: JSONValue {
        .object([
            ("agent", .integer(agent)),
            ("free_bytes", freeBytes.map { .integer($0) } ?? .null),
            ("results", .array(entries.map { e in
                var members: [(key: String, value: JSONValue)] = [
                    ("target", .integer(e.target)), ("path", .string(e.path.string)), ("lease", .integer(e.lease.rawValue)),
                ]
                switch e.outcome {
                case .copied(let version, let checksum, let inode, let bytes):
                    members += [("outcome", .string("copied")), ("version", .string(version.token)),
                                ("checksum", .string(checksum.hex)), ("inode", .integer(inode)), ("bytes", .integer(bytes))]
                case .unchanged(let version, let checksum, let inode):
                    members += [("outcome", .string("unchanged")), ("version", .string(version.token)),
                                ("checksum", .string(checksum.hex)), ("inode", .integer(inode))]
                case .sourceVanished: members.append(("outcome", .string("vanished")))
                case .changedWhileReading: members.append(("outcome", .string("changed")))
                case .deleted: members.append(("outcome", .string("deleted")))
                case .failed(let message, let transient):
                    members += [("outcome", .string("failed")), ("message", .string(message)), ("transient", .bool(transient))]
                }
                return .object(members)
            })),
        ])
    }

    public init(json: JSONValue) throws(ProtocolError) {
        let r = try FieldReader(json, context: "ack")
        self.agent = try r.agentNumber()
        self.freeBytes = try r.optionalUnsigned("free_bytes")
        let results = try r.array("results")
        guard results.count <= Self.maximumEntries else { throw ProtocolError("ack: at most \(Self.maximumEntries) results per request") }
        var entries: [Entry] = []
        for (n, value) in results.enumerated() {
            let e = try FieldReader(value, context: "ack result \(n + 1)")
            let outcome: WorkOutcome
            switch try e.string("outcome") {
            case "copied":
                outcome = .copied(version: try e.version("version"), checksum: try e.checksum("checksum"),
                                  destinationInode: try e.optionalUnsigned("inode") ?? 0, bytesWritten: try e.optionalUnsigned("bytes") ?? 0)
            case "unchanged":
                outcome = .unchanged(version: try e.version("version"), checksum: try e.checksum("checksum"),
                                     destinationInode: try e.optionalUnsigned("inode") ?? 0)
            case "vanished": outcome = .sourceVanished
            case "changed": outcome = .changedWhileReading
            case "deleted": outcome = .deleted
            case "failed":
                outcome = .failed(message: try e.optionalString("message") ?? "failed at the agent", transient: try e.bool("transient", default: true))
            case let other:
                throw ProtocolError("ack result \(n + 1): unknown 'outcome' \(other.debugDescription)")
            }
            entries.append(Entry(target: try e.index("target"), path: try e.path("path"), lease: LeaseID(try e.unsigned("lease")), outcome: outcome))
        }
        self.entries = entries
    }
}
