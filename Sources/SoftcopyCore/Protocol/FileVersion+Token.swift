extension FileVersion {
    /// The version as one header-safe token, `inode:size:mtime_ns:ctime_ns`.
    public var token: String {
        "\(inode):\(size):\(mtimeNanoseconds):\(ctimeNanoseconds)"
    }

    public init?(token: some StringProtocol) {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, let inode = UInt64(parts[0]), let size = UInt64(parts[1]),
              let mtime = Int64(parts[2]), let ctime = Int64(parts[3]) else { return nil }
        self.init(inode: inode, size: size, mtimeNanoseconds: mtime, ctimeNanoseconds: ctime)
    }

    /// Whether this version of a key is older than `other`: change times only move forward
    /// for one path on one source, so the later ctime is the later write.
    public func isOlder(than other: FileVersion) -> Bool {
        (ctimeNanoseconds, mtimeNanoseconds) < (other.ctimeNanoseconds, other.mtimeNanoseconds)
    }
}
