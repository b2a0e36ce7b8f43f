import Logging
import Synchronization
import SoftcopyCore
import SoftcopyIO

extension Engine {
    /// Up to `limit` keys of target `target` whose copies on `node` are superseded, to
    /// remove now; no lease of them goes to `node` until `finishRemovals`.
    func takeRemovals(_ target: TargetIndex, node: NodeID, limit: Int) -> [RelativePath] {
        state.withLock { s in
            // Taken out while it works, so it can ask the record without overlapping access.
            var copies = SupersededCopies()
            swap(&copies, &s.superseded[target.rawValue])
            defer { swap(&copies, &s.superseded[target.rawValue]) }
            return copies.takeRemovals(on: node, limit: limit) { s.naming(target, $0, node) }
        }
    }

    func finishRemovals(_ target: TargetIndex, node: NodeID, removed: [RelativePath], kept: [RelativePath]) {
        state.withLock { $0.superseded[target.rawValue].finish(on: node, removed: removed, kept: kept) }
        state.broadcast()
        changed()
    }

    /// The nodes that may still hold superseded copies of target `target`'s keys, with
    /// the keys (the record names another node, or none, for each).
    func supersededCopies(_ target: TargetIndex) -> [(node: NodeID, paths: [RelativePath])] {
        state.withLock { s in
            s.superseded[target.rawValue].nodes.compactMap { node in
                let paths = s.superseded[target.rawValue].paths(on: node).filter { s.naming(target, $0, node) != .holder }
                return paths.isEmpty ? nil : (node, paths)
            }
        }
    }
}
