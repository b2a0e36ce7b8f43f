/// What placement knows about one node that may receive work: an agent, or the
/// coordinator's own local copier (id 0) when it copies to a local destination.
public struct PlacementNode: Sendable, Hashable {
    public var id: NodeID
    /// The node's name (stable across restarts; rendezvous hashing uses it).
    public var name: String
    /// Free bytes under its data root at the last health check; nil when unknown.
    public var freeBytes: UInt64?
    /// Bytes leased to it and not yet acknowledged.
    public var outstandingBytes: UInt64
    /// Attached and answering: it may receive work, and keys it holds stay with it.
    public var attached: Bool
    /// Asked for work lately: balanced placement weighs only nodes that are pulling or
    /// working, so an attached node that never asks cannot hold the others back.
    public var pulling: Bool

    public init(id: NodeID, name: String, freeBytes: UInt64?, outstandingBytes: UInt64 = 0, attached: Bool = true, pulling: Bool = true) {
        self.id = id
        self.name = name
        self.freeBytes = freeBytes
        self.outstandingBytes = outstandingBytes
        self.attached = attached
        self.pulling = pulling
    }

    /// Free bytes once what is leased to it has landed.
    public var expectedFreeBytes: UInt64? {
        freeBytes.map { $0 > outstandingBytes ? $0 - outstandingBytes : 0 }
    }
}
