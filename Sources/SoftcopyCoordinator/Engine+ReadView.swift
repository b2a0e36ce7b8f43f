import SoftcopyCore

extension Engine {
    /// The read view's answer for `path` of the target `lane` belongs to, from the
    /// trackers of all its lanes (its replicas): the newest copy any lane has,
    /// with every lane's node that holds the same bytes; else "later" for a key whose copy is being made again; else the folder of the keys held
    /// under it. `holder` names a node and says where its API is.
    func readView(lane: LaneID, path: RelativePath, holder: (NodeID) -> ReadViewAnswer.Holder) -> ReadViewAnswer {
        let lanes = lanes(of: target(ofLane: lane))
        let found = lanes.compactMap { l in peek(l) { $0.tracker.servedCopy(path) } }
        let copies = found.compactMap { if case .held(let d) = $0 { d } else { nil } }
        // Replicas that disagree: the newer source version is the archive's.
        if let first = copies.max(by: { $0.version.mtimeNanoseconds < $1.version.mtimeNanoseconds }) {
            var nodes: [NodeID] = []
            for copy in copies where copy.checksum == first.checksum && !nodes.contains(copy.holder) { nodes.append(copy.holder) }
            return .file(.init(size: first.version.size, checksum: first.checksum, holders: nodes.map(holder)))
        }
        if !found.isEmpty { return .pending }
        let paths = lanes.flatMap { l in peek(l) { $0.tracker.servedPaths(under: path) } }
        return ReadViewAnswer.children(of: path, among: paths).map { .folder($0) } ?? .absent
    }
}
