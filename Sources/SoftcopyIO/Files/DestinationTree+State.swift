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
        guard let file = try openForReading(CopyOrigin.relativePath) else { return nil }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        let n = try file.read(into: buffer, at: 0, path: displayPath(CopyOrigin.relativePath))
        guard let json = try? JSONParser.parse(bytes: Array(buffer[..<n])) else { return nil }
        return try? CopyOrigin(json: json)
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
