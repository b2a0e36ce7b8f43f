/// An agent reports what became of leased work: `POST /v1/jobs/{job}/ack`. A copy is only
/// reported once its bytes are durable under the real name.
public struct AckReport: ControlMessage, Hashable {
    public static let messageName = "ack"

    public struct Entry: Codable, Sendable, Hashable {
        public var lane: LaneID
        public var path: RelativePath
        public var lease: LeaseID
        public var outcome: WorkOutcome

        public init(lane: LaneID, path: RelativePath, lease: LeaseID, outcome: WorkOutcome) {
            self.lane = lane
            self.path = path
            self.lease = lease
            self.outcome = outcome
        }

        /// The outcome is spread over the entry's members: `outcome` names it, and the
        /// members it carries sit beside it.
        enum CodingKeys: String, CodingKey {
            case lane = "target", path, lease, outcome, version, checksum, inode, bytes, message, transient
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            lane = try c.decode(LaneID.self, forKey: .lane)
            path = try c.decode(RelativePath.self, forKey: .path)
            lease = try c.decode(LeaseID.self, forKey: .lease)
            switch try c.decode(String.self, forKey: .outcome) {
            case "copied":
                outcome = .copied(version: try c.decode(FileVersion.self, forKey: .version), checksum: try c.decode(Checksum.self, forKey: .checksum),
                                  destinationInode: try c.decodeIfPresent(UInt64.self, forKey: .inode) ?? 0,
                                  bytesWritten: try c.decodeIfPresent(UInt64.self, forKey: .bytes) ?? 0)
            case "unchanged":
                outcome = .unchanged(version: try c.decode(FileVersion.self, forKey: .version), checksum: try c.decode(Checksum.self, forKey: .checksum),
                                     destinationInode: try c.decodeIfPresent(UInt64.self, forKey: .inode) ?? 0)
            case "vanished": outcome = .sourceVanished
            case "changed": outcome = .changedWhileReading
            case "deleted": outcome = .deleted
            case "failed":
                outcome = .failed(message: try c.decodeIfPresent(String.self, forKey: .message) ?? "failed at the agent",
                                  transient: try c.decodeIfPresent(Bool.self, forKey: .transient) ?? true)
            case let other:
                throw DecodingError.dataCorruptedError(forKey: .outcome, in: c, debugDescription: "is unknown: \(other.debugDescription)")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(lane, forKey: .lane)
            try c.encode(path, forKey: .path)
            try c.encode(lease, forKey: .lease)
            switch outcome {
            case .copied(let version, let checksum, let inode, let bytes):
                try c.encode("copied", forKey: .outcome)
                try c.encode(version, forKey: .version)
                try c.encode(checksum, forKey: .checksum)
                try c.encode(inode, forKey: .inode)
                try c.encode(bytes, forKey: .bytes)
            case .unchanged(let version, let checksum, let inode):
                try c.encode("unchanged", forKey: .outcome)
                try c.encode(version, forKey: .version)
                try c.encode(checksum, forKey: .checksum)
                try c.encode(inode, forKey: .inode)
            case .sourceVanished: try c.encode("vanished", forKey: .outcome)
            case .changedWhileReading: try c.encode("changed", forKey: .outcome)
            case .deleted: try c.encode("deleted", forKey: .outcome)
            case .failed(let message, let transient):
                try c.encode("failed", forKey: .outcome)
                try c.encode(message, forKey: .message)
                try c.encode(transient, forKey: .transient)
            }
        }
    }

    public var agent: NodeID
    public var entries: [Entry]
    /// The agent's free bytes under its root when it sent the ack: placement learns at
    /// once that a node filled up, not at its next health check.
    public var freeBytes: UInt64?

    public static let maximumEntries = 4096

    public init(agent: NodeID, entries: [Entry], freeBytes: UInt64? = nil) {
        self.agent = agent
        self.entries = entries
        self.freeBytes = freeBytes
    }

    enum CodingKeys: String, CodingKey {
        case agent, freeBytes = "free_bytes", entries = "results"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        agent = try c.decode(NodeID.self, forKey: .agent)
        freeBytes = try c.decodeIfPresent(UInt64.self, forKey: .freeBytes)
        entries = try c.decodeList(Entry.self, forKey: .entries, count: 0...Self.maximumEntries)
    }
}
