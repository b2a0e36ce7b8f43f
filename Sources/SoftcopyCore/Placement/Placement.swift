/// The placement policy of one target: which node may take a key that is ready, decided
/// at lease time when a node asks for work (agents pull, so placement is a yes or no to
/// each asker). Pure: nodes, sizes and holders are passed in.
public struct Placement: Sendable, Hashable {
    public var kind: PlacementKind
    /// Locality: how many leading grid indices form a group.
    public var localityDimensions: Int
    /// Copies of every key on distinct nodes.
    public var replicas: Int
    /// A node whose free space would fall below this gets nothing more.
    public var reserve: UInt64

    /// Free space assumed for a node that has not reported any.
    static let unknownFreeBytes: UInt64 = 1 << 40

    public init(kind: PlacementKind = .balanced, localityDimensions: Int = 1, replicas: Int = 1, reserve: UInt64 = 1 << 30) {
        self.kind = kind
        self.localityDimensions = localityDimensions
        self.replicas = replicas
        self.reserve = reserve
    }

    /// One ready key offered to an asking node.
    public struct Offer: Sendable {
        public var size: UInt64
        /// Who holds this copy of the key now (nil: nobody yet).
        public var holder: NodeID?
        /// Nodes that hold or are writing the key's other copies (replicas).
        public var otherCopies: [NodeID]
        /// The locality group; needed only by `locality`.
        public var group: String

        public init(size: UInt64, holder: NodeID?, otherCopies: [NodeID] = [], group: String = "") {
            self.size = size
            self.holder = holder
            self.otherCopies = otherCopies
            self.group = group
        }
    }

    /// Whether `node` has room for `size` more bytes above the reserve.
    public func hasRoom(_ node: PlacementNode, for size: UInt64) -> Bool {
        guard let free = node.expectedFreeBytes else { return true }
        return free >= reserve && free - reserve >= size
    }

    /// Whether `asker` may take `offer`, given every node's state.
    public func accepts(_ offer: Offer, asker: NodeID, nodes: [PlacementNode]) -> Bool {
        decide(offer, asker: asker, nodes: nodes) == .take
    }

    public func decide(_ offer: Offer, asker: NodeID, nodes: [PlacementNode]) -> PlacementDecision {
        guard let me = nodes.first(where: { $0.id == asker }), me.attached else { return .stop }
        // Two copies of one key never share a node.
        if offer.otherCopies.contains(asker) { return .skip }
        // A new version (or a deletion) goes where the old copy is, while that node is
        // here: a key never ends up on two nodes. On a shared filesystem any node will do.
        if let holder = offer.holder, kind != .shared {
            if holder == asker { return .take }
            if nodes.contains(where: { $0.id == holder && $0.attached }) { return .skip }
        }
        let candidates = nodes.filter { $0.attached && !offer.otherCopies.contains($0.id) && hasRoom($0, for: offer.size) }
        guard candidates.contains(where: { $0.id == asker }) else { return .skip }
        switch kind {
        case .shared:
            return .take
        case .locality:
            return RendezvousHash.ranked(candidates, group: offer.group).first?.id == asker ? .take : .skip
        case .balanced:
            // The least loaded node that is asking for work (or working) takes the chunk:
            // idle nodes share ready chunks one by one, busy ones in batches.
            let load = { (n: PlacementNode) -> Double in
                Double(n.outstandingBytes) / Double(max(n.freeBytes ?? Self.unknownFreeBytes, 1))
            }
            let least = candidates.filter { $0.pulling || $0.outstandingBytes > 0 || $0.id == asker }.map(load).min() ?? 0
            return load(me) <= least ? .take : .stop
        }
    }

    /// Why the policy cannot be met with these nodes, or nil if it can. A node has room
    /// if a file of `typicalSize` (the archive's average) still fits above the reserve.
    public func problem(nodes: [PlacementNode], typicalSize: UInt64 = 0) -> PlacementProblem? {
        let attached = nodes.filter(\.attached)
        if attached.isEmpty { return PlacementProblem(kind: .noNode, message: "no agent is attached") }
        let roomy = attached.filter { hasRoom($0, for: typicalSize) }
        if roomy.isEmpty {
            let list = attached.map { "\($0.name) (\(Quantity.formatBytes($0.expectedFreeBytes ?? 0)) free)" }.joined(separator: ", ")
            let files = typicalSize > 0 ? " for files of about \(Quantity.formatBytes(typicalSize))" : ""
            return PlacementProblem(kind: .noRoom, message: "no node has room\(files) above the free-space reserve (\(Quantity.formatBytes(reserve)) here, plus each agent's own): \(list)")
        }
        if replicas > roomy.count {
            let names = roomy.map(\.name).joined(separator: ", ")
            return PlacementProblem(kind: .tooFewNodes, message: "replicas: \(replicas) needs \(replicas) nodes with room, but only \(roomy.count) \(roomy.count == 1 ? "has" : "have") it (\(names))")
        }
        return nil
    }

    /// Asks about the keys of one lease call in turn, counting what the asker took.
    public struct Round: Sendable {
        public let placement: Placement
        public let asker: NodeID
        public private(set) var nodes: [PlacementNode]

        public init(placement: Placement, asker: NodeID, nodes: [PlacementNode]) {
            self.placement = placement
            self.asker = asker
            self.nodes = nodes
        }

        public mutating func offer(_ offer: Offer) -> PlacementDecision {
            let decision = placement.decide(offer, asker: asker, nodes: nodes)
            if decision == .take, let i = nodes.firstIndex(where: { $0.id == asker }) {
                nodes[i].outstandingBytes &+= offer.size
            }
            return decision
        }
    }

    public var description: String {
        var s = kind.rawValue
        if kind == .locality { s += " (first \(localityDimensions) grid \(localityDimensions == 1 ? "index" : "indices"))" }
        if replicas > 1 { s += ", \(replicas) replicas" }
        return s
    }
}
