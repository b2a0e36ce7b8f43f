/// What a file an agent lists when it attaches becomes in the placement record, given
/// what each lane (copy) of the key records now. One copy per lane, each lane's on its own
/// node: a copy that no lane can take is superseded, and is removed from that node.
public enum SeedDecision: Sendable, Hashable {
    /// The lane already names this node: its record is refreshed from the listing.
    case keep(lane: Int)
    /// A lane that names nobody yet: this node becomes its holder.
    case take(lane: Int)
    /// This copy is newer than the lane's, or as new while the lane's holder is away (or
    /// comes later in the order of nodes): this node becomes the holder, and the old
    /// holder's copy is superseded.
    case adopt(lane: Int, displacing: DestinationRecord)
    /// Every lane names another node with a copy at least as good: this one is superseded.
    case superseded

    /// `lanes[i]` is what lane i records for the key (nil: nobody holds it); `attached`
    /// says whether a node is reachable now. Newer means a later source version (ctime,
    /// then mtime): a writer that renames a new file over a key never goes back in time.
    public static func decide(node: NodeID, listed: FileVersion, lanes: [DestinationRecord?], attached: (NodeID) -> Bool) -> SeedDecision {
        if let lane = lanes.firstIndex(where: { $0?.holder == node }) { return .keep(lane: lane) }
        if let lane = lanes.firstIndex(where: { $0 == nil }) { return .take(lane: lane) }
        let held = lanes.enumerated().compactMap { lane, record in record.map { (lane, $0) } }
        // The oldest copy that this one is newer than.
        let older = held.filter { $0.1.version.isOlder(than: listed) }
            .min { $0.1.version.isOlder(than: $1.1.version) }
        if let (lane, record) = older { return .adopt(lane: lane, displacing: record) }
        // The same version where the holder is away: the copy that can be checked wins.
        // Both here: the node named first (the lower number) wins, whichever attached
        // first, so reruns of one configuration settle the same way.
        if let (lane, record) = held.first(where: { $0.1.version == listed && (!attached($0.1.holder) || node < $0.1.holder) }) {
            return .adopt(lane: lane, displacing: record)
        }
        return .superseded
    }
}
