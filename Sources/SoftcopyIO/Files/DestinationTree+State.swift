import Glibc
public import SoftcopyCore

/// softcopy's own files at a destination root (`.softcopy/`): the lock, the record of
/// which source the copy is of. Reached beneath the root's descriptor, as every other
/// file there, so they are where the copy is, whatever is mounted on the path since.
extension DestinationTree {
    /// Opens (creating if needed) `.softcopy/NAME` for reading and writing, in place: a
    /// lock must stay on one inode, so this is not the temp-and-rename of `beginWrite`.
    public func openStateFile(_ name: String) throws(SystemError) -> FileDescriptor {
        let folder = try openDirectory(RelativePath(unchecked: Self.stateDirectoryName), create: true)
        let raw = folder.rawValue
        let fd = try syscallRetrying("open", path: displayPath(RelativePath(unchecked: Self.stateDirectoryName + "/" + name))) {
            PathBytes.withCString(name) { openat(raw, $0, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644) }
        }
        return FileDescriptor(owning: fd)
    }

    /// The source this destination holds a copy of, if one is recorded.
    public func origin() throws(SystemError) -> CopyOrigin? {
        guard let (bytes, _) = try readWhole(CopyOrigin.relativePath, limit: 64 * 1024),
              let json = try? JSONParser.parse(bytes: bytes) else { return nil }
        return try? CopyOrigin(json: json)
    }

    /// A file of softcopy's own (the origin, the manifest) whole, with the status it was
    /// read at; nil when there is none (or it is not a regular file). Larger than `limit`
    /// is an error (EFBIG), never a partial read.
    public func readWhole(_ path: RelativePath, limit: Int) throws(SystemError) -> (bytes: [UInt8], status: FileStatus)? {
        guard let file = try openForReading(path) else { return nil }
        let status = try file.status(path: displayPath(path))
        guard status.kind == .regular else { return nil }
        guard status.version.size <= UInt64(limit) else { throw SystemError("read", path: displayPath(path), errno: EFBIG) }
        return (try file.readAll(upTo: Int(status.version.size), path: displayPath(path)), status)
    }

    /// Records (atomically) the source this destination holds a copy of.
    public func recordOrigin(_ origin: CopyOrigin) throws(SystemError) {
        try writeWhole(CopyOrigin.relativePath, Array((origin.json.serialized(indent: 1) + "\n").utf8))
    }

    /// Writes a small file whole (the origin, the manifest): under a temp name, synced,
    /// renamed over `path`, and the folder synced; a reader sees the old file or the new.
    public func writeWhole(_ path: RelativePath, _ bytes: [UInt8]) throws(SystemError) {
        let pending = try beginWrite(path)
        try pending.write(bytes)
        try pending.finish(mode: 0o644, modificationTime: nil)
        _ = try pending.commit(syncDirectory: true)
    }
}
