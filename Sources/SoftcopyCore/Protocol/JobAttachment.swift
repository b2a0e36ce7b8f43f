/// The coordinator attaches its job to an agent: `POST /v1/jobs` on the agent. It says
/// where to pull from, which number the agent has in this job, and where each target's
/// files go under the agent's root.
public struct JobAttachment: ControlMessage, Hashable {
    public static let messageName = "attach request"

    public struct Target: Codable, Sendable, Hashable {
        public var lane: LaneID
        /// Relative to the agent's root, or absolute (then it must lie under the root).
        public var destination: String
        /// The source this target copies: a destination that holds another's copy is
        /// refused (409) unless `replace`. Nil from coordinators before 0.x: not checked.
        public var origin: CopyOrigin?
        public var replace: Bool
        /// The job is this destination's only writer: the agent takes its lock file
        /// (`.softcopy/lock`), as a local run does. False where several agents write one
        /// shared filesystem (`placement: shared`).
        public var exclusive: Bool

        public init(lane: LaneID, destination: String, origin: CopyOrigin? = nil, replace: Bool = false, exclusive: Bool = true) {
            self.lane = lane
            self.destination = destination
            self.origin = origin
            self.replace = replace
            self.exclusive = exclusive
        }

        enum CodingKeys: String, CodingKey {
            case lane = "index", destination, origin, replace, exclusive
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            lane = try c.decode(LaneID.self, forKey: .lane)
            destination = try c.decode(String.self, forKey: .destination)
            guard !destination.isEmpty, !destination.utf8.contains(0) else {
                throw DecodingError.dataCorruptedError(forKey: .destination, in: c, debugDescription: "must be a non-empty path")
            }
            origin = try c.decodeIfPresent(CopyOrigin.self, forKey: .origin)
            replace = try c.decodeIfPresent(Bool.self, forKey: .replace) ?? false
            exclusive = try c.decodeIfPresent(Bool.self, forKey: .exclusive) ?? true
        }
    }

    public var job: String
    public var coordinator: String
    public var agent: NodeID
    public var targets: [Target]

    public init(job: String, coordinator: String, agent: NodeID, targets: [Target]) {
        self.job = job
        self.coordinator = coordinator
        self.agent = agent
        self.targets = targets
    }

    enum CodingKeys: String, CodingKey {
        case job, coordinator, agent, targets
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        job = try c.decode(String.self, forKey: .job)
        guard Self.isValidJobName(job) else {
            throw DecodingError.dataCorruptedError(forKey: .job, in: c, debugDescription: "must be 1 to 64 letters, digits, '-' or '_', found \(job.debugDescription)")
        }
        coordinator = try c.decode(String.self, forKey: .coordinator)
        guard coordinator.hasPrefix("http://") || coordinator.hasPrefix("https://"), coordinator.utf8.count < 2048 else {
            throw DecodingError.dataCorruptedError(forKey: .coordinator, in: c, debugDescription: "must be an http:// or https:// URL, found \(coordinator.debugDescription)")
        }
        agent = try c.decode(NodeID.self, forKey: .agent)
        targets = try c.decode([Target].self, forKey: .targets)
        guard !targets.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .targets, in: c, debugDescription: "is empty")
        }
    }

    public static func isValidJobName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        }
    }

    /// Where a target's destination lies under an agent's root, or why it may not.
    /// Absolute destinations must name a folder under the root; relative ones are taken
    /// from the root. No `..` either way: that is how writes would leave the root.
    public static func resolve(destination: String, root: String) throws(ProtocolError) -> RelativePath {
        var relative = destination
        if destination.hasPrefix("/") {
            let normalizedRoot = root.hasSuffix("/") ? String(root.dropLast()) : root
            guard destination == normalizedRoot || destination.hasPrefix(normalizedRoot + "/") else {
                throw ProtocolError("destination \(destination) is outside this agent's data root \(normalizedRoot)")
            }
            relative = String(destination.dropFirst(normalizedRoot.count))
        }
        let cleaned = relative.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
        let path: RelativePath
        do {
            path = try RelativePath(validating: cleaned)
        } catch {
            throw ProtocolError("destination \(destination.debugDescription) is not a folder under the agent's data root: \(error)")
        }
        guard !path.isRoot else { throw ProtocolError("destination \(destination) is the agent's data root itself; name a folder under it") }
        return path
    }
}
