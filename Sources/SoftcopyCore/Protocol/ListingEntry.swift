/// One file or folder in an agent's listing.
public struct ListingEntry: Sendable, Hashable {
    public var path: RelativePath
    public var isDirectory: Bool
    /// A folder with zarr metadata in it (PYME's "dataset" flag).
    public var isDataset: Bool
    /// Bytes for a file; entries for a folder (as PYME does).
    public var size: UInt64
    public var checksum: Checksum?
    /// The source version the agent recorded when it wrote the file, if it did.
    public var sourceVersion: FileVersion?

    public init(path: RelativePath, isDirectory: Bool = false, isDataset: Bool = false, size: UInt64,
                checksum: Checksum? = nil, sourceVersion: FileVersion? = nil) {
        self.path = path
        self.isDirectory = isDirectory
        self.isDataset = isDataset
        self.size = size
        self.checksum = checksum
        self.sourceVersion = sourceVersion
    }

    /// PYME's flags bitfield: 0x01 folder, 0x02 dataset.
    public var flags: Int { (isDirectory ? 1 : 0) | (isDataset ? 2 : 0) }

    /// Whether this file is the copy `record` describes: same size and checksum, and, where
    /// the agent recorded it, written from the same source version.
    public func matches(_ record: DestinationRecord) -> Bool {
        guard !isDirectory, size == record.version.size, checksum == record.checksum else { return false }
        if let sourceVersion, sourceVersion != record.version { return false }
        return true
    }
}
