/// How a target's chunks are spread over the agents (docs/placement.md).
public enum PlacementKind: String, Sendable, CaseIterable {
    /// The agent with the least outstanding work relative to its free space takes the chunk.
    case balanced
    /// Chunks that share a key prefix (such as the time point) share a node, chosen by
    /// rendezvous hashing, so placement is reproducible.
    case locality
    /// Every agent writes the same shared filesystem: any agent may take any chunk.
    case shared
}

/// What to do when the placement policy cannot be met (too few agents, no room).
public enum UnsatisfiableAction: String, Sendable, CaseIterable {
    /// Keep the run going and wait for an agent (or space) to appear; the problem is logged.
    case wait
    /// End the run as incomplete, naming what is missing.
    case stop
}

/// The answer to one key offered to an asking node.
public enum PlacementDecision: Sendable, Hashable {
    case take
    /// Not this key; others may do.
    case skip
    /// Nothing more for this node in this call (it has its share).
    case stop
}

/// Why a placement cannot be met now.
public struct PlacementProblem: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No node is attached.
        case noNode
        /// Every node is below the free-space reserve.
        case noRoom
        /// Fewer nodes with room than the replicas need.
        case tooFewNodes
    }

    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
