/// Highest-random-weight (rendezvous) hashing: every node gets a weight per group, and
/// the heaviest wins. The order depends only on the group and the node names, so the
/// same archive lands the same way on every run, and a node that leaves moves only its
/// own groups.
public enum RendezvousHash {
    /// 64-bit FNV-1a over the group, a separator, and the name, finished with the
    /// splitmix64 mixer so that similar names do not get similar weights.
    public static func weight(group: String, node: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in group.utf8 {
            h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        h = (h ^ 0xff) &* 0x100_0000_01b3
        for byte in node.utf8 {
            h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }

    /// The nodes from most to least preferred for `group` (ties broken by name).
    public static func ranked(_ nodes: [PlacementNode], group: String) -> [PlacementNode] {
        nodes.map { (node: $0, weight: weight(group: group, node: $0.name)) }
            .sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.node.name < $1.node.name }
            .map(\.node)
    }
}
