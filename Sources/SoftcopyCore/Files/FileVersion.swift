/// What identifies one version of a file: inode, size, mtime and ctime.
///
/// Inodes alone repeat (a rename-over frees one and the next file may reuse it), and
/// mtime alone can stand still across a fast rewrite, so all four are compared.
public struct FileVersion: Sendable, Hashable, CustomStringConvertible {
    public var inode: UInt64
    public var size: UInt64
    public var mtimeNanoseconds: Int64
    public var ctimeNanoseconds: Int64

    public init(inode: UInt64, size: UInt64, mtimeNanoseconds: Int64, ctimeNanoseconds: Int64) {
        self.inode = inode
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.ctimeNanoseconds = ctimeNanoseconds
    }

    public var description: String {
        "ino \(inode) size \(size) mtime \(mtimeNanoseconds) ctime \(ctimeNanoseconds)"
    }
}
