/// The coordinator attaches its job to an agent: `POST /v1/jobs` on the agent. It says
/// where to pull from, which number the agent has in this job, and where each target's
/// files go under the agent's root.
public struct JobAttachment: Sendable, Hashable {
    public struct Target: Sendable, Hashable {
        public var index: Int
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

        public init(index: Int, destination: String, origin: CopyOrigin? = nil, replace: Bool = false, exclusive: Bool = true) {
            self.index = index
            self.destination = destination
            self.origin = origin
            self.replace = replace
            self.exclusive = exclusive
        }
    }

    public var job: String
    public var coordinator: String
    public var agent: UInt32
    public var targets: [Target]

    public init(job: String, coordinator: String, agent: UInt32, targets: [Target]) {
        self.job = job
        self.coordinator = coordinator
        self.agent = agent
        self.targets = targets
    }

    public var json: JSONValue {
        .object([
            ("job", .string(job)), ("coordinator", .string(coordinator)), ("agent", .integer(agent)),
            ("targets", .array(targets.map { t in
                .object([("index", .integer(t.index)), ("destination", .string(t.destination)),
                         ("origin", t.origin?.json ?? .null), ("replace", .bool(t.replace)), ("exclusive", .bool(t.exclusive))])
            })),
        ])
    }

    public init(json: JSONValue) throws(ProtocolError) {
        let r = try FieldReader(json, context: "attach")
        job = try r.string("job")
        guard Self.isValidJobName(job) else {
            throw ProtocolError("attach: 'job' must be 1 to 64 letters, digits, '-' or '_', found \(job.debugDescription)")
        }
        coordinator = try r.string("coordinator")
        guard coordinator.hasPrefix("http://") || coordinator.hasPrefix("https://"), coordinator.utf8.count < 2048 else {
            throw ProtocolError("attach: 'coordinator' must be an http:// or https:// URL, found \(coordinator.debugDescription)")
        }
        self.agent = try r.agentNumber()
        var targets: [Target] = []
        for (n, value) in try r.array("targets").enumerated() {
            let t = try FieldReader(value, context: "attach target \(n + 1)")
            let index = try t.index("index")
            let destination = try t.string("destination")
            guard !destination.isEmpty, !destination.utf8.contains(0) else {
                throw ProtocolError("attach target \(n + 1): 'destination' must be a non-empty path")
            }
            let origin = try t.value["origin"].flatMap { v throws(ProtocolError) in v == .null ? nil : try CopyOrigin(json: v) }
            targets.append(Target(index: index, destination: destination, origin: origin, replace: try t.bool("replace", default: false),
                                  exclusive: try t.bool("exclusive", default: true)))
        }
        guard !targets.isEmpty else { throw ProtocolError("attach: 'targets' is empty") }
        self.targets = targets
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
