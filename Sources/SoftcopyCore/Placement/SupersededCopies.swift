/// Copies of keys on nodes that the placement record does not name. The record (each
/// lane's holder of each key, in the trackers) says where the current copy of a key is;
/// any other copy of that key on any node is superseded: an older version left on a node
/// the work moved away from while it was down or full, a duplicate of a key another node
/// holds, a file an agent wrote for a lease that had already expired. They are removed
/// when a coordinator next reaches their node (never a copy the record names, so never
/// the last good copy of anything), and until then they are listed, so that no reader of
/// the merged listings takes one for the copy.
///
/// Pure bookkeeping: the caller says which copies it learned of, asks for the removals a
/// node is due, and reports what became of them.
public struct SupersededCopies: Sendable {
    /// What is known of one superseded copy (nil: it may be there, e.g. written for an
    /// expired lease), for the summary and the manifest.
    public struct Copy: Sendable, Hashable {
        public var version: FileVersion?
        public var checksum: Checksum?

        public init(version: FileVersion? = nil, checksum: Checksum? = nil) {
            self.version = version
            self.checksum = checksum
        }
    }

    /// How the record stands to one key on one node.
    public enum Naming: Sendable, Hashable {
        /// The record names the node: its copy is the current one, nothing to remove.
        case holder
        /// A write of the key to that node is under way: decide once it is done.
        case leased
        /// The record does not name the node: its copy is superseded.
        case none
    }

    private var byNode: [NodeID: [RelativePath: Copy]] = [:]
    /// Removals handed out and not yet reported: no lease of that key goes to that node
    /// meanwhile, so a removal never meets a new write of the same key.
    private var removing: [NodeID: Set<RelativePath>] = [:]

    public init() {}

    /// A copy of `path` on `node` that the record may no longer name.
    public mutating func add(_ path: RelativePath, on node: NodeID, _ copy: Copy = Copy()) {
        byNode[node, default: [:]][path] = copy
    }

    public var isEmpty: Bool { byNode.values.allSatisfy(\.isEmpty) }

    /// The nodes that may hold superseded copies, in order.
    public var nodes: [NodeID] { byNode.filter { !$0.value.isEmpty }.keys.sorted() }

    public func count(on node: NodeID) -> Int { byNode[node]?.count ?? 0 }

    /// The keys `node` may hold superseded copies of, sorted.
    public func paths(on node: NodeID) -> [RelativePath] { (byNode[node]?.keys).map { $0.sorted() } ?? [] }

    public func copy(of path: RelativePath, on node: NodeID) -> Copy? { byNode[node]?[path] }

    public func isBeingRemoved(_ path: RelativePath, from node: NodeID) -> Bool {
        removing[node]?.contains(path) ?? false
    }

    /// Up to `limit` keys whose copies on `node` are to be removed now, marked as being
    /// removed until `finish`. Keys the record names `node` for are forgotten (the node
    /// holds the current copy); keys being written to `node` wait.
    public mutating func takeRemovals(on node: NodeID, limit: Int, naming: (RelativePath) -> Naming) -> [RelativePath] {
        guard let entries = byNode[node], limit > 0 else { return [] }
        var taken: [RelativePath] = []
        for path in entries.keys.sorted() where !isBeingRemoved(path, from: node) {
            switch naming(path) {
            case .holder:
                byNode[node]?[path] = nil
            case .leased:
                continue
            case .none:
                taken.append(path)
                removing[node, default: []].insert(path)
            }
            if taken.count == limit { break }
        }
        return taken
    }

    /// What became of removals: `removed` (or found absent) are forgotten, the rest stay
    /// for the next time the node is reached.
    public mutating func finish(on node: NodeID, removed: [RelativePath], kept: [RelativePath]) {
        for path in removed {
            byNode[node]?[path] = nil
            removing[node]?.remove(path)
        }
        for path in kept { removing[node]?.remove(path) }
    }
}
