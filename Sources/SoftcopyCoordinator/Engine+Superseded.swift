import Logging
import Synchronization
import SoftcopyCore
import SoftcopyIO

extension Engine {
    /// Moves a lane's displaced copies into its target's superseded copies (lock held).
    func absorbDisplaced(_ lane: Int) {
        for d in targets[lane].tracker.drainDisplaced() { noteSuperseded(laneTarget[lane], d.path, on: d.node, d.copy) }
    }

    /// A copy of `path` on `node` that target `target`'s record may not name (lock held).
    /// Only where there are several nodes: a local copy alone has one, and on a shared
    /// filesystem every agent's copy is the same file.
    func noteSuperseded(_ target: Int, _ path: RelativePath, on node: UInt32, _ copy: SupersededCopies.Copy) {
        guard tracksSuperseded, placements[target].kind != .shared else { return }
        superseded[target].add(path, on: node, copy)
    }

    /// How target `target`'s record stands to `path` on `node` (lock held).
    func naming(_ target: Int, _ path: RelativePath, _ node: UInt32) -> SupersededCopies.Naming {
        var leased = false
        for lane in targetLanes[target] {
            if targets[lane].tracker.destinationRecord(of: path)?.holder == node { return .holder }
            if targets[lane].tracker.leaseHolder(of: path) == node { leased = true }
        }
        return leased ? .leased : .none
    }

    /// Up to `limit` keys of target `target` whose copies on `node` are superseded, to
    /// remove now; no lease of them goes to `node` until `finishRemovals`.
    func takeRemovals(_ target: Int, node: UInt32, limit: Int) -> [RelativePath] {
        lock.withLock {
            superseded[target].takeRemovals(on: node, limit: limit) { naming(target, $0, node) }
        }
    }

    func finishRemovals(_ target: Int, node: UInt32, removed: [RelativePath], kept: [RelativePath]) {
        lock.withLock {
            superseded[target].finish(on: node, removed: removed, kept: kept)
            lock.broadcast()
        }
        onChange?()
    }

    /// The nodes that may still hold superseded copies of target `target`'s keys, with
    /// the keys (the record names another node, or none, for each).
    func supersededCopies(_ target: Int) -> [(node: UInt32, paths: [RelativePath])] {
        lock.withLock {
            superseded[target].nodes.compactMap { node in
                let paths = superseded[target].paths(on: node).filter { naming(target, $0, node) != .holder }
                return paths.isEmpty ? nil : (node, paths)
            }
        }
    }
}
