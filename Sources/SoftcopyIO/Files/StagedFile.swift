public import SoftcopyCore

/// A `PendingFile` that is written and settled and waits for its batch: the batch syncs
/// all of its staged files, then renames them, then makes the renames durable
/// (`DestinationTree.commit`), so the journal commits once per
/// batch rather than once or twice per file. A class because a batch holds several and
/// arrays need copyable elements; dropped unrenamed, it removes its temp file as the
/// PendingFile would.
public final class StagedFile {
    private var pending: PendingFile
    public let path: RelativePath
    /// The file's status when staged; its inode and device stay the same through the rename.
    public let status: FileStatus

    public init(_ pending: consuming PendingFile, path: RelativePath) throws(SystemError) {
        self.status = try pending.status()
        self.path = path
        self.pending = pending
    }

    public var displayPath: String { pending.displayPath }

    /// fsync of the file.
    func sync() throws(SystemError) {
        try pending.sync()
    }

    /// fsync of the file's folder.
    func syncDirectory() throws(SystemError) {
        try pending.syncDirectory()
    }

    /// syncfs of the filesystem the file is on.
    func syncFileSystem() throws(SystemError) {
        try pending.syncFileSystem()
    }

    /// fstat of the file now: after the rename its ctime has moved on from `status`'s.
    public func currentStatus() throws(SystemError) -> FileStatus {
        try pending.status()
    }

    /// Opens the file that has the real name now, if any: what the rename would replace.
    public func openExisting() throws(SystemError) -> FileDescriptor? {
        try pending.openFinal()
    }

    /// `size` staged bytes from `offset` (fewer where the file ends): an object store
    /// uploads them from here, whole or part by part.
    public func read(size: Int, at offset: UInt64 = 0) throws(SystemError) -> [UInt8] {
        try pending.read(size: size, at: offset)
    }

    /// Renames the temp file over the real name; its folder is synced by the batch.
    public func rename() throws(SystemError) {
        try pending.renameIntoPlace()
    }
}
