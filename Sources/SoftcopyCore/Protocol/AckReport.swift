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

/// The hand-written path (see `ControlMessage`): an ack carries one entry per file.
extension AckReport {
    public var handWritten: JSONValue? {
        var members: [(key: String, value: JSONValue)] = [("agent", .integer(agent.rawValue))]
        if let freeBytes { members.append(("free_bytes", .integer(freeBytes))) }
        members.append(("results", .array(entries.map(\.handWritten))))
        return .object(members)
    }

    public static func handRead(_ json: JSONValue) -> AckReport? {
        guard case .object = json, let agent = json["agent"]?.agent,
              let freeBytes = JSONValue.optional(json["free_bytes"], { $0.whole(UInt64.self) }),
              let list = json["results"]?.arrayValue, list.count <= maximumEntries else { return nil }
        var entries: [Entry] = []
        entries.reserveCapacity(list.count)
        for element in list {
            guard let entry = Entry.handRead(element) else { return nil }
            entries.append(entry)
        }
        return AckReport(agent: agent, entries: entries, freeBytes: freeBytes)
    }
}

extension AckReport.Entry {
    var handWritten: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("target", .integer(lane.rawValue)), ("path", .string(path.string)), ("lease", .integer(lease.rawValue)),
        ]
        switch outcome {
        case .copied(let version, let checksum, let inode, let bytes):
            members += [("outcome", .string("copied")), ("version", .string(version.token)), ("checksum", .string(checksum.hex)),
                        ("inode", .integer(inode)), ("bytes", .integer(bytes))]
        case .unchanged(let version, let checksum, let inode):
            members += [("outcome", .string("unchanged")), ("version", .string(version.token)), ("checksum", .string(checksum.hex)),
                        ("inode", .integer(inode))]
        case .sourceVanished: members.append(("outcome", .string("vanished")))
        case .changedWhileReading: members.append(("outcome", .string("changed")))
        case .deleted: members.append(("outcome", .string("deleted")))
        case .failed(let message, let transient):
            members += [("outcome", .string("failed")), ("message", .string(message)), ("transient", .bool(transient))]
        }
        return .object(members)
    }

    static func handRead(_ json: JSONValue) -> AckReport.Entry? {
        guard case .object = json, let lane = json["target"]?.lane, let path = json["path"]?.wire(RelativePath.self),
              let lease = json["lease"]?.whole(UInt64.self), let kind = json["outcome"]?.stringValue else { return nil }
        let outcome: WorkOutcome
        switch kind {
        case "copied", "unchanged":
            guard let version = json["version"]?.wire(FileVersion.self), let checksum = json["checksum"]?.wire(Checksum.self),
                  let inode = JSONValue.optional(json["inode"], { $0.whole(UInt64.self) }) else { return nil }
            if kind == "unchanged" {
                outcome = .unchanged(version: version, checksum: checksum, destinationInode: inode ?? 0)
            } else {
                guard let bytes = JSONValue.optional(json["bytes"], { $0.whole(UInt64.self) }) else { return nil }
                outcome = .copied(version: version, checksum: checksum, destinationInode: inode ?? 0, bytesWritten: bytes ?? 0)
            }
        case "vanished": outcome = .sourceVanished
        case "changed": outcome = .changedWhileReading
        case "deleted": outcome = .deleted
        case "failed":
            guard let message = JSONValue.optional(json["message"], \.stringValue),
                  let transient = JSONValue.optional(json["transient"], \.boolValue) else { return nil }
            outcome = .failed(message: message ?? "failed at the agent", transient: transient ?? true)
        default:
            return nil
        }
        return AckReport.Entry(lane: lane, path: path, lease: LeaseID(lease), outcome: outcome)
    }
}
