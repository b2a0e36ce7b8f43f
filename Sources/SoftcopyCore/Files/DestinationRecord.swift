/// What softcopy knows a destination file holds: the source version its bytes came from,
/// their checksum as verified where they landed, and the destination file's inode (so a
/// file replaced behind softcopy's back is noticed), and which consumer holds it (0 for
/// the coordinator's own local copy, else the agent's number).
public struct DestinationRecord: Sendable, Hashable {
    public var version: FileVersion
    public var checksum: Checksum
    public var inode: UInt64
    public var holder: NodeID

    public init(version: FileVersion, checksum: Checksum, inode: UInt64, holder: NodeID = .local) {
        self.version = version
        self.checksum = checksum
        self.inode = inode
        self.holder = holder
    }
}
